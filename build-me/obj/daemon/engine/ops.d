build-me/obj/daemon/engine/ops.o: daemon/engine/ops.c daemon/engine/ops.h \
 daemon/engine/err.h daemon/engine/tensor.h daemon/engine/op_shape.h \
 daemon/engine/ops_cl.h daemon/engine/ops_ref.h
daemon/engine/ops.h:
daemon/engine/err.h:
daemon/engine/tensor.h:
daemon/engine/op_shape.h:
daemon/engine/ops_cl.h:
daemon/engine/ops_ref.h:
