# convd — one non-recursive Makefile. `make` builds, `make check` installs
# what is missing and runs every test, `make run` serves the shipped models.

CC      ?= gcc
PKGS    := libmicrohttpd jansson libturbojpeg libpng OpenCL libsystemd
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-format-truncation \
           -Idaemon -Ibuild/gen -DCL_TARGET_OPENCL_VERSION=120 \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Sanitizer/fuzzer instrumentation, set only by the asan and fuzz builds.
CFLAGS  += $(SAN_CFLAGS)
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
UI_FILES   := $(sort $(wildcard ui/*.html ui/*.css ui/*.js))
TEST_SRC   := $(wildcard tests/test_*.c)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(B)/tests/%)

DEB_BUILD := gcc make pkg-config libmicrohttpd-dev libjansson-dev \
  libjpeg62-turbo-dev libturbojpeg0-dev libpng-dev ocl-icd-opencl-dev \
  opencl-headers pocl-opencl-icd clinfo check clang libclang-rt-14-dev libsystemd-dev
DEB_TOOLS := python3-torch python3-torchvision python3-numpy python3-skimage python3-pil \
  valgrind curl wrk prometheus espeak-ng sox dataset-fashion-mnist python3-matplotlib python3-aiohttp libopenblas0-pthread \
  systemd python3-yaml groff-base strace nginx shellcheck chromium
DEB_ALL   := $(DEB_BUILD) $(DEB_TOOLS)

.PHONY: all deps check test memcheck golden run zoo bench bench-load bench-families clean \
  bench-compare bench-roofline bench-serve bench-smoke
.SECONDARY:
all: $(B)/convd-infer $(B)/convd

$(B)/gen/kernels_embed.c: $(KERNELS) tools/embed_kernels.sh
	@mkdir -p $(dir $@)
	sh tools/embed_kernels.sh $(KERNELS) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/kernels_embed.o: $(B)/gen/kernels_embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The web console (ui/) is embedded in the server archive (api_ui.c).
$(B)/gen/ui_embed.c: $(UI_FILES) tools/embed_ui.sh
	@mkdir -p $(dir $@)
	sh tools/embed_ui.sh $(UI_FILES) > $@.tmp && mv $@.tmp $@

$(B)/obj/gen/ui_embed.o: $(B)/gen/ui_embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(B)/convd-infer: $(B)/obj/daemon/cli/convd_infer.o $(B)/obj/daemon/cli/profile_report.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(SERVER_LIB): $(SERVER_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/ui_embed.o
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
	@# The browser test's driver (tests/ui): Debian's nodejs + npm unless a
	@# node with npm is already there; npm ci only when the lockfile changed.
	@if ! command -v npm >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); echo "installing: nodejs npm"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; fi
	@cd tests/ui && if [ ! -f node_modules/playwright-core/package.json ] || \
	  [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund || echo "deps: npm ci failed in tests/ui: the browser test will be skipped"; fi

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
	$(MAKE) bench-smoke
	sh tests/integration/run.sh $(B)
	sh tests/deploy/run.sh $(B)
	sh tests/ui/run.sh $(B)
	$(MAKE) soak SOAK_SECONDS=45
	$(MAKE) fuzz-smoke
	$(MAKE) asan

# The web console in Debian's headless chromium (skipped if not installed).
ui-test: all
	sh tests/ui/run.sh $(B)
.PHONY: ui-test

run: deps all
	$(B)/convd --config config/convd.json --models models --host 127.0.0.1 --port 8080

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc]: binaries,
# models, config (never overwritten), systemd units, clients, man pages;
# every location can be overridden (see tools/install.sh and
# docs/operations.md). make uninstall removes them again.
PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
DATADIR        ?= $(PREFIX)/share
MANDIR         ?= $(DATADIR)/man
SYSCONFDIR     ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL_ENV = B="$(B)" DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BINDIR="$(BINDIR)" \
  SBINDIR="$(SBINDIR)" DATADIR="$(DATADIR)" MANDIR="$(MANDIR)" \
  SYSCONFDIR="$(SYSCONFDIR)" SYSTEMDUNITDIR="$(SYSTEMDUNITDIR)"

install: all
	$(INSTALL_ENV) sh tools/install.sh install

uninstall:
	$(INSTALL_ENV) sh tools/install.sh uninstall

# The installed unit under a real, private systemd (root; not in check).
check-systemd: all
	sh tests/deploy/systemd_boot.sh $(B)

.PHONY: install uninstall check-systemd

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

# Side by side with PyTorch and a Python server, per-layer roofline
# (docs/performance.md). BENCH_ARGS=--quick for short versions.
$(B)/bench/stream: bench/stream.c
	@mkdir -p $(dir $@)
	$(CC) -O3 -march=native -std=c11 -D_GNU_SOURCE -Wall -Wextra -pthread -o $@ $<
$(B)/bench/peak: bench/peak.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -march=native -std=gnu11 -Wall -Wextra -pthread -o $@ $<
$(B)/bench/poisson: bench/load/poisson.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -lm
bench-compare: deps all
	$(PYTHON) bench/compare.py --build $(B) $(BENCH_ARGS)
bench-roofline: deps all $(B)/bench/stream $(B)/bench/peak
	$(PYTHON) bench/roofline.py --build $(B) $(BENCH_ARGS)
bench-serve: deps all $(B)/bench/poisson
	$(PYTHON) bench/serve_compare.py --build $(B) $(BENCH_ARGS)
# Each bench script in its tiny mode (part of make check, under a minute).
bench-smoke: all $(B)/bench/stream $(B)/bench/peak $(B)/bench/poisson
	sh tests/bench/run.sh $(B)

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- reliability: sanitizers, fuzzing, soak (docs/security.md) ----
# make asan: everything rebuilt with AddressSanitizer + UBSan in its own
# build dir, every unit test, then the integration tests against that daemon.
ASAN_B     := build-asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/asan/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 CK_TIMEOUT_MULTIPLIER=10
# The integration suites that exercise the daemon's own code paths.
ASAN_IT_TESTS := test_server test_media test_hostile test_faults
asan:
	$(MAKE) B=$(ASAN_B) SAN_CFLAGS="$(ASAN_FLAGS)" all $(TEST_SRC:tests/%.c=$(ASAN_B)/tests/%)
	$(ASAN_ENV) CD_BUILD=$(ASAN_B) sh tests/asan/run_units.sh $(TEST_SRC:tests/%.c=$(ASAN_B)/tests/%)
	$(ASAN_ENV) CONVD_IT_TIMEOUT=1800 CONVD_IT_START_TIMEOUT=240 CONVD_IT_TESTS="$(ASAN_IT_TESTS)" \
	  sh tests/integration/run.sh $(ASAN_B)

# make fuzz FUZZ_SECONDS=N: every libFuzzer harness in tests/fuzz for N
# seconds each (clang, ASan + UBSan, build dir build-fuzz). fuzz-smoke runs
# each for FUZZ_SMOKE_SECONDS over its committed corpus (regressions included).
FUZZ_B       := build-fuzz
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -Wno-unknown-warning-option

$(B)/fuzz/fuzz_%: $(B)/obj/tests/fuzz/fuzz_%.o $(SERVER_LIB) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz-build:
	$(MAKE) B=$(FUZZ_B) CC=clang SAN_CFLAGS="$(FUZZ_SAN)" $(FUZZ_NAMES:%=$(FUZZ_B)/fuzz/fuzz_%)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-smoke: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SMOKE_SECONDS) $(FUZZ_NAMES)

# make soak [SOAK_SECONDS=300]: 2x the saturated load for that long
# (bench/soak.py); make check runs a 45-second form.
SOAK_SECONDS ?= 300
soak: all
	OPENBLAS_NUM_THREADS=1 timeout -k 10 $$(( $(SOAK_SECONDS) + 400 )) \
	  $(PYTHON) bench/soak.py --build $(B) --seconds $(SOAK_SECONDS)

.PHONY: asan fuzz fuzz-build fuzz-smoke soak
