/*
 * Unit tests for lib/itable.c: ids map to what was set, across pages;
 * clearing gives NULL (and an emptied page is freed, which ASan checks);
 * ids past the table are EOVERFLOW; lock-free readers see set entries
 * while another thread sets and clears others.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "tests/unit/check_main.h"
#include "lib/itable.h"

static char things[4];

START_TEST(set_get_clear)
{
	struct rfs_itable *t;
	const uint64_t ids[] = {1, 2, 65535, 65536, 1000000, (1ULL << 36) - 1};

	ck_assert_int_eq(rfs_itable_new(&t), 0);
	ck_assert_ptr_null(rfs_itable_get(t, 1));
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ck_assert_int_eq(rfs_itable_set(t, ids[i], &things[i % 4]), 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		ck_assert_ptr_eq(rfs_itable_get(t, ids[i]), &things[i % 4]);
	ck_assert_ptr_null(rfs_itable_get(t, 3));
	ck_assert_int_eq(rfs_itable_set(t, 1ULL << 36, things), -EOVERFLOW);
	ck_assert_ptr_null(rfs_itable_get(t, 1ULL << 36));
	/* clearing the only id of a page frees the page; others stay */
	ck_assert_int_eq(rfs_itable_set(t, 1000000, NULL), 0);
	ck_assert_ptr_null(rfs_itable_get(t, 1000000));
	ck_assert_int_eq(rfs_itable_set(t, 1000000, NULL), 0);
	ck_assert_int_eq(rfs_itable_set(t, 65536, NULL), 0);
	ck_assert_ptr_eq(rfs_itable_get(t, 65535), &things[2]);
	ck_assert_int_eq(rfs_itable_set(t, 65536, &things[1]), 0);
	ck_assert_ptr_eq(rfs_itable_get(t, 65536), &things[1]);
	rfs_itable_free(t);
}
END_TEST

struct race {
	struct rfs_itable *t;
	atomic_bool stop, failed;
};

/* Sets and clears ids 100,000 on, across pages, while the reader reads: each
 * page is made once (the one ids go to is kept while empty), so this is quick
 * even under ASan. */
static void *churn(void *arg)
{
	struct race *r = arg;

	/* No ck_assert in the loops: each records its place through a pipe. */
	for (uint64_t id = 100000; id < 400000; id++)
		if (rfs_itable_set(r->t, id, things) || rfs_itable_set(r->t, id, NULL))
			atomic_store(&r->failed, true);
	atomic_store(&r->stop, true);
	return NULL;
}

START_TEST(readers_without_lock)
{
	struct race r = {.stop = false, .failed = false};
	pthread_t th;
	uint64_t reads = 0, wrong = 0;

	ck_assert_int_eq(rfs_itable_new(&r.t), 0);
	for (uint64_t id = 1; id <= 1000; id++)
		ck_assert_int_eq(rfs_itable_set(r.t, id, &things[id % 4]), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, churn, &r), 0);
	while (!atomic_load(&r.stop)) {
		uint64_t id = 1 + reads % 1000;

		wrong += rfs_itable_get(r.t, id) != &things[id % 4];
		reads++;
	}
	pthread_join(th, NULL);
	ck_assert(!atomic_load(&r.failed));
	ck_assert_uint_eq(wrong, 0);
	ck_assert_uint_gt(reads, 0);
	ck_assert_ptr_null(rfs_itable_get(r.t, 399999));
	rfs_itable_free(r.t);
}
END_TEST

static Suite *itable_suite(void)
{
	Suite *s = suite_create("itable");
	TCase *tc = tcase_create("itable");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, set_get_clear);
	tcase_add_test(tc, readers_without_lock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(itable_suite());
}
