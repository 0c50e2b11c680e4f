# SPDX-License-Identifier: MIT
# Makefile - short commands for the CMake build.
#
#   make / make build   install missing packages, configure build/, build
#   make test           build, then run every test with CTest
#   make demo           build, run the shop example 20 s and examine it (~35 s)
#   make soak           the shop SOAK_SECONDS (600) under ASan+UBSan in build-soak/,
#                       then SOAK_VALGRIND_SECONDS (90) under valgrind: snapshots,
#                       kill/recover cycles, pruning, RSS (scripts/soak.sh)
#   make install        install under PREFIX (default /usr/local; DESTDIR works)
#   make asan           ASan+UBSan build in build-asan/, all tests
#   make tsan           TSan build in build-tsan/, the concurrency tests
#   make clang          clang build with -Werror in build-clang/, all tests
#   make fuzz           libFuzzer targets (clang) in build-fuzz/fuzz/
#   make fuzz-long      build them, run each FUZZ_SECONDS (default 600) and
#                       keep the corpus in build-fuzz/corpus/ (scripts/fuzz-long.sh)
#   make bench          benchmarks against peer loggers, one table (~15 min)
#   make bench-quick    the same, 1 round with small counts (under a minute)
#   make bench-smoke    ttlog's benchmark programs, built and run once, briefly:
#                       fails if one crashes or gives no result (CI runs it)
#   make clean          remove every build directory
#
# Variables: CC (default gcc), PREFIX, JOBS (default 2), WERROR (ON or OFF;
# ON when CI is set, so that CI's `make test` fails on any warning),
# BENCH_ARGS (more options for bench/run.py, e.g. BENCH_ARGS="--only ttlog"),
# NANOLOG_DIR and QUILL_DIR (source trees of the two peers the benchmarks
# build from source; see bench/README.md; unset: reported as not run).
# Every target re-runs the CMake configure step, which is quick when nothing
# changed and keeps the build directory in step with these variables.

# make's built-in default for CC is "cc"; only an explicit choice overrides gcc.
ifeq ($(origin CC),default)
CC := gcc
endif

PREFIX ?= /usr/local
JOBS ?= 2
WERROR ?= $(if $(filter true 1 yes,$(CI)),ON,OFF)

CMAKE ?= cmake
CTEST ?= ctest
DEPS := bash scripts/install-deps.sh

# --no-tests=error: a test run that finds no tests is a broken run.
# SKIP_LABELS (a regular expression over CTest labels) leaves tests out of
# the clang and asan runs; .ci/run gives "static" (the tests whose answer
# does not depend on the build, which its gcc run has given) and, for clang,
# "browser" as well.
CTEST_FLAGS := --output-on-failure --no-tests=error -j$(JOBS)
SKIP_LABELS ?=
CTEST_SKIP = $(if $(SKIP_LABELS),-LE '$(SKIP_LABELS)')

# Release with debug information: -O2 -g (and -DNDEBUG).
RELEASE := -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Sanitizer builds keep assert() and use -O1, which keeps instrumented tests
# fast and their stack traces readable. They do not use -Werror: gcc's
# instrumentation causes false -Warray-bounds and -Wstringop-overflow
# warnings, and the plain gcc and clang builds check warnings already.
SANITIZED := -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" -DTTLOG_WERROR=OFF

# TSan maps its shadow memory at fixed addresses; on kernels that randomise
# mmap with many bits (vm.mmap_rnd_bits > 28) some TSan runtimes abort with
# "unexpected memory mapping". setarch -R turns address randomisation off for
# ctest and so for every test it starts, which avoids that.
NO_ASLR := $(shell command -v setarch >/dev/null 2>&1 && echo "setarch $$(uname -m) -R")


# $(call configure,DIR,COMPILER,CMAKE ARGS): configure (or refresh) DIR.
# Passing the compiler every time is harmless when it is unchanged; when it
# changed, CMake starts the cache afresh and the other -D options here are
# given again anyway.
configure = $(CMAKE) -S . -B $(1) -DCMAKE_C_COMPILER=$(2) $(3)
compile = $(CMAKE) --build $(1) -j$(JOBS)

.PHONY: all build deps test demo soak bench bench-quick bench-smoke bench-build install clean asan tsan clang fuzz fuzz-long help

all: build

help:
	@sed -n '4,/^#$$/p' Makefile | sed '$$d; s/^# \{0,1\}//'

deps:
	@$(DEPS)

# TTLOG_BENCH is given explicitly both here and in bench-build: they share
# build/, and a cached ON left by `make bench` would otherwise make every
# later `make test` build the benchmarks (and need their packages) too.
build: deps
	$(call configure,build,$(CC),$(RELEASE) -DTTLOG_WERROR=$(WERROR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DTTLOG_BENCH=OFF)
	$(call compile,build)

test: build
	@$(DEPS) --test
	$(CTEST) --test-dir build $(CTEST_FLAGS)

# The shop (examples/shop/): twelve services in three processes, run for
# 20 s with chaos and streaming, then examined with the ttlog command (its
# snapshots and its stream directory). The build's own
# output goes to build/demo-build.log (shown only when the build fails), so
# that what is printed is the demo itself.
demo:
	@mkdir -p build
	@echo "Building (log: build/demo-build.log) ..."
	@$(MAKE) --no-print-directory -s build >build/demo-build.log 2>&1 || \
		{ tail -n 40 build/demo-build.log; echo "demo: the build failed" >&2; exit 1; }
	@bash examples/shop/demo.sh build

# The soak (scripts/soak.sh; not part of `make test`): the shop and
# kill/recover cycles for SOAK_SECONDS (default 600) under ASan+UBSan, built
# in build-soak/ (only what the run needs), then SOAK_VALGRIND_SECONDS
# (default 90, 0 skips it) under valgrind with build/; fails on any
# sanitizer or memcheck report, growing memory or a file that does not
# open. The builds' output goes to build-soak/build.log. SOAK_SNAPSHOT_EVERY,
# SOAK_MAX_SNAPSHOTS, SOAK_RING_SIZE and SOAK_RSS_BOUND_KIB are read by the script.
SOAK_SECONDS ?= 600
SOAK_VALGRIND_SECONDS ?= 90
soak:
	@$(DEPS) --soak
	@mkdir -p build-soak
	@{ $(MAKE) --no-print-directory -s build && \
	   $(call configure,build-soak,$(CC),$(SANITIZED) -DTTLOG_SANITIZE=address) && \
	   $(CMAKE) --build build-soak -j$(JOBS) --target ttlog_cli example_shop prog_shm_logger; \
	 } >build-soak/build.log 2>&1 || \
		{ tail -n 40 build-soak/build.log; echo "soak: the build failed (build-soak/build.log)" >&2; exit 1; }
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_VALGRIND_SECONDS=$(SOAK_VALGRIND_SECONDS) \
		bash scripts/soak.sh --asan-build build-soak --plain-build build

# The benchmarks build into build/ (with TTLOG_BENCH=ON) so that their
# results sit next to the library they measured: build/bench-results/.
# NANOLOG_DIR and QUILL_DIR (environment or make variables) are passed on
# every time, so that unsetting one takes its peer out of the next build.
bench-build:
	@$(DEPS) --bench
	$(call configure,build,$(CC),$(RELEASE) -DTTLOG_WERROR=$(WERROR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DTTLOG_BENCH=ON "-DNANOLOG_DIR=$(NANOLOG_DIR)" "-DQUILL_DIR=$(QUILL_DIR)" "-DTTLOG_BENCH_MANYSITES_COUNTS=10;1000;10000")
	$(call compile,build)

bench: bench-build
	python3 bench/run.py --build build $(BENCH_ARGS)

bench-quick: bench-build
	python3 bench/run.py --build build --quick $(BENCH_ARGS)

# Not a measurement: a check that ttlog's own benchmark programs still build
# (with -Werror under CI) and run, since nothing else builds them. No peer
# and no benchmark package is needed (the peers are left out of the build),
# and no instruction counts are taken. The many-sites programs go up to
# 1000 sites: those of 10 000, the same generated code ten times over, take
# minutes to compile.
bench-smoke: deps
	$(call configure,build,$(CC),$(RELEASE) -DTTLOG_WERROR=$(WERROR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DTTLOG_BENCH=ON -DNANOLOG_DIR= -DQUILL_DIR= "-DTTLOG_BENCH_MANYSITES_COUNTS=10;1000")
	$(call compile,build)
	python3 bench/run.py --build build --quick --smoke --skip-instr \
		--only ttlog,ttlog-runtime,ttlog-shm,recorder,manysites $(BENCH_ARGS)

install: build
	DESTDIR="$(DESTDIR)" $(CMAKE) --install build

asan:
	@$(DEPS) --test
	$(call configure,build-asan,$(CC),$(SANITIZED) -DTTLOG_SANITIZE=address)
	$(call compile,build-asan)
	$(CTEST) --test-dir build-asan $(CTEST_FLAGS) $(CTEST_SKIP)

tsan:
	@$(DEPS) --test
	$(call configure,build-tsan,$(CC),$(SANITIZED) -DTTLOG_SANITIZE=thread)
	$(call compile,build-tsan)
	$(NO_ASLR) $(CTEST) --test-dir build-tsan $(CTEST_FLAGS) -L concurrency

clang:
	@$(DEPS) --clang
	$(call configure,build-clang,clang,$(RELEASE) -DCMAKE_CXX_COMPILER=clang++ -DTTLOG_WERROR=ON)
	$(call compile,build-clang)
	$(CTEST) --test-dir build-clang $(CTEST_FLAGS) $(CTEST_SKIP)

# Builds fuzz/fuzz_NAME.c into build-fuzz/fuzz/fuzz_NAME. libFuzzer writes
# new inputs into the first directory it is given, so give it a scratch one
# before the checked-in corpus:
#   mkdir -p build-fuzz/new && build-fuzz/fuzz/fuzz_NAME -max_total_time=60 build-fuzz/new fuzz/corpus/NAME
fuzz:
	@$(DEPS) --fuzz
	$(call configure,build-fuzz,clang,$(SANITIZED) -DCMAKE_CXX_COMPILER=clang++ -DTTLOG_FUZZ=ON)
	$(call compile,build-fuzz)
	@ls build-fuzz/fuzz/fuzz_* 2>/dev/null || echo "fuzz: no fuzz/fuzz_*.c targets"

FUZZ_SECONDS ?= 600
FUZZ_RUNS ?=
fuzz-long: fuzz
	scripts/fuzz-long.sh $(if $(FUZZ_RUNS),--runs $(FUZZ_RUNS)) $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-tsan build-clang build-fuzz build-soak
