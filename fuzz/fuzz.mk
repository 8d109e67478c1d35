# make fuzz: libFuzzer targets (fuzz/*_fuzz.cpp), built with clang and
# ASan + UBSan into $(BUILD)/fuzz/, run one after the other for
# FUZZ_SECONDS each on seeds made from tests/golden (fuzz/seeds.sh).
# Not part of make test; fuzz/run.sh prints a summary table at the end.
# Included from the Makefile.

FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 120
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -std=c++20 -Icommon -MMD -MP $(FUZZ_SAN)
FUZZ_TARGETS := $(patsubst fuzz/%_fuzz.cpp,%,$(wildcard fuzz/*_fuzz.cpp))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%_fuzz)
FUZZ_OBJ     := $(COMMON_SRC:%.cpp=$(FUZZ_BUILD)/%.o)

# What the fuzz build needs beyond `deps`: clang, and libFuzzer's runtime
# (libclang_rt.fuzzer-x86_64.a, in libclang-rt-14-dev on Debian 12).
FUZZ_RT := /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a

.PHONY: fuzz-deps fuzz-build
# Only pattern rules name the objects: keep them between runs.
.SECONDARY: $(FUZZ_OBJ)

fuzz-deps: deps
	$(call install_missing,clang:/usr/bin/$(FUZZ_CXX) libclang-rt-14-dev:$(FUZZ_RT))

# The library is instrumented for coverage (fuzzer-no-link) but only the
# targets link libFuzzer's main.
$(FUZZ_BUILD)/common/%.o: common/%.cpp | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/%_fuzz: fuzz/%_fuzz.cpp $(FUZZ_OBJ) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CXX) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) -o $@ $(LDLIBS)

# The sanitizers' runtime wants the C++ runtime shared (Makefile's LDLIBS).
$(FUZZ_BINS): STATIC_RUNTIME :=

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@fuzz/seeds.sh $(FUZZ_BUILD)/seeds
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TARGETS)

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BINS:=.d)
