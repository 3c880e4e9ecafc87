/*
 * Unit tests for windows of regions (lib/regwin.h through mapping.h):
 * bounds, change notices both ways, how region opens are served, a region
 * shrunk under a window, a window outliving its region's name, cow
 * windows' commit into the region. On both kinds of store.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "tests/unit/check_main.h"
#include "tests/unit/read_exact.h"
#include "lib/guard.h"
#include "lib/mapping.h"
#include "lib/store.h"
#include "lib/windows.h"

#define KiB (1ULL << 10)

/* The change notices windows.h delivered, in order. */
struct notice {
	struct rfs_mapping *m;
	uint64_t off, len;
};

static struct rfs_store *store;
static uint64_t files_before; /* the store's own (a tmpfs counts its root) */
static struct rfs_windows *win;
static struct rfs_mapping *region;
static enum rfs_store_kind kind;
static pthread_mutex_t notices_lock = PTHREAD_MUTEX_INITIALIZER;
static struct notice notices[64];
static size_t n_notices;

static void changed(void *ctx, struct rfs_mapping *m, uint64_t off, uint64_t len)
{
	(void)ctx;
	pthread_mutex_lock(&notices_lock);
	if (n_notices < sizeof(notices) / sizeof(notices[0]))
		notices[n_notices++] = (struct notice){m, off, len};
	pthread_mutex_unlock(&notices_lock);
}

/* Was m told of exactly [off, off + len), once, since the last forget? */
static bool told(struct rfs_mapping *m, uint64_t off, uint64_t len)
{
	size_t hits = 0;

	for (size_t i = 0; i < n_notices; i++)
		if (notices[i].m == m)
			hits += notices[i].off == off && notices[i].len == len ? 1 : 100;
	return hits == 1;
}

static bool told_nothing(struct rfs_mapping *m)
{
	for (size_t i = 0; i < n_notices; i++)
		if (notices[i].m == m)
			return false;
	return true;
}

static void forget(void)
{
	n_notices = 0;
}

static uint64_t files_used(void)
{
	struct rfs_store_usage u;

	rfs_store_usage(store, &u);
	return u.files_used;
}

/* Bytes reserved from the cap: none, a cow window's private pages are a file of the store. */
static uint64_t charged(void)
{
	struct rfs_store_usage u;

	rfs_store_usage(store, &u);
	return u.reserved;
}

static void setup_kind(enum rfs_store_kind k)
{
	ck_assert_int_eq(rfs_guard_init(), 0);
	kind = k;
	store = NULL;
	win = NULL;
	region = NULL;
	ck_assert_int_eq(rfs_store_new(1ULL << 30, 64, kind, &store), 0);
	ck_assert_ptr_nonnull(store);
	files_before = files_used();
	ck_assert_int_eq(rfs_windows_new(16ULL << 20, changed, NULL, &win), 0);
	ck_assert_ptr_nonnull(win);
	ck_assert_int_eq(rfs_region_new(store, &region), 0);
	ck_assert_ptr_nonnull(region);
	ck_assert_int_eq(rfs_mapping_resize(region, 64 * KiB), 0);
	forget();
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
	struct rfs_store_usage u;

	rfs_mapping_free(region);
	rfs_windows_free(win);
	/* Every window is gone: so are the region's bytes and every charge. */
	rfs_store_usage(store, &u);
	ck_assert_uint_eq(u.bytes_used, 0);
	ck_assert_uint_eq(u.files_used, files_before);
	ck_assert_uint_eq(charged(), 0);
	rfs_store_free(store);
}

static struct rfs_mapping *window_of(struct rfs_mapping *r, enum rfs_view_access access,
				     uint64_t off, uint64_t len, int *err)
{
	struct rfs_view_spec spec = {
		.file = "region:r",
		.region = r,
		.offset = off,
		.length = len,
		.access = access,
		.fd = -1,
		.store = store,
	};

	struct rfs_mapping *m = NULL;

	*err = rfs_view_new(win, &spec, &m);
	return m;
}

static struct rfs_mapping *window(enum rfs_view_access access, uint64_t off, uint64_t len)
{
	int err;
	struct rfs_mapping *w = window_of(region, access, off, len, &err);

	ck_assert_msg(w, "window [%llu, +%llu): %s", (unsigned long long)off,
		      (unsigned long long)len, strerror(-err));
	return w;
}

static void wr(struct rfs_mapping *m, const char *s, uint64_t off)
{
	ck_assert_int_eq(rfs_mapping_write(m, s, strlen(s), off), (ssize_t)strlen(s));
}

static void assert_reads(struct rfs_mapping *m, uint64_t off, const char *s)
{
	char buf[64] = "";

	rd(m, buf, off, strlen(s));
	ck_assert_str_eq(buf, s);
}

START_TEST(bounds)
{
	static const enum rfs_view_access all[] = {RFS_VIEW_RO, RFS_VIEW_RW, RFS_VIEW_COW};
	struct rfs_mapping *w, *v;
	struct rfs_mapping_info info;
	int err;

	/* Any byte offset, up to the very end. */
	w = window(RFS_VIEW_RO, 4097, 8192);
	ck_assert_uint_eq(rfs_mapping_size(w), 8192);
	rfs_mapping_describe(w, &info);
	ck_assert_str_eq(info.backing, "region:r");
	ck_assert_uint_eq(info.offset, 4097);
	ck_assert(!info.backing_deleted);
	rfs_mapping_free(w);
	w = window(RFS_VIEW_RW, 60 * KiB, 0); /* to the end */
	ck_assert_uint_eq(rfs_mapping_size(w), 4 * KiB);
	rfs_mapping_free(w);

	/* Past the end: refused whatever the access; a rw window grows nothing. */
	for (size_t i = 0; i < 3; i++) {
		ck_assert_ptr_null(window_of(region, all[i], 60 * KiB, 4 * KiB + 1, &err));
		ck_assert_int_eq(err, -ENXIO);
		ck_assert_ptr_null(window_of(region, all[i], 64 * KiB, 0, &err));
		ck_assert_int_eq(err, -ENXIO);
	}
	ck_assert_uint_eq(rfs_mapping_size(region), 64 * KiB);
	ck_assert_uint_eq(rfs_region_windows(region), 0);

	/* No window of a window. */
	w = window(RFS_VIEW_RW, 0, 4 * KiB);
	ck_assert_ptr_null(window_of(w, RFS_VIEW_RO, 0, 1, &err));
	ck_assert_int_eq(err, -EINVAL);
	/* And a view is never served by the kernel. */
	v = w;
	{
		bool fresh;

		ck_assert(!rfs_region_serve_open(v, true, &fresh));
		ck_assert(!fresh);
		rfs_region_serve_close(v, false);
	}
	rfs_mapping_free(w);
}
END_TEST

START_TEST(notices_both_ways)
{
	struct rfs_mapping *a = window(RFS_VIEW_RW, 4097, 8192);
	struct rfs_mapping *b = window(RFS_VIEW_RO, 8 * KiB, 16 * KiB);

	ck_assert_uint_eq(rfs_region_windows(region), 2);
	/* The region writes: each window over the bytes hears it, in its offsets. */
	forget();
	wr(region, "hello", 10000);
	ck_assert(told(a, 10000 - 4097, 5));
	ck_assert(told(b, 10000 - 8 * KiB, 5));
	ck_assert(told_nothing(region));
	assert_reads(a, 10000 - 4097, "hello");
	assert_reads(b, 10000 - 8 * KiB, "hello");

	/* A window writes: the region (every byte) and the overlapping window. */
	forget();
	wr(a, "abc", 8192 - 4097);
	ck_assert(told(region, 8192, 3));
	ck_assert(told(b, 0, 3));
	ck_assert(told_nothing(a));
	assert_reads(region, 8192, "abc");
	assert_reads(b, 0, "abc");

	/* Bytes outside a window are not its business. */
	forget();
	wr(region, "x", 100);
	ck_assert(told_nothing(a));
	ck_assert(told_nothing(b));

	/* A ro window refuses writes. */
	ck_assert_int_eq(rfs_mapping_write(b, "z", 1, 0), -EROFS);

	rfs_mapping_free(a);
	rfs_mapping_free(b);
	/* No window left: the region's changes go nowhere, it is registered nowhere. */
	ck_assert_uint_eq(rfs_region_windows(region), 0);
	forget();
	wr(region, "again", 10000);
	ck_assert_uint_eq(n_notices, 0);
}
END_TEST

START_TEST(serving)
{
	struct rfs_mapping *w;
	bool fresh;
	int err;

	/* No window: the kernel may serve it, unless it cannot. */
	ck_assert(rfs_region_serve_open(region, true, &fresh));
	ck_assert(!rfs_region_serve_open(region, false, &fresh));
	rfs_region_serve_close(region, false);
	/* A kernel open: no window may be made. */
	ck_assert_ptr_null(window_of(region, RFS_VIEW_RO, 0, 1, &err));
	ck_assert_int_eq(err, -EBUSY);
	ck_assert_uint_eq(rfs_region_windows(region), 0);
	rfs_region_serve_close(region, true);

	/* Closed: the window is made, and opens are the daemon's. The first
	 * starts from an empty cache: the kernel wrote around it. */
	w = window(RFS_VIEW_RO, 0, 1);
	ck_assert(!rfs_region_serve_open(region, true, &fresh));
	ck_assert(fresh);
	ck_assert(!rfs_region_serve_open(region, true, &fresh));
	ck_assert(!fresh);
	/* The window goes, the daemon's opens stay: still the daemon's. */
	rfs_mapping_free(w);
	ck_assert(!rfs_region_serve_open(region, true, &fresh));
	rfs_region_serve_close(region, false);
	rfs_region_serve_close(region, false);
	rfs_region_serve_close(region, false);
	/* All closed: back to the kernel. */
	ck_assert(rfs_region_serve_open(region, true, &fresh));
	ck_assert(!fresh);
	rfs_region_serve_close(region, true);
	/* Windows may be made again. */
	w = window(RFS_VIEW_RO, 0, 1);
	rfs_mapping_free(w);
}
END_TEST

START_TEST(shrink_under_window)
{
	struct rfs_mapping *w = window(RFS_VIEW_RW, 32 * KiB, 32 * KiB);
	char buf[8];

	wr(w, "keep", 0);
	forget();
	ck_assert_int_eq(rfs_mapping_resize(region, 40 * KiB), 0);
	ck_assert(told(w, 0 + 8 * KiB, 24 * KiB));
	/* The lost range faults: EIO, and nothing else is harmed. */
	ck_assert_int_eq(rfs_mapping_write(w, "lost", 4, 16 * KiB), -EIO);
	assert_reads(w, 0, "keep");
	wr(w, "kept", 4);
	/* Grown back: the range reads as zeros again, and the window hears it. */
	forget();
	ck_assert_int_eq(rfs_mapping_resize(region, 64 * KiB), 0);
	ck_assert(told(w, 8 * KiB, 24 * KiB));
	memset(buf, 'x', sizeof(buf));
	rd(w, buf, 16 * KiB, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 0);
	/* A punched hole too. */
	forget();
	ck_assert_int_eq(rfs_mapping_fallocate(region, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					       32 * KiB, 4 * KiB),
			 0);
	ck_assert(told(w, 0, 4 * KiB));
	rd(w, buf, 0, 8);
	ck_assert_int_eq(buf[0], 0);
	rfs_mapping_free(w);
}
END_TEST

START_TEST(window_outlives_region)
{
	struct rfs_mapping *w = window(RFS_VIEW_RW, 0, 4 * KiB);

	wr(region, "alive", 0);
	/* The owner lets go (rm, unmount of its name): the window still has the bytes. */
	rfs_mapping_free(region);
	region = NULL;
	assert_reads(w, 0, "alive");
	wr(w, "still", 0);
	assert_reads(w, 0, "still");
	ck_assert_uint_eq(files_used(), files_before + 1);
	rfs_mapping_free(w);
	/* Now the region goes: teardown checks its bytes went with it. */
}
END_TEST

START_TEST(cow_commit_discard)
{
	struct rfs_mapping *c = window(RFS_VIEW_COW, 100, 8 * KiB);
	struct rfs_mapping *r = window(RFS_VIEW_RO, 0, 16 * KiB);
	struct rfs_store_usage u;
	uint64_t used;

	wr(region, "base", 100);
	assert_reads(c, 0, "base");
	rfs_store_usage(store, &u);
	used = u.bytes_used;
	/* Private: neither the region nor other windows hear of it. */
	forget();
	wr(c, "mine", 0);
	ck_assert_uint_eq(n_notices, 0);
	assert_reads(region, 100, "base");
	/* Its page is in the store, counted against the cap like the region's. */
	rfs_store_usage(store, &u);
	ck_assert_uint_eq(u.bytes_used, used + (uint64_t)sysconf(_SC_PAGESIZE));
	/* Discard: the region's bytes show again. */
	ck_assert_int_eq(rfs_mapping_discard(c), 0);
	assert_reads(c, 0, "base");
	rfs_store_usage(store, &u);
	ck_assert_uint_eq(u.bytes_used, used);
	ck_assert_uint_eq(charged(), 0);
	/* Commit: into the region, whose cache and other windows are told. */
	wr(c, "ours", 0);
	forget();
	ck_assert_int_eq(rfs_mapping_commit(c), 0);
	assert_reads(region, 100, "ours");
	assert_reads(r, 100, "ours");
	ck_assert(told_nothing(c));
	ck_assert_uint_eq(n_notices, 2);
	ck_assert(notices[0].m == region || notices[1].m == region);
	ck_assert(notices[0].m == r || notices[1].m == r);
	ck_assert_uint_eq(charged(), 0);
	rfs_mapping_free(c);
	rfs_mapping_free(r);
}
END_TEST

static Suite *regwin_suite(void)
{
	Suite *s = suite_create("regwin");
	static const char *const names[2] = {"tmpfs", "memfd"};

	for (int k = 0; k < 2; k++) {
		TCase *tc = tcase_create(names[k]);

		tcase_set_timeout(tc, 10);
		tcase_add_checked_fixture(tc, k ? setup_memfd : setup_tmpfs, teardown);
		tcase_add_test(tc, bounds);
		tcase_add_test(tc, notices_both_ways);
		tcase_add_test(tc, serving);
		tcase_add_test(tc, shrink_under_window);
		tcase_add_test(tc, window_outlives_region);
		tcase_add_test(tc, cow_commit_discard);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return rfs_check_run(regwin_suite());
}
