# convd — one non-recursive Makefile. `make` builds, `make check` installs
# what is missing and runs every test, `make run` serves the shipped models.

CC      ?= gcc
PKGS    := libmicrohttpd jansson libturbojpeg libpng OpenCL
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-format-truncation \
           -Idaemon -Ibuild/gen -DCL_TARGET_OPENCL_VERSION=120 \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
PYTHON  := /usr/bin/python3
B       := build

ENGINE_SRC := $(wildcard daemon/engine/*.c)
MEDIA_SRC  := $(wildcard daemon/media/*.c)
SERVER_SRC := $(filter-out daemon/server/main.c,$(wildcard daemon/server/*.c))
LIB_SRC    := $(ENGINE_SRC) $(MEDIA_SRC)
LIB_OBJ    := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/kernels_embed.o
# The server layer is an archive: a test pulls only the modules it uses.
SERVER_LIB := $(B)/libconvd_server.a
KERNELS    := $(sort $(wildcard kernels/*.cl))
TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(B)/tests/%)

DEB_BUILD := gcc make pkg-config libmicrohttpd-dev libjansson-dev \
  libjpeg62-turbo-dev libturbojpeg0-dev libpng-dev ocl-icd-opencl-dev \
  opencl-headers pocl-opencl-icd clinfo check
DEB_TOOLS := python3-torch python3-torchvision python3-numpy python3-skimage python3-pil \
  valgrind curl wrk prometheus espeak-ng sox dataset-fashion-mnist
DEB_ALL   := $(DEB_BUILD) $(DEB_TOOLS)

.PHONY: all deps check test memcheck golden run zoo bench bench-load bench-families clean
.SECONDARY:
all: $(B)/convd-infer $(B)/convd

$(B)/gen/kernels_embed.c: $(KERNELS) tools/embed_kernels.sh
	@mkdir -p $(dir $@)
	sh tools/embed_kernels.sh $(KERNELS) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/kernels_embed.o: $(B)/gen/kernels_embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/convd-infer: $(B)/obj/daemon/cli/convd_infer.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(SERVER_LIB): $(SERVER_SRC:%.c=$(B)/obj/%.o)
	rm -f $@ && ar rcs $@ $^

$(B)/convd: $(B)/obj/daemon/server/main.o $(SERVER_LIB) $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $(B)/obj/daemon/server/main.o $(SERVER_LIB) $(LIB_OBJ) $(LDLIBS)

$(B)/tests/%: $(B)/obj/tests/%.o $(SERVER_LIB) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(B)/obj/tests/$*.o $(SERVER_LIB) $(LIB_OBJ) $(CHECK_LIBS) $(LDLIBS)

deps:
	@missing=$$(for p in $(DEB_ALL); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing:" $$missing; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "deps: all present"; fi

# Golden fixtures: torchvision models converted and run by PyTorch.
golden: all
	OPENBLAS_NUM_THREADS=1 $(PYTHON) tools/make_golden.py --out $(B)/golden
	OPENBLAS_NUM_THREADS=1 $(PYTHON) tools/make_family_golden.py --out $(B)/golden

test: all $(TEST_BIN)
	@failed=""; for t in $(TEST_BIN); do echo "== $$t"; \
	  CD_BUILD=$(B) $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; exit 1; fi
	OPENBLAS_NUM_THREADS=1 $(PYTHON) -m unittest discover -s tests/tools

# Loaders and decoders must not leak on hostile input: run them under valgrind.
MEMCHECK_TESTS := test_safetensors test_model test_image test_npy test_kserve \
  test_multipart test_config test_wav test_audio_features
memcheck: $(MEMCHECK_TESTS:%=$(B)/tests/%)
	@set -e; for t in $^; do echo "== valgrind $$t"; \
	  CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=9 $$t; done

check: deps
	$(MAKE) all
	$(MAKE) test
	$(MAKE) memcheck
	$(MAKE) golden
	sh tests/golden/run.sh $(B)
	sh tests/zoo/run.sh $(B)
	sh tests/integration/run.sh $(B)

run: deps all
	$(B)/convd --config config/convd.json --models models --host 127.0.0.1 --port 8080

MICRO_SRC := $(wildcard bench/micro/*.c)
MICRO_BIN := $(MICRO_SRC:bench/micro/%.c=$(B)/bench/%)

$(B)/bench/%: $(B)/obj/bench/micro/%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

bench: deps all
	OPENBLAS_NUM_THREADS=1 $(PYTHON) bench/bench_infer.py --build $(B)

# Rebuild the whole zoo from generated data (each model trains in minutes).
zoo: all
	@for m in $$(OPENBLAS_NUM_THREADS=1 $(PYTHON) tools/train.py --list); do \
	  OPENBLAS_NUM_THREADS=1 $(PYTHON) tools/train.py $$m --convd $(B)/convd-infer || exit 1; done

# HTTP load: wrk at concurrency 1, 8, 32 on tiny-demo and resnet18.
bench-load: deps all
	sh bench/load/run.sh -B $(B)

# Per-family kernel micro-benchmarks (GFLOP/s or GB/s on the OpenCL device).
bench-families: all $(MICRO_BIN)
	@for b in $(MICRO_BIN); do $$b; done

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
