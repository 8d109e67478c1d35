# pgconn: build, test, demo, bench, install.
#
#   make demo     build (installing missing Debian packages first) and run the
#                 pipeline on the bundled sample log
#   make test     build and run every test; the last line is "N passed, N failed"
#   make check    the quick loop: unit tests, golden files and the shell suites,
#                 two at a time, no servers and no sanitized build (about a minute)
#   make bench    throughput against grep and pgBadger (not part of make test)
#   make fuzz     libFuzzer targets, FUZZ_SECONDS=120 each (fuzz/fuzz.mk; not in make test)
#   make soak     50 million events through parse | agg, memory sampled (not
#                 part of make test)
#   make install  PREFIX=/usr/local DESTDIR=: programs, man pages, bash completions
#   make uninstall the same PREFIX and DESTDIR

CXX      ?= g++
OPT      ?= -O2
CXXFLAGS ?= $(OPT) -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Wshadow -Wno-unused-parameter -Icommon -MMD -MP
# Libraries linked statically (Debian's -dev packages ship the .a files;
# fmt's compiled part is common/fmt_impl.cpp): a program then loads libc
# alone, and starts in about 1.3 ms of CPU instead of 2.2 (perf stat -r 50
# bin/pgconn-parse /dev/null). STATIC_RUNTIME links the C++ runtime in too;
# the sanitized build keeps it shared (the sanitizers' runtime wants that).
STATIC_RUNTIME ?= -static-libstdc++ -static-libgcc
LDLIBS    = $(STATIC_RUNTIME) -Wl,-Bstatic -lpcre2-8 -lz -lbz2 -llzma -lzstd -Wl,-Bdynamic -pthread
PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
BIN      ?= bin

TOOLS      := pgconn-parse pgconn-agg pgconn-watch pgconn-tail
COMMON_SRC := $(wildcard common/*.cpp common/*/*.cpp)
COMMON_OBJ := $(COMMON_SRC:%.cpp=$(BUILD)/%.o)
TEST_SRC   := $(wildcard tests/*_test.cpp)
TEST_OBJ   := $(TEST_SRC:%.cpp=$(BUILD)/%.o)
PROGRAMS   := $(TOOLS:%=$(BIN)/%)

# Debian packages the build and the tests need, and a file each provides.
DEB_PKGS := libpcre2-dev:/usr/include/pcre2.h \
            libfmt-dev:/usr/include/fmt/format.h \
            libcxxopts-dev:/usr/include/cxxopts.hpp \
            catch2:/usr/include/catch2/catch.hpp \
            jq:/usr/bin/jq \
            time:/usr/bin/time \
            mandoc:/usr/bin/mandoc \
            postgresql:/usr/bin/pg_config \
            rsyslog:/usr/sbin/rsyslogd \
            logrotate:/usr/sbin/logrotate \
            zlib1g-dev:/usr/include/zlib.h \
            libbz2-dev:/usr/include/bzlib.h \
            liblzma-dev:/usr/include/lzma.h \
            libzstd-dev:/usr/include/zstd.h \
            bzip2:/bin/bzip2 \
            xz-utils:/usr/bin/xz \
            zstd:/usr/bin/zstd \
            pgbouncer:/usr/sbin/pgbouncer \
            prometheus:/usr/bin/promtool \
            prometheus-node-exporter:/usr/bin/prometheus-node-exporter \
            curl:/usr/bin/curl \
            python3:/usr/bin/python3

.PHONY: all deps demo test check unit-test e2e-test sanitized bench soak fuzz install uninstall clean

all: deps $(PROGRAMS)

# install_missing PKG:FILE...: installs with apt-get (as root) each package
# whose file (a shell pattern) is missing, or says which command to run.
define install_missing
	@missing=""; for p in $(1); do \
	  ls -d $${p#*:} >/dev/null 2>&1 || missing="$$missing $${p%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing packages:$$missing (run: sudo apt-get install$$missing)" >&2; exit 1; \
	  fi; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PKGS))

# Keep the tools' objects: make would delete them as intermediates, and a
# later make (install_test.sh's, on the sanitized build) would then rebuild
# them with the wrong flags. (A bare .SECONDARY: would do, but fuzz/fuzz.mk
# names its own, which turns the bare form off.)
.SECONDARY: $(TOOLS:%=$(BUILD)/tools/%.o) $(BUILD)/tests/perf/gen_log.o

$(BUILD)/libpgconn.a: $(COMMON_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.cpp | deps
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(BIN)/%: $(BUILD)/tools/%.o $(BUILD)/libpgconn.a
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/unit-tests: $(TEST_OBJ) $(BUILD)/libpgconn.a
	$(CXX) $(CXXFLAGS) $^ -o $@ /usr/lib/libCatch2WithMain.a $(LDLIBS)

$(BUILD)/gen-log: $(BUILD)/tests/perf/gen_log.o $(BUILD)/common/fmt_impl.o
	$(CXX) $(CXXFLAGS) $^ -o $@ $(LDLIBS)

SAMPLE := tests/sample/sample.log

demo: all
	@echo '$$ pgconn-parse $(SAMPLE) | head -3'
	@$(BIN)/pgconn-parse $(SAMPLE) | head -3
	@echo; echo '$$ pgconn-parse $(SAMPLE) | pgconn-agg'
	@$(BIN)/pgconn-parse $(SAMPLE) | $(BIN)/pgconn-agg
	@echo; echo '$$ pgconn-parse $(SAMPLE) | pgconn-agg --history'
	@$(BIN)/pgconn-parse $(SAMPLE) | $(BIN)/pgconn-agg --history
	@echo; echo '$$ pgconn-parse $(SAMPLE) | pgconn-watch | grep -v sidekiq | sed -n 20,28p'
	@$(BIN)/pgconn-parse $(SAMPLE) | $(BIN)/pgconn-watch | grep -v sidekiq | sed -n 20,28p
	@echo; echo '$$ pgconn-parse --input=syslog tests/sample/fleet.log | pgconn-agg --by=server,db'
	@$(BIN)/pgconn-parse --input=syslog tests/sample/fleet.log | $(BIN)/pgconn-agg --by=server,db

# The programs and the unit tests built with AddressSanitizer (and leak
# detection) and UBSan, in a build directory of their own. -O0: it compiles
# in 60% of the time -O1 takes (make test builds it on every fresh clone),
# and the suites it runs wait on pipes and servers more than they compute.
SAN_BUILD := build/asan
SAN_OPT   := -O0 -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined

sanitized:
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) BIN=$(SAN_BUILD)/bin OPT='$(SAN_OPT)' STATIC_RUNTIME= \
	  $(TOOLS:%=$(SAN_BUILD)/bin/%) $(SAN_BUILD)/unit-tests

# Unit tests, then end-to-end tests of the built programs, then both again on
# the sanitized build; tests/run.sh prints the closing "N passed, N failed"
# line over all of them. PGCONN_SKIP_SANITIZE=1 leaves the sanitized stage out.
test: all $(BUILD)/unit-tests $(BUILD)/gen-log $(if $(PGCONN_SKIP_SANITIZE),,sanitized)
	@$(if $(PGCONN_SKIP_SANITIZE),,PGCONN_SAN_BUILD=$(SAN_BUILD) PGCONN_SAN_OPT='$(SAN_OPT)') tests/run.sh

check: all $(BUILD)/unit-tests $(BUILD)/gen-log
	@PGCONN_SKIP_SERVER=1 PGCONN_JOBS=2 tests/run.sh

# make bench compares with pgBadger too (BENCH_PGBADGER=0 skips it).
BENCH_PKGS := pgbadger:/usr/bin/pgbadger

bench: all $(BUILD)/gen-log
	$(if $(filter 0,$(BENCH_PGBADGER)),,$(call install_missing,$(BENCH_PKGS)))
	@tests/perf/bench.sh

soak: all $(BUILD)/gen-log
	@tests/perf/soak.sh

# Programs, man pages, and the bash completion once per program name (the
# name bash-completion's lazy loading looks for).
MAN5       := man/pgconn-events.5
COMPLETION := $(DESTDIR)$(PREFIX)/share/bash-completion/completions

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(COMPLETION)
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(TOOLS:%=man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	for t in $(TOOLS); do install -m 644 completions/pgconn.bash $(COMPLETION)/$$t || exit 1; done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%) $(TOOLS:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1) \
	  $(MAN5:man/%=$(DESTDIR)$(PREFIX)/share/man/man5/%) $(TOOLS:%=$(COMPLETION)/%)

clean:
	rm -rf $(BUILD) $(BIN)

include fuzz/fuzz.mk

-include $(COMMON_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(TOOLS:%=$(BUILD)/tools/%.d)
