/*
 * Unit tests for lib/slots.c: a handle names its record until it is
 * removed, then nothing (nor does any handle made up); a second process's
 * table over the same memfd finds the live records with the same handles,
 * and a record whose publication never happened is not among them; a full
 * table says so; lock-free readers race adds and removes.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "lib/slots.h"

struct rec {
	uint64_t ino;
	char what[12];
};

START_TEST(handles_name_records)
{
	struct rfs_slots *s;
	struct rec r = {.ino = 7, .what = "seven"}, *got;
	uint64_t h, h2;
	void *mine;
	int x;

	ck_assert_int_eq(rfs_slots_new(sizeof(r), 1000, &s), 0);
	ck_assert_int_eq(rfs_slots_add(s, &r, &x, &h), 0);
	ck_assert_uint_ne(h, 0);
	got = rfs_slots_get(s, h, &mine);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->ino, 7);
	ck_assert_str_eq(got->what, "seven");
	ck_assert_ptr_eq(mine, &x);
	/* made-up handles: wrong generation, index past the used ones, 0 */
	ck_assert_ptr_null(rfs_slots_get(s, h + (1ULL << 32), NULL));
	ck_assert_ptr_null(rfs_slots_get(s, h + 1, NULL));
	ck_assert_ptr_null(rfs_slots_get(s, 0, NULL));
	ck_assert_ptr_null(rfs_slots_get(s, UINT64_MAX, NULL));
	ck_assert_int_eq(rfs_slots_remove(s, h), 0);
	ck_assert_ptr_null(rfs_slots_get(s, h, &mine));
	ck_assert_ptr_null(mine);
	ck_assert_int_eq(rfs_slots_remove(s, h), -ENOENT);
	/* the slot is used again, under another handle */
	ck_assert_int_eq(rfs_slots_add(s, &r, NULL, &h2), 0);
	ck_assert_uint_ne(h2, h);
	ck_assert_ptr_null(rfs_slots_get(s, h, NULL));
	ck_assert_ptr_nonnull(rfs_slots_get(s, h2, NULL));
	ck_assert_uint_eq(rfs_slots_live(s), 1);
	rfs_slots_free(s);
}
END_TEST

static int collect(void *ctx, uint64_t handle, void *rec)
{
	uint64_t *seen = ctx;

	seen[((struct rec *)rec)->ino] = handle;
	return 0;
}

START_TEST(successor_finds_them)
{
	struct rfs_slots *s, *next;
	uint64_t h[10], seen[10] = {0};
	struct rec r = {0};
	int fd;

	ck_assert_int_eq(rfs_slots_new(sizeof(r), 100, &s), 0);
	for (uint64_t i = 0; i < 10; i++) {
		r.ino = i;
		ck_assert_int_eq(rfs_slots_add(s, &r, &r, &h[i]), 0);
	}
	for (int i = 0; i < 10; i += 3)
		ck_assert_int_eq(rfs_slots_remove(s, h[i]), 0);
	fd = rfs_slots_fd(s);
	ck_assert_int_eq(rfs_slots_open(fd, sizeof(r) + 1, &next), -EPROTO);
	ck_assert_int_eq(rfs_slots_open(fd, sizeof(r), &next), 0);
	rfs_slots_free(s); /* the first process went */
	ck_assert_uint_eq(rfs_slots_live(next), 6);
	ck_assert_int_eq(rfs_slots_each(next, collect, seen), 0);
	for (int i = 0; i < 10; i++) {
		void *mine = &r;

		ck_assert_uint_eq(seen[i], i % 3 ? h[i] : 0);
		ck_assert(!(i % 3) == !rfs_slots_get(next, h[i], &mine));
		ck_assert_ptr_null(mine); /* its pointers are not the successor's */
	}
	/* freed slots are used again, live ones never */
	for (int i = 0; i < 4; i++) {
		uint64_t n;

		ck_assert_int_eq(rfs_slots_add(next, &r, NULL, &n), 0);
		for (int j = 0; j < 10; j++)
			ck_assert_uint_ne(n, h[j]);
	}
	ck_assert_uint_eq(rfs_slots_live(next), 10);
	rfs_slots_free(next);
}
END_TEST

START_TEST(full_table)
{
	struct rfs_slots *s;
	struct rec r = {0};
	uint64_t h;

	ck_assert_int_eq(rfs_slots_new(sizeof(r), 0, &s), -EINVAL);
	ck_assert_int_eq(rfs_slots_new(sizeof(r), 3, &s), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(rfs_slots_add(s, &r, NULL, &h), 0);
	ck_assert_int_eq(rfs_slots_add(s, &r, NULL, &h), -ENOSPC);
	ck_assert_int_eq(rfs_slots_remove(s, h), 0);
	ck_assert_int_eq(rfs_slots_add(s, &r, NULL, &h), 0);
	rfs_slots_free(s);
}
END_TEST

struct race {
	struct rfs_slots *s;
	uint64_t keep;
	atomic_bool stop, failed;
};

static void *churn(void *arg)
{
	struct race *r = arg;
	struct rec rec = {.ino = 2};
	uint64_t h;

	/* No ck_assert in the loop: each records its place through a pipe. */
	for (int i = 0; i < 200000; i++)
		if (rfs_slots_add(r->s, &rec, NULL, &h) || rfs_slots_remove(r->s, h))
			atomic_store(&r->failed, true);
	atomic_store(&r->stop, true);
	return NULL;
}

START_TEST(readers_race_changes)
{
	struct race r = {0};
	struct rec rec = {.ino = 1};
	pthread_t t;
	bool bad = false;

	ck_assert_int_eq(rfs_slots_new(sizeof(rec), 1 << 16, &r.s), 0);
	ck_assert_int_eq(rfs_slots_add(r.s, &rec, NULL, &r.keep), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, churn, &r), 0);
	while (!atomic_load(&r.stop)) {
		struct rec *got = rfs_slots_get(r.s, r.keep, NULL);

		bad |= !got || got->ino != 1;
	}
	pthread_join(t, NULL);
	ck_assert(!bad);
	ck_assert(!atomic_load(&r.failed));
	ck_assert_uint_eq(rfs_slots_live(r.s), 1);
	rfs_slots_free(r.s);
}
END_TEST

static Suite *slots_suite(void)
{
	Suite *s = suite_create("slots");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, handles_name_records);
	tcase_add_test(tc, successor_finds_them);
	tcase_add_test(tc, full_table);
	tcase_add_test(tc, readers_race_changes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(slots_suite());
}
