/*
 * Unit tests for lib/counts.c: counters add and never go below 0; numbers
 * past the limit are refused; a successor over the same memfd finds every
 * counter that is not 0, across pages far apart, and no other.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "tests/unit/check_main.h"
#include "lib/counts.h"

struct seen {
	uint64_t n[8], count[8];
	int len;
};

static int collect(void *ctx, uint64_t n, uint64_t count)
{
	struct seen *s = ctx;

	ck_assert_int_lt(s->len, 8);
	s->n[s->len] = n;
	s->count[s->len++] = count;
	return 0;
}

START_TEST(count_and_find)
{
	struct rfs_counts *c, *next;
	struct seen s = {0};

	ck_assert_int_eq(rfs_counts_new(0, &c), -EINVAL);
	ck_assert_int_eq(rfs_counts_new(1ULL << 31, &c), 0);
	ck_assert(rfs_counts_add(c, 1, 3));
	ck_assert(rfs_counts_add(c, 1024, 1));
	ck_assert(rfs_counts_add(c, 1025, 1));
	ck_assert(rfs_counts_add(c, 1025, -1));	   /* back to 0: not listed */
	ck_assert(rfs_counts_add(c, 5000000, 2));  /* pages away */
	ck_assert(rfs_counts_add(c, 5000000, -7)); /* more than counted: 0, not below */
	ck_assert(rfs_counts_add(c, (1ULL << 31) - 1, 9));
	ck_assert(!rfs_counts_add(c, 1ULL << 31, 1));
	ck_assert_uint_eq(rfs_counts_get(c, 1), 3);
	ck_assert_uint_eq(rfs_counts_get(c, 5000000), 0);
	ck_assert_uint_eq(rfs_counts_get(c, 1ULL << 31), 0);
	ck_assert_int_eq(rfs_counts_open(rfs_counts_fd(c), &next), 0);
	rfs_counts_free(c);
	ck_assert_int_eq(rfs_counts_each(next, collect, &s), 0);
	ck_assert_int_eq(s.len, 3);
	ck_assert_uint_eq(s.n[0], 1);
	ck_assert_uint_eq(s.count[0], 3);
	ck_assert_uint_eq(s.n[1], 1024);
	ck_assert_uint_eq(s.count[1], 1);
	ck_assert_uint_eq(s.n[2], (1ULL << 31) - 1);
	ck_assert_uint_eq(s.count[2], 9);
	rfs_counts_free(next);
}
END_TEST

START_TEST(not_counts)
{
	struct rfs_counts *c;

	ck_assert_int_eq(rfs_counts_open(0, &c) == 0, 0);
}
END_TEST

static Suite *counts_suite(void)
{
	Suite *s = suite_create("counts");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, count_and_find);
	tcase_add_test(tc, not_counts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(counts_suite());
}
