# One Makefile for the whole project. `make` builds build/libshared.a and
# build/bin/*; `make test` builds the sanitizer variant in build/san and runs
# every test; `make run` starts the local stack. See README.md.

BUILD ?= build
SAN ?= 0
# V=1 shows full commands.
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
CC ?= cc

PKGS := libmicrohttpd libpq libcjson libcurl libcrypto libargon2 md4c-html libturbojpeg libexif stb
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CFLAGS) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
	-Wwrite-strings -Wstrict-prototypes -MMD -MP \
	-Ishared/include $(PKG_CFLAGS)
LDFLAGS += -Wl,--as-needed
LDLIBS += $(PKG_LIBS) -lpthread -lm

ifeq ($(SAN),1)
ALL_CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

SHARED_SRC := $(wildcard shared/src/*.c)
SHARED_OBJ := $(SHARED_SRC:%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libshared.a

FUNCTIONS := $(notdir $(patsubst %/,%,$(dir $(wildcard functions/*/main.c))))
FUNCTION_BINS := $(FUNCTIONS:%=$(BUILD)/bin/%)
TOOL_BINS := $(BUILD)/bin/migrate $(BUILD)/bin/admin $(if $(wildcard deploy/local/gateway/main.c),$(BUILD)/bin/gateway)

# The local gateway (deploy/local/gateway) also reads YAML.
GATEWAY_SRC := $(wildcard deploy/local/gateway/*.c)
GATEWAY_OBJ := $(GATEWAY_SRC:%.c=$(BUILD)/obj/%.o)
YAML_LIBS := $(shell pkg-config --libs yaml-0.1 2>/dev/null)

# Functions only the tests use: tests/fixtures/<name>/*.c -> $(BUILD)/tests/bin/<name>
FIXTURES := $(notdir $(patsubst %/,%,$(dir $(wildcard tests/fixtures/*/main.c))))
FIXTURE_BINS := $(FIXTURES:%=$(BUILD)/tests/bin/%)

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Helpers the unit tests share (canned servers and the like).
TESTSUPPORT_SRC := $(wildcard tests/unit/support/*.c)
TESTSUPPORT_OBJ := $(TESTSUPPORT_SRC:%.c=$(BUILD)/obj/%.o)
TESTSUPPORT := $(BUILD)/libtestsupport.a

# Fuzz targets: replayed over their corpus by `make test`, fuzzed by `make fuzz`.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/replay_%)
FUZZ_SECONDS ?= 60

.PHONY: all bootstrap test unit fixtures run bench clean format package fuzz
.DEFAULT_GOAL := all

all: $(LIB) $(FUNCTION_BINS) $(TOOL_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(SHARED_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

# functions/<name>/*.c -> build/bin/<name>, plus fn_extra_<name>.
fn_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard functions/$(1)/*.c)) $(fn_extra_$(1))
fixture_objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/fixtures/$(1)/*.c))
.SECONDEXPANSION:
# Objects are never intermediate: keep them for incremental builds.
.SECONDARY:
# Page templates are compiled into the function that renders them: one
# binary to deploy, nothing to find at run time. <set>_templates (symbol and
# file) embeds tmpl_dir_<set>/*.html: the blog's pages (articles) and the
# share link's page (albums; a subfolder the blog's glob does not see).
tmpl_dir_blog := frontend/blog/templates
tmpl_dir_share := frontend/blog/templates/share
fn_extra_articles := $(BUILD)/obj/gen/blog_templates.o
fn_extra_albums := $(BUILD)/obj/gen/share_templates.o
$(BUILD)/gen/%_templates.c: $$(wildcard $$(tmpl_dir_$$*)/*.html) deploy/embed
	@mkdir -p $(@D)
	@$(if $(Q),echo '  EMBED   $@')
	$(Q)deploy/embed $*_templates $(tmpl_dir_$*) > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/bin/%: $$(call fn_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(BUILD)/tests/bin/%: $$(call fixture_objs,$$*) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(BUILD)/bin/gateway: $(GATEWAY_OBJ) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $(GATEWAY_OBJ) $(LIB) $(LDLIBS) $(YAML_LIBS)

$(BUILD)/bin/migrate: $(BUILD)/obj/deploy/local/migrate.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/bin/admin: $(BUILD)/obj/deploy/local/admin.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(TESTSUPPORT): $(TESTSUPPORT_OBJ)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TESTSUPPORT) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TESTSUPPORT) $(LIB) $(LDLIBS) -lcmocka

# The thumbnail benchmark (tests/bench/thumbs.py): the thumbnails function's
# rendering path on one file, outside any runtime.
$(BUILD)/bench/thumbbench: $(BUILD)/obj/tests/bench/thumbbench.o \
		$(BUILD)/obj/functions/thumbnails/render.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(BUILD)/fuzz/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o $(BUILD)/obj/tests/fuzz/replay.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

# libFuzzer with clang: build/fuzz/<target>, run for FUZZ_SECONDS each.
fuzz: bootstrap
	@$(MAKE) --no-print-directory BUILD=build/fuzz-clang CC=clang SAN=1 \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link" $(LIB:build/%=build/fuzz-clang/%)
	@set -e; for f in $(FUZZ_SRC); do \
		t=$$(basename $$f .c); mkdir -p build/fuzz-clang/corpus/$$t; \
		clang -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
			-Ishared/include $(PKG_CFLAGS) -o build/fuzz-clang/$$t $$f \
			build/fuzz-clang/libshared.a $(PKG_LIBS) -lpthread -lm; \
		build/fuzz-clang/$$t -max_total_time=$(FUZZ_SECONDS) \
			build/fuzz-clang/corpus/$$t tests/fuzz/corpus/$${t#fuzz_}; \
	done

bootstrap:
	@deploy/local/bootstrap

# The sanitizer build is what the tests run; plain fixtures (build/tests/bin)
# give the gateway tests a worker that runs under RLIMIT_AS.
test: bootstrap
	@$(MAKE) --no-print-directory BUILD=build/san SAN=1 all unit
	@$(MAKE) --no-print-directory BUILD=build SAN=0 fixtures
	@tests/run build/san

unit: $(UNIT_BINS) $(FUZZ_REPLAY) $(FIXTURE_BINS)

fixtures: $(FIXTURE_BINS)

run: bootstrap
	@$(MAKE) --no-print-directory all
	@deploy/local/run

# Deployable zips: build/lambda/<fn>.zip (bootstrap + bundled libraries).
package: bootstrap
	@deploy/package

bench: bootstrap
	@$(MAKE) --no-print-directory all
	@tests/bench/run build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
