/*
 * Unit tests for regions (lib/region.c through mapping.h): reads and
 * writes, resizing, sparse accounting, fallocate, seek, limits and a
 * threaded resize-under-load check. Run under -fsanitize=thread too.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "tests/unit/check_main.h"
#include "lib/store.h"
#include "lib/guard.h"
#include "lib/mapping.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static struct rfs_store *store;
static struct rfs_mapping *m;
static uint64_t page;
/* Each case runs on both kinds of store. */
static enum rfs_store_kind kind;

/* Bytes the store has allocated. */
static uint64_t used(void)
{
	struct rfs_store_usage u;

	rfs_store_usage(store, &u);
	return u.bytes_used;
}

static void open_region(uint64_t cap)
{
	/* The caller freed the old region: its store goes too. */
	rfs_store_free(store);
	store = NULL;
	m = NULL;
	ck_assert_int_eq(rfs_store_new(cap, 1024, kind, &store), 0);
	ck_assert_ptr_nonnull(store);
	ck_assert_int_eq(rfs_store_kind(store), kind);
	ck_assert_int_eq(rfs_region_new(store, &m), 0);
	ck_assert_ptr_nonnull(m);
}

static void setup_kind(enum rfs_store_kind k)
{
	page = (uint64_t)sysconf(_SC_PAGESIZE);
	ck_assert_int_eq(rfs_guard_init(), 0);
	kind = k;
	m = NULL;
	store = NULL;
	open_region(1ULL << 40);
}

static void setup_tmpfs(void)
{
	setup_kind(RFS_STORE_TMPFS);
}

static void setup_memfd(void)
{
	setup_kind(RFS_STORE_MEMFD);
}

static void teardown(void)
{
	rfs_mapping_free(m);
	m = NULL;
	ck_assert_uint_eq(used(), 0);
	rfs_store_free(store);
	store = NULL;
}

/* Read [off, off + len) through the iov into buf; returns the bytes read. */
static size_t rd(struct rfs_mapping *mm, void *buf, uint64_t off, size_t len)
{
	struct rfs_io io;
	size_t got = 0, sum = 0;
	int i;

	ck_assert_int_eq(rfs_mapping_read_begin(mm, off, len, &io), 0);
	ck_assert_int_ge(io.n, 0);
	ck_assert_int_le(io.n, RFS_IO_SEGS);
	ck_assert_uint_le(io.len, len);
	for (i = 0; i < io.n; i++) {
		ck_assert_ptr_nonnull(io.iov[i].iov_base);
		memcpy((char *)buf + got, io.iov[i].iov_base, io.iov[i].iov_len);
		got += io.iov[i].iov_len;
	}
	sum = io.len;
	rfs_mapping_read_end(mm, &io);
	ck_assert_uint_eq(got, sum);
	return got;
}

static void wr(struct rfs_mapping *mm, const void *buf, uint64_t off, size_t len)
{
	ck_assert_int_eq(rfs_mapping_write(mm, buf, len, off), (ssize_t)len);
}

/* Does [off, off + len) of the region hold only byte c? */
static bool all_bytes(struct rfs_mapping *mm, uint64_t off, size_t len, int c)
{
	unsigned char *buf = malloc(len);
	size_t i;
	bool ok = true;

	ck_assert_ptr_nonnull(buf);
	memset(buf, ~c, len);
	ck_assert_uint_eq(rd(mm, buf, off, len), len);
	for (i = 0; i < len && ok; i++)
		ok = buf[i] == (unsigned char)c;
	free(buf);
	return ok;
}

static unsigned char pattern(uint64_t pos, unsigned int seed)
{
	return (unsigned char)((pos * 2654435761u + seed) >> 7);
}

static void fill_pattern(unsigned char *buf, uint64_t off, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

static bool has_pattern(struct rfs_mapping *mm, uint64_t off, size_t len, unsigned int seed)
{
	unsigned char *buf = malloc(len);
	size_t i;
	bool ok = true;

	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(rd(mm, buf, off, len), len);
	for (i = 0; i < len && ok; i++)
		ok = buf[i] == pattern(off + i, seed);
	free(buf);
	return ok;
}

static void write_pattern(struct rfs_mapping *mm, uint64_t off, size_t len, unsigned int seed)
{
	unsigned char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	fill_pattern(buf, off, len, seed);
	wr(mm, buf, off, len);
	free(buf);
}

static void fill(struct rfs_mapping *mm, uint64_t off, size_t len, int c)
{
	unsigned char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	memset(buf, c, len);
	wr(mm, buf, off, len);
	free(buf);
}

/* ---- basic I/O ---- */

START_TEST(empty_region)
{
	char buf[16];

	ck_assert_int_eq(rfs_mapping_kind(m), RFS_KIND_REGION);
	ck_assert_uint_eq(rfs_mapping_size(m), 0);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 0);
	ck_assert_uint_eq(rd(m, buf, 0, sizeof(buf)), 0);
	ck_assert_uint_eq(rd(m, buf, 1000, sizeof(buf)), 0);
	ck_assert_uint_eq(used(), 0);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 0, 0), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 0);
	ck_assert_int_eq(rfs_mapping_sync(m, true), 0);
}
END_TEST

START_TEST(write_read_back)
{
	char buf[64];

	wr(m, "hello", 0, 5);
	ck_assert_uint_eq(rfs_mapping_size(m), 5);
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(rd(m, buf, 0, sizeof(buf)), 5); /* short at end of file */
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(rd(m, buf, 5, 10), 0);
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(rd(m, buf, 2, 2), 2);
	ck_assert_str_eq(buf, "ll");
	/* Overwrite in place: size unchanged. */
	wr(m, "XY", 3, 2);
	ck_assert_uint_eq(rfs_mapping_size(m), 5);
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(rd(m, buf, 0, 5), 5);
	ck_assert_str_eq(buf, "helXY");
	/* Overlapping the end extends. */
	wr(m, "1234", 4, 4);
	ck_assert_uint_eq(rfs_mapping_size(m), 8);
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(rd(m, buf, 0, 8), 8);
	ck_assert_str_eq(buf, "helX1234");
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
	ck_assert_uint_eq(used(), page);
}
END_TEST

/* read_into: the same bytes as read_begin, holes as zeros, nothing allocated. */
START_TEST(read_into)
{
	char buf[3 * 4096];

	ck_assert_int_eq(rfs_mapping_read_into(m, buf, sizeof(buf), 0), 0);
	wr(m, "head", 0, 4);
	wr(m, "tail", 2 * page + 4, 4);
	ck_assert_uint_eq(used(), 2 * page);
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(rfs_mapping_read_into(m, buf, sizeof(buf), 0), (ssize_t)(2 * page + 8));
	ck_assert_mem_eq(buf, "head", 4);
	for (uint64_t i = 4; i < 2 * page + 4; i++)
		ck_assert_int_eq(buf[i], 0);
	ck_assert_mem_eq(buf + 2 * page + 4, "tail", 4);
	ck_assert_int_eq(buf[2 * page + 8], 'x'); /* clipped at the end of the file */
	ck_assert_uint_eq(used(), 2 * page);	  /* the hole stayed a hole */
	ck_assert_int_eq(rfs_mapping_read_into(m, buf, 16, 2 * page + 8), 0);
	ck_assert_int_eq(rfs_mapping_read_into(m, buf, 2, 2 * page + 6), 2);
	ck_assert_mem_eq(buf, "il", 2);
}
END_TEST

START_TEST(write_past_eof)
{
	unsigned char buf[3 * 4096 + 100];
	uint64_t off = 2 * page + 1000;
	size_t i;

	wr(m, "abc", 0, 3);
	wr(m, "xyz", off, 3);
	ck_assert_uint_eq(rfs_mapping_size(m), off + 3);
	ck_assert_uint_le(off + 3, sizeof(buf));
	memset(buf, 0xee, sizeof(buf));
	ck_assert_uint_eq(rd(m, buf, 0, sizeof(buf)), off + 3);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	for (i = 3; i < off; i++)
		ck_assert_msg(buf[i] == 0, "gap byte %zu is 0x%02x", i, buf[i]);
	ck_assert_int_eq(memcmp(buf + off, "xyz", 3), 0);
	/* The gap's middle page was never written: not charged. */
	ck_assert_uint_eq(rfs_mapping_allocated(m), 2 * page);
	ck_assert_uint_eq(used(), 2 * page);

	/* A write straddling a page boundary, within the size. */
	wr(m, "PQRS", page - 2, 4);
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(rd(m, buf, page - 2, 4), 4);
	ck_assert_int_eq(memcmp(buf, "PQRS", 4), 0);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 3 * page);
	ck_assert_uint_eq(used(), 3 * page);
}
END_TEST

START_TEST(write_far_from_empty)
{
	char buf[4];

	wr(m, "z", 10 * MiB + 5, 1);
	ck_assert_uint_eq(rfs_mapping_size(m), 10 * MiB + 6);
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
	ck_assert_uint_eq(used(), page);
	ck_assert_uint_eq(rd(m, buf, 10 * MiB + 4, 4), 2);
	ck_assert_int_eq(buf[0], 0);
	ck_assert_int_eq(buf[1], 'z');
	ck_assert(all_bytes(m, 0, 64 * KiB, 0));
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
}
END_TEST

/* ---- resize ---- */

START_TEST(resize_grow)
{
	write_pattern(m, 0, 3000, 1);
	ck_assert_int_eq(rfs_mapping_resize(m, 3 * page + 5), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 3 * page + 5);
	ck_assert(has_pattern(m, 0, 3000, 1));
	ck_assert(all_bytes(m, 3000, 3 * page + 5 - 3000, 0));
	/* Growing costs nothing until written. */
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
	ck_assert_uint_eq(used(), page);
}
END_TEST

START_TEST(resize_shrink_grow)
{
	fill(m, 0, 3 * page, 0xab);
	ck_assert_uint_eq(used(), 3 * page);
	ck_assert_int_eq(rfs_mapping_resize(m, 100), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 100);
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
	ck_assert_uint_eq(used(), page);
	ck_assert(all_bytes(m, 0, 100, 0xab));
	ck_assert_int_eq(rfs_mapping_resize(m, 3 * page), 0);
	ck_assert(all_bytes(m, 0, 100, 0xab));
	ck_assert_msg(all_bytes(m, 100, 3 * page - 100, 0), "stale bytes past the cut");
	/* Shrink to zero and grow again. */
	ck_assert_int_eq(rfs_mapping_resize(m, 0), 0);
	ck_assert_uint_eq(used(), 0);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 0);
	ck_assert_int_eq(rfs_mapping_resize(m, page), 0);
	ck_assert(all_bytes(m, 0, page, 0));
	ck_assert_uint_eq(used(), 0);
}
END_TEST

START_TEST(resize_large_growth)
{
	ck_assert_int_eq(rfs_mapping_resize(m, MiB), 0);
	write_pattern(m, 0, MiB, 7);
	ck_assert_int_eq(rfs_mapping_resize(m, 64 * MiB), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 64 * MiB);
	ck_assert(has_pattern(m, 0, MiB, 7));
	write_pattern(m, 64 * MiB - 5000, 5000, 8);
	ck_assert(has_pattern(m, 0, MiB, 7));
	ck_assert(has_pattern(m, 64 * MiB - 5000, 5000, 8));
	ck_assert(all_bytes(m, MiB, MiB, 0));
	/* Growth by writing past the end, past the new reservation too. */
	write_pattern(m, 200 * MiB, page, 9);
	ck_assert_uint_eq(rfs_mapping_size(m), 200 * MiB + page);
	ck_assert(has_pattern(m, 0, MiB, 7));
	ck_assert(has_pattern(m, 64 * MiB - 5000, 5000, 8));
	ck_assert(has_pattern(m, 200 * MiB, page, 9));
	ck_assert_uint_eq(rfs_mapping_allocated(m),
			  MiB + (64 * MiB - (64 * MiB - 5000) / page * page) + page);
}
END_TEST

START_TEST(efbig)
{
	char c = 'x';

	ck_assert_int_eq(rfs_mapping_resize(m, RFS_REGION_MAX + 1), -EFBIG);
	ck_assert_int_eq(rfs_mapping_write(m, &c, 1, RFS_REGION_MAX), -EFBIG);
	ck_assert_int_eq(rfs_mapping_write(m, &c, 1, UINT64_MAX), -EFBIG);
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, RFS_REGION_MAX, page), -EFBIG);
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, UINT64_MAX - 1, page), -EFBIG);
	ck_assert_uint_eq(rfs_mapping_size(m), 0);
	ck_assert_uint_eq(used(), 0);
	wr(m, "ok", 0, 2);
	ck_assert_int_eq(rfs_mapping_resize(m, RFS_REGION_MAX + page), -EFBIG);
	ck_assert_uint_eq(rfs_mapping_size(m), 2);
	ck_assert(all_bytes(m, 0, 1, 'o'));
}
END_TEST

/* ---- accounting ---- */

START_TEST(enospc)
{
	unsigned char *buf = calloc(1, 2 * MiB);

	ck_assert_ptr_nonnull(buf);
	rfs_mapping_free(m);
	open_region(MiB);
	if (kind == RFS_STORE_TMPFS) {
		/* tmpfs writes what fits, as write(2) does on any file system. */
		ck_assert_int_eq(rfs_mapping_write(m, buf, 2 * MiB, 0), (ssize_t)MiB);
	} else {
		/* The memfd store refuses a write that would cross the cap. */
		ck_assert_int_eq(rfs_mapping_write(m, buf, 2 * MiB, 0), -ENOSPC);
		ck_assert_uint_eq(used(), 0);
		ck_assert_uint_eq(rfs_mapping_size(m), 0);
		ck_assert_uint_eq(rfs_mapping_allocated(m), 0);
		/* Exactly the cap fits. */
		wr(m, buf, 0, MiB);
	}
	/* One byte more does not. */
	ck_assert_uint_eq(used(), MiB);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 1, MiB), -ENOSPC);
	ck_assert_uint_eq(rfs_mapping_size(m), MiB);
	ck_assert_uint_eq(used(), MiB);
	/* Overwriting what is there costs nothing. */
	wr(m, buf, 5, 100 * KiB);
	ck_assert_uint_eq(used(), MiB);
	free(buf);
}
END_TEST

START_TEST(enospc_sparse)
{
	unsigned char buf[2 * 4096];
	uint64_t total = 4 * page;

	ck_assert_uint_ge(sizeof(buf), 2 * page);
	memset(buf, 0x5a, sizeof(buf));
	rfs_mapping_free(m);
	open_region(total);
	fill(m, 0, 4 * page, 0x11);
	ck_assert_int_eq(rfs_mapping_fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					       3 * page, page),
			 0);
	ck_assert_uint_eq(used(), 3 * page);
	/* Not dense now; overwriting two written pages with one page free fits. */
	wr(m, buf, 0, 2 * page);
	ck_assert_uint_eq(used(), 3 * page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 3 * page);
	/* Filling the hole takes the last page; then nothing more fits. */
	wr(m, buf, 3 * page, page);
	ck_assert_uint_eq(used(), 4 * page);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 1, 4 * page), -ENOSPC);
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 4 * page, page), -ENOSPC);
	ck_assert_uint_eq(used(), 4 * page);
	ck_assert_uint_eq(rfs_mapping_size(m), 4 * page);

	/* At the cap with holes inside the size: a write into a hole is refused. */
	ck_assert_int_eq(rfs_mapping_resize(m, 8 * page), 0);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 1, 5 * page), -ENOSPC);
	ck_assert_uint_eq(used(), 4 * page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 4 * page);
	ck_assert(all_bytes(m, 5 * page, page, 0));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(4 * page), SEEK_DATA), -ENXIO);
}
END_TEST

START_TEST(sparse_resize)
{
	char buf[4];
	off_t at = (off_t)(300 * MiB + 17);

	ck_assert_int_eq(rfs_mapping_resize(m, GiB), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), GiB);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 0);
	ck_assert_uint_eq(used(), 0);
	/* Reading a hole gives zeros and allocates nothing, by any count. */
	ck_assert(all_bytes(m, 512 * MiB, 256 * KiB, 0));
	ck_assert(all_bytes(m, GiB - 100, 100, 0));
	ck_assert_uint_eq(rfs_mapping_allocated(m), 0);
	ck_assert_uint_eq(used(), 0);
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_DATA), -ENXIO);
	/* One byte in a hole: one page. */
	wr(m, "Q", (uint64_t)at, 1);
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
	ck_assert_uint_eq(used(), page);
	ck_assert_uint_eq(rfs_mapping_size(m), GiB);
	ck_assert_uint_eq(rd(m, buf, (uint64_t)at - 1, 3), 3);
	ck_assert_int_eq(buf[0], 0);
	ck_assert_int_eq(buf[1], 'Q');
	ck_assert_int_eq(buf[2], 0);
	/* A read spanning data and holes allocates nothing more. */
	ck_assert(!all_bytes(m, (uint64_t)at - 3 * page, 6 * page, 0));
	ck_assert(all_bytes(m, (uint64_t)at + 1, 3 * page, 0));
	ck_assert_uint_eq(rfs_mapping_allocated(m), page);
	ck_assert_uint_eq(used(), page);
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_DATA), (off_t)(300 * MiB));
	/* A second byte in the same page is free. */
	wr(m, "R", (uint64_t)at + 1, 1);
	ck_assert_uint_eq(used(), page);
}
END_TEST

START_TEST(free_returns_charge)
{
	struct rfs_mapping *m2 = NULL;

	ck_assert_int_eq(rfs_region_new(store, &m2), 0);
	ck_assert_ptr_nonnull(m2);
	fill(m, 0, 5 * page, 1);
	fill(m2, 10 * page, 2 * page, 2);
	ck_assert_int_eq(rfs_mapping_fallocate(m2, FALLOC_FL_KEEP_SIZE, 20 * page, 3 * page), 0);
	ck_assert_uint_eq(used(), 10 * page);
	rfs_mapping_free(m2);
	ck_assert_uint_eq(used(), 5 * page);
	rfs_mapping_free(m);
	m = NULL;
	ck_assert_uint_eq(used(), 0);
	rfs_mapping_free(NULL); /* like free(NULL) */
}
END_TEST

/* Reserved bytes (cow views' private pages) and regions share one cap. */
START_TEST(reserve_shares_cap)
{
	unsigned char *buf = calloc(1, MiB);
	struct rfs_store_usage u;

	ck_assert_ptr_nonnull(buf);
	rfs_mapping_free(m);
	open_region(MiB);
	ck_assert_int_eq(rfs_store_reserve(store, (int64_t)(MiB / 2)), 0);
	rfs_store_usage(store, &u);
	ck_assert_uint_eq(u.bytes_total, MiB);
	ck_assert_uint_eq(u.bytes_used, MiB / 2);
	ck_assert_uint_eq(u.reserved, MiB / 2);
	/* Regions get what is left, and no more. */
	wr(m, buf, 0, MiB / 2);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 1, MiB / 2), -ENOSPC);
	/* Nor can the reserve take what regions use. */
	ck_assert_int_eq(rfs_store_reserve(store, (int64_t)page), -ENOSPC);
	ck_assert_int_eq(rfs_store_reserve(store, -(int64_t)(MiB / 2)), 0);
	wr(m, buf, MiB / 2, MiB / 4);
	rfs_store_usage(store, &u);
	ck_assert_uint_eq(u.bytes_used, 3 * MiB / 4);
	ck_assert_uint_eq(u.reserved, 0);
	/* The whole cap can be reserved; then regions get nothing. */
	ck_assert_int_eq(rfs_mapping_resize(m, 0), 0);
	ck_assert_int_eq(rfs_store_reserve(store, (int64_t)MiB), 0);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 1, 0), -ENOSPC);
	rfs_store_usage(store, &u);
	ck_assert_uint_eq(u.bytes_used, MiB);
	ck_assert_int_eq(rfs_store_reserve(store, -(int64_t)MiB), 0);
	wr(m, buf, 0, MiB);
	free(buf);
}
END_TEST

/* ---- fallocate ---- */

START_TEST(fallocate_mode0)
{
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 0, 4 * page), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 4 * page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 4 * page);
	ck_assert_uint_eq(used(), 4 * page);
	ck_assert(all_bytes(m, 0, 4 * page, 0));

	/* Inside a sparse region: charges just the range, size unchanged. */
	ck_assert_int_eq(rfs_mapping_resize(m, 64 * page), 0);
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 10 * page, 2 * page), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 64 * page);
	ck_assert_uint_eq(used(), 6 * page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 6 * page);
	/* Again over the same range: nothing more. */
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 10 * page, 2 * page), 0);
	ck_assert_uint_eq(used(), 6 * page);
	/* Past the end: grows the size, and the new bytes can be written. */
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 3 * MiB, page), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 3 * MiB + page);
	ck_assert_uint_eq(used(), 7 * page);
	write_pattern(m, 3 * MiB, page, 3);
	ck_assert(has_pattern(m, 3 * MiB, page, 3));
	ck_assert_uint_eq(used(), 7 * page);
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 0, 0), -EINVAL);
}
END_TEST

START_TEST(fallocate_keep_size)
{
	wr(m, "abc", 0, 3);
	ck_assert_int_eq(rfs_mapping_fallocate(m, FALLOC_FL_KEEP_SIZE, 0, 8 * page), 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 3);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 8 * page);
	ck_assert_uint_eq(used(), 8 * page);
	ck_assert(all_bytes(m, 0, 1, 'a'));
	/* Writing into the preallocated pages costs nothing more. */
	fill(m, 3, 8 * page - 3, 0x77);
	ck_assert_uint_eq(rfs_mapping_size(m), 8 * page);
	ck_assert_uint_eq(used(), 8 * page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 8 * page);
}
END_TEST

START_TEST(fallocate_punch)
{
	fill(m, 0, 4 * page, 0xcd);
	ck_assert_uint_eq(used(), 4 * page);
	ck_assert_int_eq(rfs_mapping_fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, page,
					       2 * page),
			 0);
	ck_assert_uint_eq(rfs_mapping_size(m), 4 * page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 2 * page);
	ck_assert_uint_eq(used(), 2 * page);
	ck_assert(all_bytes(m, 0, page, 0xcd));
	ck_assert(all_bytes(m, page, 2 * page, 0));
	ck_assert(all_bytes(m, 3 * page, page, 0xcd));
	/* The read of the hole did not fill it back in. */
	ck_assert_uint_eq(rfs_mapping_allocated(m), 2 * page);
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_HOLE), (off_t)page);
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)page, SEEK_DATA), (off_t)(3 * page));
	/* A partial-page punch zeroes the bytes but keeps the page. */
	ck_assert_int_eq(
		rfs_mapping_fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10, 100), 0);
	ck_assert(all_bytes(m, 0, 10, 0xcd));
	ck_assert(all_bytes(m, 10, 100, 0));
	ck_assert(all_bytes(m, 110, page - 110, 0xcd));
	ck_assert_uint_eq(used(), 2 * page);
}
END_TEST

/* Seals as memfd's F_SEAL_*: only accumulate, each refusing its change with EPERM. */
START_TEST(seals)
{
	char buf[16] = "sealed";

	fill(m, 0, 2 * page, 0xab);
	ck_assert_uint_eq(rfs_mapping_seals(m), 0);
	ck_assert_int_eq(rfs_mapping_seal(m, RFS_SEAL_SHRINK), 0);
	ck_assert_int_eq(rfs_mapping_resize(m, page), -EPERM);
	ck_assert_int_eq(rfs_mapping_resize(m, 3 * page), 0);
	ck_assert_int_eq(rfs_mapping_seal(m, RFS_SEAL_GROW), 0);
	ck_assert_uint_eq(rfs_mapping_seals(m), RFS_SEAL_SHRINK | RFS_SEAL_GROW);
	ck_assert_int_eq(rfs_mapping_resize(m, 4 * page), -EPERM);
	ck_assert_int_eq(rfs_mapping_resize(m, 3 * page), 0); /* no change is no change */
	ck_assert_int_eq(rfs_mapping_write(m, buf, 6, 3 * page - 3), -EPERM);
	ck_assert_int_eq(rfs_mapping_fallocate(m, 0, 2 * page, 2 * page), -EPERM);
	ck_assert_int_eq(rfs_mapping_fallocate(m, FALLOC_FL_KEEP_SIZE, 2 * page, 2 * page), -EPERM);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 6, 0), 6);
	ck_assert_int_eq(
		rfs_mapping_fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, page, page),
		0);
	ck_assert_int_eq(rfs_mapping_seal(m, RFS_SEAL_FUTURE_WRITE), 0);
	ck_assert_int_eq(rfs_mapping_write(m, buf, 6, 0), -EPERM);
	ck_assert_int_eq(rfs_mapping_write_back(m, buf, 6, 10), 6); /* an old mapping's */
	ck_assert_int_eq(
		rfs_mapping_fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, page),
		-EPERM);
	ck_assert_int_eq(rfs_mapping_seal(m, RFS_SEAL_WRITE), 0);
	ck_assert_int_eq(rfs_mapping_write_back(m, buf, 6, 10), -EPERM);
	ck_assert_uint_eq(rfs_mapping_seals(m), RFS_SEALS_ALL);
	ck_assert_int_eq(rfs_mapping_seal(m, 1u << 7), -EINVAL);
	ck_assert(all_bytes(m, 16, page - 16, 0xab));
	ck_assert_uint_eq(rfs_mapping_size(m), 3 * page);
}
END_TEST

START_TEST(fallocate_unsupported)
{
	static const int modes[] = {
		FALLOC_FL_PUNCH_HOLE,
		FALLOC_FL_ZERO_RANGE,
		FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
		FALLOC_FL_COLLAPSE_RANGE,
		FALLOC_FL_INSERT_RANGE,
		FALLOC_FL_UNSHARE_RANGE,
		FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE,
	};
	size_t i;

	fill(m, 0, 2 * page, 0x42);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		ck_assert_int_eq(rfs_mapping_fallocate(m, modes[i], 0, page), -EOPNOTSUPP);
	ck_assert_uint_eq(rfs_mapping_size(m), 2 * page);
	ck_assert_uint_eq(used(), 2 * page);
	ck_assert(all_bytes(m, 0, 2 * page, 0x42));
}
END_TEST

/*
 * Pages allocated past the end of file (KEEP_SIZE) must not make the region
 * look fully backed: here page 0 is a hole while the page count happens to
 * equal the page-rounded size.
 */
static void hole_with_pages_past_eof(void)
{
	ck_assert_int_eq(rfs_mapping_resize(m, 2 * page), 0);
	wr(m, "b", page, 1);
	ck_assert_int_eq(rfs_mapping_fallocate(m, FALLOC_FL_KEEP_SIZE, 2 * page, page), 0);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 2 * page);
	ck_assert_uint_eq(used(), 2 * page);
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_DATA), (off_t)page);
}

START_TEST(keep_size_hole_write_charges)
{
	hole_with_pages_past_eof();
	wr(m, "a", 0, 1); /* fills the hole at page 0 */
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_DATA), 0);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 3 * page);
	ck_assert_uint_eq(used(), 3 * page);
}
END_TEST

START_TEST(keep_size_hole_read_no_alloc)
{
	hole_with_pages_past_eof();
	ck_assert(all_bytes(m, 0, page, 0));
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_DATA), (off_t)page);
	ck_assert_uint_eq(rfs_mapping_allocated(m), 2 * page);
	ck_assert_uint_eq(used(), 2 * page);
}
END_TEST

/* ---- seek ---- */

START_TEST(seek_data_hole)
{
	ck_assert_int_eq(rfs_mapping_resize(m, 16 * page), 0);
	fill(m, 4 * page, 2 * page, 1);
	fill(m, 10 * page + 7, 1, 2);
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_DATA), (off_t)(4 * page));
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_HOLE), 0);
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(4 * page + 3), SEEK_DATA),
			 (off_t)(4 * page + 3));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(4 * page), SEEK_HOLE), (off_t)(6 * page));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(6 * page), SEEK_DATA), (off_t)(10 * page));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(10 * page), SEEK_HOLE), (off_t)(11 * page));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(11 * page), SEEK_DATA), -ENXIO);
	/* The end of file is a hole; at or past it is -ENXIO. */
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(15 * page), SEEK_HOLE), (off_t)(15 * page));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(16 * page), SEEK_HOLE), -ENXIO);
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)(16 * page), SEEK_DATA), -ENXIO);
	ck_assert_int_eq(rfs_mapping_seek(m, -1, SEEK_DATA), -ENXIO);
	/* Fully written: no hole before the end. */
	ck_assert_int_eq(rfs_mapping_resize(m, 0), 0);
	fill(m, 0, 3 * page, 9);
	ck_assert_int_eq(rfs_mapping_seek(m, 0, SEEK_HOLE), (off_t)(3 * page));
	ck_assert_int_eq(rfs_mapping_seek(m, (off_t)page, SEEK_DATA), (off_t)page);
}
END_TEST

/* ---- threads ---- */

#define WRITERS	  4
#define SPAN	  (256 * KiB)
#define CHUNK	  (4 * KiB + 123) /* not page aligned */
#define ROUNDS	  40
#define GROW_FROM (WRITERS * SPAN)

struct worker {
	pthread_t tid;
	unsigned int id;
	int bad; /* mismatches seen */
	int errs;
};

static _Atomic int resizer_done;
static _Atomic unsigned int last_round[WRITERS];

static void *writer(void *arg)
{
	struct worker *w = arg;
	uint64_t base = w->id * SPAN, off;
	unsigned char *buf = malloc(CHUNK), *got = malloc(CHUNK);
	unsigned int round;

	if (!buf || !got) {
		w->errs++;
		goto out;
	}
	/* At least ROUNDS rounds, and on until the resizer is through. */
	for (round = 0; round < ROUNDS || !atomic_load(&resizer_done); round++) {
		for (off = base; off + CHUNK <= base + SPAN; off += CHUNK) {
			struct rfs_io io;
			size_t n = 0;
			int i;

			fill_pattern(buf, off, CHUNK, w->id * 1000 + round);
			if (rfs_mapping_write(m, buf, CHUNK, off) != (ssize_t)CHUNK) {
				w->errs++;
				continue;
			}
			if (rfs_mapping_read_begin(m, off, CHUNK, &io)) {
				w->errs++;
				continue;
			}
			for (i = 0; i < io.n; i++) {
				memcpy(got + n, io.iov[i].iov_base, io.iov[i].iov_len);
				n += io.iov[i].iov_len;
			}
			rfs_mapping_read_end(m, &io);
			if (n != CHUNK || memcmp(buf, got, CHUNK))
				w->bad++;
		}
	}
	atomic_store(&last_round[w->id], round - 1);
out:
	free(buf);
	free(got);
	return NULL;
}

static void *resizer(void *arg)
{
	int *errs = arg;
	uint64_t size = GROW_FROM;

	/* Grow only, in odd steps, through eight reservation doublings. */
	while (size < 256 * MiB) {
		size += MiB / 2 + 1;
		if (rfs_mapping_resize(m, size))
			(*errs)++;
	}
	atomic_store(&resizer_done, 1);
	return NULL;
}

START_TEST(threaded_resize)
{
	struct worker w[WRITERS];
	pthread_t rt;
	int rerrs = 0;
	unsigned int i;
	uint64_t off;

	atomic_store(&resizer_done, 0);
	memset(w, 0, sizeof(w));
	ck_assert_int_eq(pthread_create(&rt, NULL, resizer, &rerrs), 0);
	for (i = 0; i < WRITERS; i++) {
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&w[i].tid, NULL, writer, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		ck_assert_int_eq(pthread_join(w[i].tid, NULL), 0);
		ck_assert_int_eq(w[i].errs, 0);
		ck_assert_int_eq(w[i].bad, 0);
	}
	ck_assert_int_eq(pthread_join(rt, NULL), 0);
	ck_assert_int_eq(rerrs, 0);
	ck_assert_uint_gt(rfs_mapping_size(m), 256 * MiB);
	for (i = 0; i < WRITERS; i++)
		for (off = i * SPAN; off + CHUNK <= (i + 1) * SPAN; off += CHUNK)
			ck_assert(
				has_pattern(m, off, CHUNK, i * 1000 + atomic_load(&last_round[i])));
	/* Accounting agrees with itself after the concurrent writes. */
	ck_assert_uint_eq(used(), rfs_mapping_allocated(m));
	ck_assert_uint_le(rfs_mapping_allocated(m), WRITERS * SPAN);
}
END_TEST

/* ---- the store made without privileges ---- */

/*
 * As a user without CAP_SYS_ADMIN (root drops to nobody in a child), the
 * store is still a private tmpfs (made inside a user namespace), and the
 * kernel enforces its cap. Each check exits with its own status.
 */
static int unprivileged_store(void)
{
	static char buf[2 * 4096];
	struct rfs_store *s;
	struct rfs_mapping *r;
	struct rfs_io io = {0};
	int err = 0;

	if (getuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
			      setresuid(65534, 65534, 65534) < 0 ||
			      /* as after exec: a changed uid makes /proc/self root's */
			      prctl(PR_SET_DUMPABLE, 1) < 0))
		return 10;
	err = rfs_store_new(4096, 16, RFS_STORE_TMPFS, &s);
	if (err)
		return 11;
#ifndef __SANITIZE_THREAD__
	/* (ThreadSanitizer restarts its thread in a forked child, and a
	 * multithreaded process may not unshare a user namespace: memfds.) */
	if (rfs_store_kind(s) != RFS_STORE_TMPFS)
		return 12;
#endif
	if (rfs_region_new(s, &r))
		return 13;
	memset(buf, 'u', sizeof(buf));
	if (rfs_mapping_write(r, buf, 4096, 0) != 4096)
		return 14;
	if (rfs_mapping_write(r, buf, 1, 4096) != -ENOSPC)
		return 15;
	if (rfs_mapping_read_begin(r, 0, 4096, &io) || io.len != 4096 ||
	    memcmp(io.iov[0].iov_base, buf, 4096))
		return 16;
	rfs_mapping_read_end(r, &io);
	rfs_mapping_free(r);
	rfs_store_free(s);
	/* noswap needs CAP_SYS_ADMIN: refused, never memfds in its place. */
	if (rfs_store_new_tuned(4096, 16, RFS_STORE_TMPFS, &(struct rfs_store_tune){.noswap = true},
				&s) != -EPERM)
		return 17;
	return 0;
}

/* A region of s holding text at 0, and its file number. */
static uint64_t region_with(struct rfs_store *s, const char *text, struct rfs_mapping **r)
{
	ck_assert_int_eq(rfs_region_new(s, r), 0);
	ck_assert_int_eq(rfs_mapping_write(*r, text, strlen(text), 0), (ssize_t)strlen(text));
	return rfs_region_file(*r);
}

/* A region of s, as declared again by a live upgrade: kept, with text. */
static void region_kept(struct rfs_store *s, uint64_t id, const char *text)
{
	struct rfs_mapping *r;
	struct rfs_io io = {0};

	ck_assert_int_eq(rfs_region_new(s, &r), 0);
	ck_assert_uint_eq(rfs_region_file(r), id);
	ck_assert(rfs_region_kept(r));
	ck_assert_int_eq(rfs_mapping_read_begin(r, 0, strlen(text), &io), 0);
	ck_assert_uint_eq(io.len, strlen(text));
	ck_assert(memcmp(io.iov[0].iov_base, text, strlen(text)) == 0);
	rfs_mapping_read_end(r, &io);
	rfs_mapping_free(r);
}

/* A live upgrade's store: the instance and its budgets' instances handed
 * on, the declared files taken as they are, in the order made. */
START_TEST(store_inherit)
{
	struct rfs_store *s, *b, *s2, *b2, *none;
	struct rfs_mapping *r, *rb, *fresh;
	struct rfs_store_usage use;
	uint64_t id, idb;
	struct rfs_store_kept dirs[4];

	ck_assert_int_eq(rfs_store_new(1 << 20, 16, RFS_STORE_TMPFS, &s), 0);
	if (rfs_store_kind(s) != RFS_STORE_TMPFS) {
		rfs_store_free(s);
		return; /* memfds are not handed on */
	}
	/* A budget that does not fit takes nothing from the cap. */
	ck_assert_int_eq(rfs_store_new_budget(s, 2 << 20, &none), -ENOSPC);
	rfs_store_usage(s, &use);
	ck_assert_uint_eq(use.reserved, 0);
	ck_assert_int_eq(rfs_store_new_budget(s, 256 << 10, &b), 0);
	id = region_with(s, "in the mount", &r);
	idb = region_with(b, "in the budget", &rb);
	ck_assert_uint_eq(rfs_store_budget_roots(s, dirs, 4), 1);
	ck_assert_uint_eq(dirs[0].id, rfs_store_budget_id(b));
	ck_assert_int_eq(rfs_store_inherit(rfs_store_root(s), dirs, 1, 1 << 20, 16, NULL, &s2), 0);
	region_kept(s2, id, "in the mount");
	ck_assert_int_eq(rfs_store_new_budget(s2, 256 << 10, &b2), 0);
	region_kept(b2, idb, "in the budget");
	/* More budgets than were handed on: refused, not made empty. */
	ck_assert_int_eq(rfs_store_new_budget(s2, 4096, &none), -EOPNOTSUPP);
	rfs_store_inherited(s2);
	ck_assert_int_eq(rfs_region_new(s2, &fresh), 0);
	ck_assert(!rfs_region_kept(fresh));
	ck_assert_uint_gt(rfs_region_file(fresh), id);
	rfs_mapping_free(fresh);
	rfs_store_free(b2);
	rfs_store_free(s2);
	rfs_mapping_free(r);
	rfs_mapping_free(rb);
	rfs_store_free(b);
	rfs_store_free(s);
}
END_TEST

/* What rfs_store_on_budgets' hooks were told: instances made and gone. */
struct told {
	uint64_t made[16], gone[16];
	int n_made, n_gone, fail;
};

static int told_made(void *ctx, uint64_t id, int dir)
{
	struct told *t = ctx;

	ck_assert_int_ge(dir, 0);
	if (t->fail)
		return t->fail;
	t->made[t->n_made++] = id;
	return 0;
}

static void told_gone(void *ctx, uint64_t id)
{
	struct told *t = ctx;

	t->gone[t->n_gone++] = id;
}

/* A restart: budgets made while mounted are told of; the successor's
 * replay takes each by its number, files as they were; an instance kept
 * and not taken is let go; the replay's reservations are not held to what
 * the files use at its end, and the sizes are set again after it. */
START_TEST(store_keep_budget)
{
	struct told t = {0};
	const struct rfs_store_hooks hooks = {told_made, told_gone, &t};
	struct rfs_store *s, *b, *b2, *s2, *none, *big;
	struct rfs_mapping *rb, *fill;
	struct rfs_store_usage use;
	uint64_t idb;
	int dir, orphan;

	ck_assert_int_eq(rfs_store_new(1 << 20, 16, RFS_STORE_TMPFS, &s), 0);
	if (rfs_store_kind(s) != RFS_STORE_TMPFS) {
		rfs_store_free(s);
		return; /* memfds are not kept */
	}
	rfs_store_on_budgets(s, &hooks);
	t.fail = -EPIPE;
	ck_assert_int_eq(rfs_store_new_budget(s, 64 << 10, &none), -EPIPE);
	rfs_store_usage(s, &use);
	ck_assert_uint_eq(use.reserved, 0); /* refused: nothing kept, nothing taken */
	t.fail = 0;
	ck_assert_int_eq(rfs_store_new_budget(s, 256 << 10, &b), 0);
	ck_assert_int_eq(t.n_made, 1);
	ck_assert_uint_eq(t.made[0], rfs_store_budget_id(b));
	idb = region_with(b, "in the budget", &rb);

	/* The successor: the same instance (a fork's copy), b's kept. */
	ck_assert_int_eq(rfs_store_inherit(rfs_store_root(s), NULL, 0, 1 << 20, 16, NULL, &s2), 0);
	rfs_store_inherited(s2);
	rfs_store_on_budgets(s2, &hooks);
	dir = fcntl(rfs_store_root(b), F_DUPFD_CLOEXEC, 0);
	orphan = fcntl(rfs_store_root(b), F_DUPFD_CLOEXEC, 0);
	ck_assert_int_eq(rfs_store_keep_budget(s2, rfs_store_budget_id(b), dir), 0);
	ck_assert_int_eq(rfs_store_keep_budget(s2, 99, orphan), 0);
	/* Regions fill the mount's store past what the replay reserves. */
	ck_assert_int_eq(rfs_region_new(s2, &fill), 0);
	ck_assert_int_eq(rfs_mapping_resize(fill, 700 << 10), 0);
	{
		int fd = rfs_mapping_backing_fd(fill);

		ck_assert_int_eq(fallocate(fd, 0, 0, 700 << 10), 0);
		close(fd);
	}
	ck_assert_int_eq(rfs_store_replay(s2, true), 0);
	/* Made once when the regions were fewer: taken now, unchecked. */
	ck_assert_int_eq(rfs_store_new_budget_as(s2, 512 << 10, 50, &big), 0);
	rfs_store_free(big);
	ck_assert_int_eq(rfs_store_new_budget_as(s2, 256 << 10, rfs_store_budget_id(b), &b2), 0);
	ck_assert_int_eq(t.n_made, 2); /* 50 was made; b's instance was kept */
	ck_assert_uint_eq(t.made[1], 50);
	{
		struct rfs_store_file f;
		char buf[16] = "";
		int fd;

		ck_assert_int_eq(rfs_store_adopt(b2, idb, &f), 0);
		fd = rfs_store_open(b2, &f);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pread(fd, buf, 13, 0), 13);
		ck_assert_str_eq(buf, "in the budget");
		close(fd);
	}
	ck_assert_int_eq(rfs_store_replay(s2, false), 0);
	/* 50 went, then 99, kept and never taken. */
	ck_assert_int_eq(t.n_gone, 2);
	ck_assert_uint_eq(t.gone[0], 50);
	ck_assert_uint_eq(t.gone[1], 99);
	rfs_store_usage(s2, &use);
	ck_assert_uint_eq(use.reserved, 256 << 10);
	/* Numbered past every budget made. */
	ck_assert_int_eq(rfs_store_new_budget(s2, 4096, &none), 0);
	ck_assert_uint_gt(rfs_store_budget_id(none), 50);
	rfs_store_free(none);
	rfs_mapping_free(fill);
	rfs_store_free(b2);
	rfs_store_free(s2);
	rfs_mapping_free(rb);
	rfs_store_free(b);
	rfs_store_free(s);
}
END_TEST

START_TEST(store_without_privileges)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(unprivileged_store());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "unprivileged store: check %d failed (status %#x)", WEXITSTATUS(status),
		      status);
}
END_TEST

START_TEST(store_noswap)
{
	const struct rfs_store_tune tune = {.noswap = true};
	struct rfs_store *s = NULL;
	struct rfs_mapping *r;
	char buf[4096] = {'n'};

	ck_assert_int_eq(rfs_store_new_tuned(1 << 20, 16, RFS_STORE_MEMFD, &tune, &s), -EOPNOTSUPP);
	ck_assert_ptr_null(s);
	if (geteuid() != 0)
		return; /* the unprivileged case checks -EPERM */
	ck_assert_int_eq(rfs_store_new_tuned(1 << 20, 16, RFS_STORE_TMPFS, &tune, &s), 0);
	ck_assert_int_eq(rfs_store_kind(s), RFS_STORE_TMPFS);
	ck_assert(rfs_store_noswap(s));
	ck_assert_int_eq(rfs_region_new(s, &r), 0);
	ck_assert_int_eq(rfs_mapping_write(r, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	rfs_mapping_free(r);
	rfs_store_free(s);
	ck_assert_int_eq(rfs_store_new(1 << 20, 16, RFS_STORE_TMPFS, &s), 0);
	ck_assert(!rfs_store_noswap(s));
	rfs_store_free(s);
}
END_TEST

static Suite *region_suite(void)
{
	Suite *s = suite_create("region");
	struct {
		const char *name;
		int timeout;
		const TTest *tests[8];
	} cases[] = {
		{"io",
		 10,
		 {empty_region, write_read_back, read_into, write_past_eof, write_far_from_empty}},
		{"resize", 30, {resize_grow, resize_shrink_grow, resize_large_growth, efbig}},
		{"accounting",
		 30,
		 {enospc, enospc_sparse, sparse_resize, free_returns_charge, reserve_shares_cap}},
		{"fallocate",
		 10,
		 {fallocate_mode0, fallocate_keep_size, fallocate_punch, fallocate_unsupported,
		  seals}},
		{"density", 10, {keep_size_hole_write_charges, keep_size_hole_read_no_alloc}},
		{"seek", 10, {seek_data_hole}},
		{"threads", 120, {threaded_resize}},
	};
	size_t i, j;
	TCase *tc;

	for (int k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			static char names[2][8][32]; /* Check keeps the pointer */

			snprintf(names[k][i], sizeof(names[k][i]), "%s_%s", k ? "memfd" : "tmpfs",
				 cases[i].name);
			tc = tcase_create(names[k][i]);
			tcase_set_timeout(tc, cases[i].timeout);
			tcase_add_checked_fixture(tc, k ? setup_memfd : setup_tmpfs, teardown);
			for (j = 0; j < 8 && cases[i].tests[j]; j++)
				tcase_add_test(tc, cases[i].tests[j]);
			suite_add_tcase(s, tc);
		}
	}
	tc = tcase_create("unprivileged");
	tcase_set_timeout(tc, 10);
	tcase_add_checked_fixture(tc, setup_tmpfs, teardown);
	tcase_add_test(tc, store_without_privileges);
	tcase_add_test(tc, store_noswap);
	tcase_add_test(tc, store_inherit);
	tcase_add_test(tc, store_keep_budget);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(region_suite());
}
