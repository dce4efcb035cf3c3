build-me/obj/daemon/engine/tensor.o: daemon/engine/tensor.c \
 daemon/engine/tensor.h
daemon/engine/tensor.h:
