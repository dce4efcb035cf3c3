build-me/obj/daemon/engine/ops_pending.o: daemon/engine/ops_pending.c \
 daemon/engine/op_shape.h daemon/engine/ops.h daemon/engine/err.h \
 daemon/engine/tensor.h daemon/engine/ops_cl.h daemon/engine/ops_ref.h
daemon/engine/op_shape.h:
daemon/engine/ops.h:
daemon/engine/err.h:
daemon/engine/tensor.h:
daemon/engine/ops_cl.h:
daemon/engine/ops_ref.h:
