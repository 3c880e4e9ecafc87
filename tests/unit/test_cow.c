/*
 * Unit tests for copy-on-write views: the page set (lib/pageset.c) and a
 * cow view through mapping.h (lib/view.c, lib/cow.c) over a temporary
 * file: private writes, their charge to the cap (short write, ENOSPC; a
 * memfd store's count and a tmpfs store's own), reads made of many runs,
 * commit (bytes in the file, only the window's, charge back), discard
 * (file bytes again, charge back), and commit and discard refused where
 * they do not apply. The private pages outlive the view's process: a
 * second view adopting the shadow file, and a process forked from one
 * that never saw the writes, find them. Also a threaded writers-versus-
 * commit check.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "tests/unit/read_exact.h"
#include "lib/guard.h"
#include "lib/mapping.h"
#include "lib/pageset.h"
#include "lib/windows.h"

/* The cap cow views charge: a memfd store's, replaced by set_cap. */
static struct rfs_store *store;
static struct rfs_windows *win;
static char path[64];
static uint64_t page;

#define FILE_SIZE (64 * page)

static unsigned char file_byte(uint64_t pos)
{
	return (unsigned char)(pos * 7 + 3);
}

static void set_store(uint64_t cap, enum rfs_store_kind kind)
{
	rfs_store_free(store);
	store = NULL;
	ck_assert_int_eq(rfs_store_new(cap, 16, kind, &store), 0);
	ck_assert_ptr_nonnull(store);
}

static void set_cap(uint64_t cap)
{
	set_store(cap, RFS_STORE_MEMFD);
}

/* A tmpfs store (the kernel counts its files); false where none can be made. */
static bool set_tmpfs(uint64_t cap)
{
	set_store(cap, RFS_STORE_TMPFS);
	return rfs_store_kind(store) == RFS_STORE_TMPFS;
}

/* Bytes of the cap private pages hold now (no region is left). */
static uint64_t charged(void)
{
	struct rfs_store_usage u;

	rfs_store_usage(store, &u);
	return u.bytes_used;
}

static void setup(void)
{
	unsigned char *buf;
	int fd;

	page = (uint64_t)sysconf(_SC_PAGESIZE);
	ck_assert_int_eq(rfs_guard_init(), 0);
	set_cap(1ULL << 40);
	win = NULL;
	ck_assert_int_eq(rfs_windows_new(16ULL << 20, NULL, NULL, &win), 0);
	ck_assert_ptr_nonnull(win);
	strcpy(path, "/tmp/rfs-cow-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	buf = malloc(FILE_SIZE);
	ck_assert_ptr_nonnull(buf);
	for (uint64_t i = 0; i < FILE_SIZE; i++)
		buf[i] = file_byte(i);
	ck_assert_int_eq(pwrite(fd, buf, FILE_SIZE, 0), (ssize_t)FILE_SIZE);
	free(buf);
	close(fd);
}

static void teardown(void)
{
	rfs_windows_free(win);
	unlink(path);
	/* Every view is freed by now: its private pages' charge must be back. */
	ck_assert_uint_eq(charged(), 0);
	rfs_store_free(store);
	store = NULL;
}

/* A view; a cow view with its private pages in store file shadow (0: new). */
static struct rfs_mapping *view_of(enum rfs_view_access access, uint64_t off, uint64_t len, int fd,
				   uint64_t shadow)
{
	struct rfs_view_spec spec = {
		.file = path,
		.offset = off,
		.length = len,
		.access = access,
		.fd = fd,
		.store = store,
		.shadow = shadow,
	};
	struct rfs_mapping *m = NULL;
	int err;

	err = rfs_view_new(win, &spec, &m);
	ck_assert_msg(m, "rfs_view_new: %s", strerror(-err));
	return m;
}

static struct rfs_mapping *view(enum rfs_view_access access, uint64_t off, uint64_t len, int fd)
{
	return view_of(access, off, len, fd, 0);
}

/* Does view m hold the file's original bytes over [off, off + len)? */
static bool shows_file(struct rfs_mapping *m, uint64_t view_off, uint64_t off, size_t len)
{
	unsigned char *buf = malloc(len);
	bool ok = true;

	ck_assert_ptr_nonnull(buf);
	rd(m, buf, off, len);
	for (size_t i = 0; i < len && ok; i++)
		ok = buf[i] == file_byte(view_off + off + i);
	free(buf);
	return ok;
}

/* Does the file itself hold byte c over [off, off + len)? */
static bool file_has(uint64_t off, size_t len, int c)
{
	unsigned char *buf = malloc(len);
	int fd = open(path, O_RDONLY);
	bool ok = true;

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	for (size_t i = 0; i < len && ok; i++)
		ok = c < 0 ? buf[i] == file_byte(off + i) : buf[i] == (unsigned char)c;
	free(buf);
	return ok;
}

static uint64_t private_of(struct rfs_mapping *m)
{
	struct rfs_mapping_info i;

	rfs_mapping_describe(m, &i);
	return i.private_bytes;
}

START_TEST(pageset_basics)
{
	struct rfs_pageset s;
	uint64_t n = 3 * RFS_PAGESET_BLOCK + 5, lo, hi;

	ck_assert_int_eq(rfs_pageset_init(&s, n), 0);
	ck_assert(!rfs_pageset_next_run(&s, 0, &lo, &hi));
	ck_assert_int_eq(rfs_pageset_add(&s, 7), 1);
	ck_assert_int_eq(rfs_pageset_add(&s, 7), 0);
	ck_assert_int_eq(rfs_pageset_add(&s, n), -EINVAL);
	/* A run across a word and a block boundary. */
	for (uint64_t p = RFS_PAGESET_BLOCK - 70; p < RFS_PAGESET_BLOCK + 3; p++)
		ck_assert_int_eq(rfs_pageset_add(&s, p), 1);
	ck_assert_int_eq(rfs_pageset_add(&s, n - 1), 1);
	ck_assert_uint_eq(s.count, 1 + 73 + 1);
	ck_assert(rfs_pageset_test(&s, 7) && !rfs_pageset_test(&s, 8));

	ck_assert(rfs_pageset_next_run(&s, 0, &lo, &hi));
	ck_assert_uint_eq(lo, 7);
	ck_assert_uint_eq(hi, 8);
	ck_assert(rfs_pageset_next_run(&s, hi, &lo, &hi));
	ck_assert_uint_eq(lo, RFS_PAGESET_BLOCK - 70);
	ck_assert_uint_eq(hi, RFS_PAGESET_BLOCK + 3);
	ck_assert(rfs_pageset_next_run(&s, hi, &lo, &hi));
	ck_assert_uint_eq(lo, n - 1);
	ck_assert_uint_eq(hi, n);
	ck_assert(!rfs_pageset_next_run(&s, hi, &lo, &hi));

	rfs_pageset_del(&s, RFS_PAGESET_BLOCK);
	rfs_pageset_del(&s, RFS_PAGESET_BLOCK); /* absent now: no-op */
	ck_assert_uint_eq(s.count, 74);
	ck_assert(rfs_pageset_next_run(&s, 8, &lo, &hi));
	ck_assert_uint_eq(hi, RFS_PAGESET_BLOCK);
	rfs_pageset_clear(&s);
	ck_assert_uint_eq(s.count, 0);
	ck_assert(!rfs_pageset_test(&s, 7));
	ck_assert(!rfs_pageset_next_run(&s, 0, &lo, &hi));
	rfs_pageset_destroy(&s);
}
END_TEST

START_TEST(pageset_huge_sparse)
{
	struct rfs_pageset s;
	uint64_t n = 1ULL << 30, lo, hi; /* 4 TiB of 4 KiB pages */

	ck_assert_int_eq(rfs_pageset_init(&s, n), 0);
	ck_assert_int_eq(rfs_pageset_add(&s, n - 2), 1);
	ck_assert(rfs_pageset_next_run(&s, 0, &lo, &hi));
	ck_assert_uint_eq(lo, n - 2);
	ck_assert_uint_eq(hi, n - 1);
	rfs_pageset_destroy(&s);
}
END_TEST

START_TEST(write_is_private_and_charged)
{
	struct rfs_mapping *m = view(RFS_VIEW_COW, 8 * page, 16 * page, -1);
	char buf[100];

	ck_assert(rfs_mapping_cow(m));
	ck_assert_uint_eq(private_of(m), 0);
	memset(buf, 'A', sizeof(buf));
	/* Straddles the boundary of the view's pages 2 and 3. */
	ck_assert_int_eq(rfs_mapping_write(m, buf, sizeof(buf), 3 * page - 50), 100);
	ck_assert_uint_eq(private_of(m), 2 * page);
	ck_assert_uint_eq(charged(), 2 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 10, 3 * page), 10); /* already private */
	ck_assert_uint_eq(charged(), 2 * page);
	rd(m, buf, 3 * page - 50, 100);
	ck_assert_int_eq(buf[0], 'A');
	ck_assert_int_eq(buf[99], 'A');
	ck_assert(shows_file(m, 8 * page, 0, 3 * page - 50));
	/* Nothing reaches the file, not even by a flush. */
	ck_assert_int_eq(rfs_mapping_sync(m, true), 0);
	ck_assert(file_has(0, FILE_SIZE, -1));
	rfs_mapping_free(m);
}
END_TEST

START_TEST(cap_short_write_then_enospc)
{
	struct rfs_mapping *m;
	char *buf = malloc(4 * page);

	set_cap(3 * page);
	m = view(RFS_VIEW_COW, 0, 16 * page, -1);
	memset(buf, 'B', 4 * page);
	/* Three pages fit: the write stops where the fourth would begin. */
	ck_assert_int_eq(rfs_mapping_write(m, buf, 4 * page, 100), (ssize_t)(3 * page - 100));
	ck_assert_uint_eq(charged(), 3 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 10, 3 * page), -ENOSPC);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 10, 2 * page), 10); /* a private page */
	ck_assert(shows_file(m, 0, 3 * page, page));
	ck_assert_int_eq(rfs_mapping_discard(m), 0);
	ck_assert_uint_eq(charged(), 0);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 10, 3 * page), 10);
	rfs_mapping_free(m);
	free(buf);
}
END_TEST

/* At the cap, a write into the first page of an unaligned window (which
 * starts before the window) is refused whole. */
START_TEST(cap_unaligned_first_page)
{
	struct rfs_mapping *m;

	set_cap(page);
	m = view(RFS_VIEW_COW, page + 1, 4 * page, -1);
	ck_assert_int_eq(rfs_mapping_write(m, "ab", 2, page), 2); /* the view's 2nd page */
	ck_assert_int_eq(rfs_mapping_write(m, "x", 1, 0), -ENOSPC);
	ck_assert_int_eq(rfs_mapping_write(m, "xy", 2, page - 2), -ENOSPC);
	ck_assert(shows_file(m, page + 1, 0, page - 1));
	ck_assert_uint_eq(private_of(m), page);
	rfs_mapping_free(m);
}
END_TEST

START_TEST(discard_shows_file_again)
{
	uint64_t off = 5 * page + 123; /* unaligned window */
	struct rfs_mapping *m = view(RFS_VIEW_COW, off, 10 * page, -1);
	char *buf = malloc(10 * page);

	memset(buf, 'C', 10 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 10 * page, 0), (ssize_t)(10 * page));
	ck_assert_uint_eq(private_of(m), 11 * page);
	ck_assert(!shows_file(m, off, 0, 10 * page));
	ck_assert_int_eq(rfs_mapping_discard(m), 0);
	ck_assert_uint_eq(private_of(m), 0);
	ck_assert_uint_eq(charged(), 0);
	ck_assert(shows_file(m, off, 0, 10 * page));
	ck_assert(file_has(0, FILE_SIZE, -1));
	ck_assert_int_eq(rfs_mapping_discard(m), 0); /* nothing private: fine */
	rfs_mapping_free(m);
	free(buf);
}
END_TEST

START_TEST(commit_writes_only_the_window)
{
	uint64_t off = 5 * page + 123;
	struct rfs_mapping *m = view(RFS_VIEW_COW, off, 2 * page, -1);
	struct rfs_mapping *rw = view(RFS_VIEW_RW, 0, FILE_SIZE, -1);
	char *buf = malloc(2 * page);
	int fd = open(path, O_RDWR);

	memset(buf, 'D', 2 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 2 * page, 0), (ssize_t)(2 * page));
	/* The file changes around the window after the copies were made:
	 * commit must not put the copies' stale bytes outside the window back. */
	ck_assert_int_eq(pwrite(fd, "xy", 2, (off_t)(5 * page)), 2);
	ck_assert_int_eq(pwrite(fd, "zw", 2, (off_t)(off + 2 * page)), 2);
	ck_assert_int_eq(rfs_mapping_commit(m), 0);
	ck_assert_uint_eq(private_of(m), 0);
	ck_assert_uint_eq(charged(), 0);
	ck_assert(file_has(off, 2 * page, 'D'));
	ck_assert(file_has(0, 5 * page, -1));
	ck_assert(file_has(5 * page, 1, 'x'));
	ck_assert(file_has(off + 2 * page, 1, 'z'));
	ck_assert(file_has(off + 2 * page + 2, FILE_SIZE - off - 2 * page - 2, -1));
	/* The view shows the file now: a change to the file shows through. */
	ck_assert_int_eq(pwrite(fd, "E", 1, (off_t)off), 1);
	rd(m, buf, 0, 2);
	ck_assert_int_eq(buf[0], 'E');
	ck_assert_int_eq(buf[1], 'D');
	/* And through a rw view of the same file. */
	rd(rw, buf, off, 1);
	ck_assert_int_eq(buf[0], 'E');
	close(fd);
	rfs_mapping_free(rw);
	rfs_mapping_free(m);
	free(buf);
}
END_TEST

START_TEST(commit_refused)
{
	struct rfs_mapping *rw = view(RFS_VIEW_RW, 0, page, -1);
	struct rfs_mapping *ro = view(RFS_VIEW_RO, 0, page, -1);
	struct rfs_mapping *reg = NULL, *cow;
	int fd;

	ck_assert_int_eq(rfs_region_new(store, &reg), 0);

	ck_assert_int_eq(rfs_mapping_commit(rw), -EINVAL);
	ck_assert_int_eq(rfs_mapping_discard(ro), -EINVAL);
	ck_assert_int_eq(rfs_mapping_commit(reg), -EINVAL);
	ck_assert(!rfs_mapping_cow(rw) && !rfs_mapping_cow(reg));
	rfs_mapping_free(rw);
	rfs_mapping_free(ro);
	rfs_mapping_free(reg);

	/* A cow view of a file the daemon could only open read-only. */
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	cow = view(RFS_VIEW_COW, 0, 2 * page, fd);
	ck_assert_int_eq(rfs_mapping_write(cow, "q", 1, 0), 1);
	ck_assert_int_eq(rfs_mapping_commit(cow), -EACCES);
	ck_assert_uint_eq(private_of(cow), page); /* kept */
	ck_assert(file_has(0, page, -1));
	rfs_mapping_free(cow);
}
END_TEST

/* The same at a tmpfs store's cap, which the kernel holds the shadow file to. */
START_TEST(cap_tmpfs_counts_shadow_pages)
{
	struct rfs_mapping *m;
	char *buf = malloc(4 * page);

	if (!set_tmpfs(3 * page)) {
		free(buf);
		return; /* no tmpfs here: the memfd case covers the rest */
	}
	m = view(RFS_VIEW_COW, 0, 16 * page, -1);
	memset(buf, 'B', 4 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 4 * page, 100), (ssize_t)(3 * page - 100));
	ck_assert_uint_eq(charged(), 3 * page);
	ck_assert_uint_eq(private_of(m), 3 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, page, 3 * page), -ENOSPC); /* a whole page */
	ck_assert_int_eq(rfs_mapping_write(m, buf, 10, 3 * page + 5), -ENOSPC);
	ck_assert(shows_file(m, 0, 3 * page, page));
	ck_assert_int_eq(rfs_mapping_discard(m), 0);
	ck_assert_uint_eq(charged(), 0);
	ck_assert_int_eq(rfs_mapping_write(m, buf, page, 3 * page), (ssize_t)page);
	ck_assert_uint_eq(charged(), page);
	rfs_mapping_free(m);
	free(buf);
}
END_TEST

/* A range of more runs than an rfs_io holds reads whole (gathered); an
 * unwritten range is one segment of the file's window, no copy. */
START_TEST(read_many_runs)
{
	uint64_t off = 2 * page + 7;
	struct rfs_mapping *m = view(RFS_VIEW_COW, off, 20 * page, -1);
	unsigned char *buf = malloc(20 * page);
	struct rfs_io io;

	ck_assert_int_eq(rfs_mapping_read_begin(m, 0, 20 * page, &io), 0);
	ck_assert_int_eq(io.n, 1);
	ck_assert_ptr_null(io.bounce);
	rfs_mapping_read_end(m, &io);
	/* Private: every other page from the 2nd, 6 runs of each kind. */
	for (uint64_t p = 1; p < 12; p += 2)
		ck_assert_int_eq(rfs_mapping_write(m, "Z", 1, p * page), 1);
	ck_assert_uint_eq(private_of(m), 6 * page);
	rd(m, buf, 0, 20 * page);
	for (uint64_t i = 0; i < 20 * page; i++)
		ck_assert_msg(buf[i] == (i % page == 0 && i / page % 2 && i / page < 12
						 ? 'Z'
						 : file_byte(off + i)),
			      "byte %llu", (unsigned long long)i);
	/* Up to RFS_IO_SEGS runs go straight from the mappings. */
	ck_assert_int_eq(rfs_mapping_read_begin(m, page - 1, 2 * page, &io), 0);
	ck_assert_int_eq(io.n, 3);
	ck_assert_ptr_null(io.bounce);
	rfs_mapping_read_end(m, &io);
	rfs_mapping_free(m);
	free(buf);
}
END_TEST

/* Private bytes written through one view, and a second view made over its
 * shadow file (as a restart adopts it): the same bytes, the same count;
 * its commit writes them. */
START_TEST(adopted_shadow_file)
{
	uint64_t off = 3 * page + 10, id;
	struct rfs_mapping *a, *b, *rw;
	char buf[300], back[300];

	if (!set_tmpfs(1ULL << 30))
		return; /* memfds die with their descriptors: nothing to adopt */
	a = view(RFS_VIEW_COW, off, 8 * page, -1);
	rw = view(RFS_VIEW_RW, 0, page, -1);
	memset(buf, 'P', sizeof(buf));
	ck_assert_int_eq(rfs_mapping_write(a, buf, sizeof(buf), page - 100), 300);
	ck_assert_int_eq(rfs_mapping_write(a, "five!", 5, 6 * page), 5);
	ck_assert_uint_eq(private_of(a), 3 * page);
	id = rfs_mapping_file(a);
	ck_assert_uint_gt(id, 0);
	ck_assert_uint_eq(rfs_mapping_file(rw), 0);

	b = view_of(RFS_VIEW_COW, off, 8 * page, -1, id);
	ck_assert_uint_eq(rfs_mapping_file(b), id);
	ck_assert_uint_eq(private_of(b), private_of(a));
	rd(b, back, page - 100, sizeof(back));
	ck_assert_mem_eq(back, buf, sizeof(buf));
	rd(b, back, 6 * page, 5);
	ck_assert_mem_eq(back, "five!", 5);
	ck_assert(shows_file(b, off, 0, page - 100));
	ck_assert(shows_file(b, off, 6 * page + 5, page));
	ck_assert(file_has(0, FILE_SIZE, -1));
	ck_assert_uint_eq(charged(), 3 * page); /* one file, counted once */

	ck_assert_int_eq(rfs_mapping_commit(b), 0);
	ck_assert_uint_eq(private_of(b), 0);
	ck_assert_uint_eq(charged(), 0);
	ck_assert(file_has(off + page - 100, sizeof(buf), 'P'));
	ck_assert(file_has(off + 6 * page, 1, 'f'));
	ck_assert(file_has(0, off + page - 100, -1));
	rfs_mapping_free(b);
	rfs_mapping_free(rw);
	rfs_mapping_free(a);
	/* The shadow file went with its view. */
	ck_assert_int_eq(rfs_view_new(win,
				      &(struct rfs_view_spec){.file = path,
							      .length = page,
							      .access = RFS_VIEW_COW,
							      .fd = -1,
							      .store = store,
							      .shadow = id},
				      &b),
			 -ENOENT);
}
END_TEST

/*
 * A process forked from one that made a view (the supervisor's image and
 * its serving processes): the first child's private pages, which its
 * parent never indexed, are found by the next child.
 */
START_TEST(forked_child_finds_private_pages)
{
	struct rfs_mapping *m;
	int status;
	pid_t pid;

	if (!set_tmpfs(1ULL << 30))
		return;
	m = view(RFS_VIEW_COW, page + 1, 4 * page, -1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(rfs_mapping_write(m, "child", 5, 2 * page) == 5 ? 0 : 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rfs_io io;
		int bad = private_of(m) != page;

		if (rfs_mapping_read_begin(m, 2 * page, 5, &io) == 0) {
			bad |= io.n != 1 || memcmp(io.iov[0].iov_base, "child", 5);
			rfs_mapping_read_end(m, &io);
		} else {
			bad = 1;
		}
		bad |= rfs_mapping_commit(m) != 0 || private_of(m) != 0;
		_exit(bad ? 2 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	{
		char b[5];
		int fd = open(path, O_RDONLY);

		ck_assert_int_eq(pread(fd, b, 5, (off_t)(3 * page + 1)), 5);
		close(fd);
		ck_assert_mem_eq(b, "child", 5); /* the second child's commit */
	}
	ck_assert_uint_eq(charged(), 0);
	rfs_mapping_free(m);
}
END_TEST

#define WRITERS 4
#define ROUNDS	200

static void *writer(void *arg)
{
	struct rfs_mapping *m = arg;
	char b[64];

	memset(b, 'W', sizeof(b));
	for (int i = 0; i < ROUNDS; i++)
		ck_assert_int_eq(rfs_mapping_write(m, b, sizeof(b), (uint64_t)(i % 32) * page), 64);
	return NULL;
}

/* Writers race commit and discard: nothing crashes, the charge ends equal
 * to the pages still private, and no write reaches the file torn. */
START_TEST(threaded_commit_discard)
{
	struct rfs_mapping *m = view(RFS_VIEW_COW, 0, 32 * page, -1);
	pthread_t t[WRITERS];

	for (int i = 0; i < WRITERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, writer, m), 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(i % 2 ? rfs_mapping_commit(m) : rfs_mapping_discard(m), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_eq(charged(), private_of(m));
	ck_assert_int_eq(rfs_mapping_commit(m), 0);
	ck_assert_uint_eq(charged(), 0);
	/* Whether a page's last write was committed or discarded depends on
	 * timing; but no write is torn by a commit or a discard. */
	for (uint64_t p = 0; p < 32; p++)
		ck_assert(file_has(p * page, 64, 'W') || file_has(p * page, 64, -1));
	rfs_mapping_free(m);
}
END_TEST

static Suite *cow_suite(void)
{
	Suite *s = suite_create("cow");
	TCase *set = tcase_create("pageset");
	TCase *tc = tcase_create("view");

	tcase_add_test(set, pageset_basics);
	tcase_add_test(set, pageset_huge_sparse);
	suite_add_tcase(s, set);
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, write_is_private_and_charged);
	tcase_add_test(tc, cap_short_write_then_enospc);
	tcase_add_test(tc, cap_unaligned_first_page);
	tcase_add_test(tc, discard_shows_file_again);
	tcase_add_test(tc, commit_writes_only_the_window);
	tcase_add_test(tc, commit_refused);
	tcase_add_test(tc, threaded_commit_discard);
	tcase_add_test(tc, cap_tmpfs_counts_shadow_pages);
	tcase_add_test(tc, read_many_runs);
	tcase_add_test(tc, adopted_shadow_file);
	tcase_add_test(tc, forked_child_finds_private_pages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(cow_suite());
}
