build-me/obj/daemon/engine/err.o: daemon/engine/err.c daemon/engine/err.h
daemon/engine/err.h:
