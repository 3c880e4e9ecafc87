# regionfs — see README.md. `make` builds build/regionfs; `make test` runs
# every test; `make run` mounts the demo namespace in the foreground.

BUILD    ?= build$(if $(SANITIZE),-$(SANITIZE))
CC       ?= cc
SANITIZE ?=
WERROR   ?=
MNT      ?= /tmp/regionfs-demo

PKGS     := fuse3 inih liburing
# CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS are the user's (make CFLAGS=-O0 adds
# to what regionfs needs, it does not replace it); RFS_* are what the build
# requires, in every rule.
CFLAGS   ?= -O2 -g
RFS_CPPFLAGS := -D_GNU_SOURCE -DINI_HANDLER_LINENO=1 -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
RFS_CFLAGS   := -std=gnu11 -Wall -Wextra -Wpedantic -Wstrict-prototypes -Wmissing-declarations \
		-Wwrite-strings -Wshadow -fno-omit-frame-pointer -pthread -MMD -MP
RFS_LDFLAGS  :=
RFS_LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)

ifneq ($(WERROR),)
RFS_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),address)
RFS_CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined
RFS_LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(SANITIZE),thread)
RFS_CFLAGS  += -fsanitize=thread
RFS_LDFLAGS += -fsanitize=thread
endif
ALL_CPPFLAGS = $(RFS_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(RFS_CFLAGS) $(CFLAGS)
ALL_LDFLAGS  = $(RFS_LDFLAGS) $(LDFLAGS)
ALL_LDLIBS   = $(RFS_LDLIBS) $(LDLIBS)

LIB_SRC  := $(wildcard lib/*.c)
CONF_SRC := $(wildcard conf/*.c)
FS_SRC   := $(wildcard fs/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
CORE_OBJ := $(call obj,$(LIB_SRC) $(CONF_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all next deps test-deps run test unit integration fuzz soak bench format format-check clean install deb tsan
all: $(BUILD)/regionfs

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libregion.a: $(CORE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/regionfs: $(call obj,$(FS_SRC)) $(BUILD)/libregion.a
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libregion.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libregion.a $(CHECK_LIBS) $(ALL_LDLIBS)

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
	@$(MAKE) --no-print-directory unit integration fuzz

# Long forms of the reliability suites (README.md, Tests): RFS_SOAK=1
# makes the integration tests run their long form.
soak: test-deps
	@$(MAKE) --no-print-directory all unit
	@RFS_SOAK=1 REGIONFS=$(abspath $(BUILD)/regionfs) SANITIZE=$(SANITIZE) tests/integration/run.sh
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=600

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

# Sanitizer runtimes: fail on the first report; TSan knows the intended races.
export ASAN_OPTIONS ?= abort_on_error=0:detect_leaks=1
# history_size=7: keep enough history that the suppressed copies' stacks are
# restored (a lost stack cannot match the suppression).
export TSAN_OPTIONS ?= suppressions=$(abspath tests/tsan.supp):second_deadlock_stack=1:history_size=7

# Three times: over /dev/fuse, with every mount over io_uring (-o io_uring),
# and with regions served by the daemon (-o passthrough=off, the fallback).
# t_upgrade's live upgrades go to this source built with another version.
NEXT := $(abspath $(BUILD)-next/regionfs)
next:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)-next \
		CPPFLAGS='$(CPPFLAGS) -DRFS_VERSION=\"$(VERSION)+next\"' all

integration: $(BUILD)/regionfs next
	@REGIONFS=$(abspath $(BUILD)/regionfs) REGIONFS_NEXT=$(NEXT) SANITIZE=$(SANITIZE) \
		tests/integration/run.sh
	@REGIONFS=$(abspath $(BUILD)/regionfs) REGIONFS_NEXT=$(NEXT) SANITIZE=$(SANITIZE) \
		RFS_TRANSPORT=io_uring tests/integration/run.sh
	@REGIONFS=$(abspath $(BUILD)/regionfs) REGIONFS_NEXT=$(NEXT) SANITIZE=$(SANITIZE) \
		RFS_DATA_PATH=daemon tests/integration/run.sh

# ThreadSanitizer over the unit tests and the integration tests that drive
# the multi-threaded loop with concurrent clients (CI runs it; ~1.5 min).
# Left out, both found by this target and open: t_overlap_dirty (slowed by
# TSan, a region's unsynced mmap store is lost about once in six runs when a
# window's write outwaits the bounded write-back wait, RFS_INVAL_WAIT_MS) and
# t_region_windows (about one run in four, replies fail with EFAULT, "fuse:
# writing device: Bad address", and a worker never leaves its read at
# unmount). The plain and ASan passes run both.
TSAN_TESTS := t_basic t_stress t_view_basic t_lifetime t_ops_control t_ctl_names t_mmap t_budgets t_readdir t_times
tsan: test-deps
	@$(MAKE) --no-print-directory SANITIZE=thread all unit
	@REGIONFS=$(abspath build-thread/regionfs) SANITIZE=thread tests/integration/run.sh $(TSAN_TESTS)

# The benchmark against tmpfs (tests/bench/README.md); QUICK=1 is CI's smoke.
bench: all
	@REGIONFS=$(abspath $(BUILD)/regionfs) tests/bench/bench.sh

# Fuzzing with libFuzzer (clang): FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 30
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DINI_HANDLER_LINENO=1 -I. \
	$(shell pkg-config --cflags inih 2>/dev/null)

build-fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(CONF_SRC) $(wildcard conf/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(CONF_SRC) $(shell pkg-config --libs inih 2>/dev/null)

fuzz:
	@tests/fuzz/run.sh --check
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

format:
	clang-format -i $(LIB_SRC) $(CONF_SRC) $(FS_SRC) $(UNIT_SRC) $(wildcard */*.h tests/*/*.h)
format-check:
	clang-format --dry-run --Werror $(LIB_SRC) $(CONF_SRC) $(FS_SRC) $(UNIT_SRC) $(wildcard */*.h tests/*/*.h)

PREFIX  ?= /usr/local
UNITDIR ?= /etc/systemd/system
DOCDIR  ?= $(PREFIX)/share/doc/regionfs
UNITS   := $(BUILD)/regionfs.service $(BUILD)/regionfs@.service

# The units name the installed binary.
$(BUILD)/%.service: conf/%.service.in
	@mkdir -p $(dir $@)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' $< >$@

install: all $(UNITS)
	install -D -m 0755 $(BUILD)/regionfs $(DESTDIR)$(PREFIX)/bin/regionfs
	install -D -m 0644 doc/regionfs.8 $(DESTDIR)$(PREFIX)/share/man/man8/regionfs.8
	install -D -m 0644 -t $(DESTDIR)$(UNITDIR) $(UNITS)
	install -D -m 0644 conf/example.ini $(DESTDIR)$(DOCDIR)/example.ini
	install -d -m 0755 $(DESTDIR)/etc/regionfs
	test -e $(DESTDIR)/etc/regionfs.ini || install -D -m 0644 conf/regionfs.ini $(DESTDIR)/etc/regionfs.ini

# The Debian package, built by dpkg-buildpackage from a copy of the tree in
# build/deb/ (it writes beside the source): build/regionfs_VERSION_ARCH.deb.
# fs/fs.h's RFS_VERSION is the one version: the copy's debian/changelog takes
# it as its top entry's version.
VERSION := $(shell sed -n 's/^\#define RFS_VERSION "\(.*\)"/\1/p' fs/fs.h)
DEB_DIR := build/deb
DEB_SRC := $(DEB_DIR)/regionfs-$(VERSION)
deb:
	@scripts/deps.sh deb
	rm -rf $(DEB_SRC) $(DEB_DIR)/regionfs[-_]* build/regionfs_*.deb && mkdir -p $(DEB_SRC)
	tar -c --exclude='./build*' --exclude=./.git --exclude='./tests/bench/out' . | tar -x -C $(DEB_SRC)
	sed -i '1s/^regionfs ([^)]*)/regionfs ($(VERSION))/' $(DEB_SRC)/debian/changelog
	@# None of this make's variables (make test WERROR=1, make deb SANITIZE=thread
	@# or CFLAGS=-O0 reach the recipes' environment): the package is built as
	@# dpkg-buildflags and debian/rules say, every time.
	cd $(DEB_SRC) && env -i PATH="$$PATH" HOME="$$HOME" LC_ALL=C.UTF-8 \
		$${DEB_BUILD_OPTIONS:+DEB_BUILD_OPTIONS="$$DEB_BUILD_OPTIONS"} \
		dpkg-buildpackage -b -us -uc --no-sign -J2 >../build.log 2>&1 || \
		{ cat ../build.log >&2; exit 1; }
	cp $(DEB_DIR)/regionfs_$(VERSION)_*.deb build/
	@ls build/regionfs_$(VERSION)_*.deb

# --one-file-system: never into a mount left on build/deb/root (t_deb binds
# /dev, /proc and /sys there, in a mount namespace of its own).
clean:
	rm -rf --one-file-system build build-address build-thread build-fuzz build-deb

# build/deb holds a whole Debian root (t_deb): not searched for .d files.
-include $(shell find $(BUILD) -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
