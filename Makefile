# regionfs — see README.md. `make` builds build/regionfs; `make test` runs
# every test; `make run` mounts the demo namespace in the foreground.

BUILD    ?= build$(if $(SANITIZE),-$(SANITIZE))
CC       ?= cc
SANITIZE ?=
WERROR   ?=
MNT      ?= /tmp/regionfs-demo

PKGS     := fuse3 inih
CPPFLAGS += -D_GNU_SOURCE -DINI_HANDLER_LINENO=1 -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wmissing-declarations \
	    -Wwrite-strings -Wshadow -fno-omit-frame-pointer -pthread -MMD -MP
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifneq ($(WERROR),)
CFLAGS += -Werror
endif
ifeq ($(SANITIZE),address)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SANITIZE),thread)
CFLAGS  += -fsanitize=thread
LDFLAGS += -fsanitize=thread
endif

LIB_SRC  := $(wildcard lib/*.c)
CONF_SRC := $(wildcard conf/*.c)
FS_SRC   := $(wildcard fs/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
CORE_OBJ := $(call obj,$(LIB_SRC) $(CONF_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps test-deps run test unit integration format format-check clean install
all: $(BUILD)/regionfs

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libregion.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/regionfs: $(call obj,$(FS_SRC)) $(BUILD)/libregion.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libregion.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libregion.a $(CHECK_LIBS) $(LDLIBS)

# Package checks run first, in their own make, so pkg-config sees what they installed.
deps:
	@scripts/deps.sh build
test-deps:
	@scripts/deps.sh test

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(MNT)
	@echo "regionfs: mounting conf/demo.ini on $(MNT) (Ctrl-C unmounts)"
	$(BUILD)/regionfs -f -c conf/demo.ini $(MNT)

test: test-deps
	@$(MAKE) --no-print-directory unit integration

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

# Sanitizer runtimes: fail on the first report; TSan knows the intended races.
export ASAN_OPTIONS ?= abort_on_error=0:detect_leaks=1
export TSAN_OPTIONS ?= suppressions=$(abspath tests/tsan.supp):second_deadlock_stack=1

integration: $(BUILD)/regionfs
	@REGIONFS=$(abspath $(BUILD)/regionfs) SANITIZE=$(SANITIZE) tests/integration/run.sh

format:
	clang-format -i $(LIB_SRC) $(CONF_SRC) $(FS_SRC) $(UNIT_SRC) $(wildcard */*.h tests/*/*.h)
format-check:
	clang-format --dry-run --Werror $(LIB_SRC) $(CONF_SRC) $(FS_SRC) $(UNIT_SRC) $(wildcard */*.h tests/*/*.h)

PREFIX  ?= /usr/local
install: all
	install -D -m 0755 $(BUILD)/regionfs $(DESTDIR)$(PREFIX)/bin/regionfs
	install -D -m 0644 doc/regionfs.8 $(DESTDIR)$(PREFIX)/share/man/man8/regionfs.8
	install -D -m 0644 conf/regionfs.service $(DESTDIR)/etc/systemd/system/regionfs.service
	test -e $(DESTDIR)/etc/regionfs.ini || install -D -m 0644 conf/example.ini $(DESTDIR)/etc/regionfs.ini

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
