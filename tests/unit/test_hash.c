/*
 * Unit tests for lib/hash.c: insert, find, remove and iterate, growth far
 * past the first buckets, and colliding hashes told apart by the key.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "lib/hash.h"

struct item {
	struct rfs_hash_link link;
	int key;
	bool seen;
};

static bool item_eq(const struct rfs_hash_link *l, const void *key)
{
	return rfs_hash_entry(l, struct item, link)->key == *(const int *)key;
}

static struct item *find(struct rfs_hash *h, uint64_t hash, int key)
{
	struct rfs_hash_link *l = rfs_hash_find(h, hash, item_eq, &key);

	return l ? rfs_hash_entry(l, struct item, link) : NULL;
}

START_TEST(empty_table)
{
	struct rfs_hash h;
	int key = 1;

	rfs_hash_init(&h);
	ck_assert_uint_eq(rfs_hash_count(&h), 0);
	ck_assert_ptr_null(rfs_hash_find(&h, 1, item_eq, &key));
	ck_assert_ptr_null(rfs_hash_next(&h, NULL));
	rfs_hash_destroy(&h);
}
END_TEST

START_TEST(insert_find_remove)
{
	struct rfs_hash h;
	struct item a = {.key = 1}, b = {.key = 2};

	rfs_hash_init(&h);
	ck_assert_int_eq(rfs_hash_insert(&h, &a.link, rfs_hash_mix(1, 0)), 0);
	ck_assert_int_eq(rfs_hash_insert(&h, &b.link, rfs_hash_mix(2, 0)), 0);
	ck_assert_uint_eq(rfs_hash_count(&h), 2);
	ck_assert_ptr_eq(find(&h, rfs_hash_mix(1, 0), 1), &a);
	ck_assert_ptr_eq(find(&h, rfs_hash_mix(2, 0), 2), &b);
	ck_assert_ptr_null(find(&h, rfs_hash_mix(3, 0), 3));
	rfs_hash_remove(&h, &a.link);
	ck_assert_uint_eq(rfs_hash_count(&h), 1);
	ck_assert_ptr_null(find(&h, rfs_hash_mix(1, 0), 1));
	ck_assert_ptr_eq(find(&h, rfs_hash_mix(2, 0), 2), &b);
	rfs_hash_remove(&h, &b.link);
	ck_assert_uint_eq(rfs_hash_count(&h), 0);
	rfs_hash_destroy(&h);
}
END_TEST

/* Every element shares one hash: the key alone tells them apart. */
START_TEST(collisions)
{
	struct rfs_hash h;
	struct item it[50];

	rfs_hash_init(&h);
	for (int i = 0; i < 50; i++) {
		it[i] = (struct item){.key = i};
		ck_assert_int_eq(rfs_hash_insert(&h, &it[i].link, 42), 0);
	}
	for (int i = 0; i < 50; i++)
		ck_assert_ptr_eq(find(&h, 42, i), &it[i]);
	for (int i = 0; i < 50; i += 2)
		rfs_hash_remove(&h, &it[i].link);
	for (int i = 0; i < 50; i++)
		ck_assert_ptr_eq(find(&h, 42, i), i % 2 ? &it[i] : NULL);
	rfs_hash_destroy(&h);
}
END_TEST

/* Far past the first buckets; next visits each element exactly once. */
START_TEST(growth_and_iteration)
{
	enum { N = 100000 };
	struct item *it = calloc(N, sizeof(*it));
	struct rfs_hash h;
	struct rfs_hash_link *l;
	size_t n = 0;

	ck_assert_ptr_nonnull(it);
	rfs_hash_init(&h);
	for (int i = 0; i < N; i++) {
		it[i].key = i;
		ck_assert_int_eq(rfs_hash_insert(&h, &it[i].link, rfs_hash_mix((uint64_t)i, 7)), 0);
	}
	ck_assert_uint_eq(rfs_hash_count(&h), N);
	ck_assert_uint_ge(h.nbuckets, N); /* load factor at most 1 */
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(find(&h, rfs_hash_mix((uint64_t)i, 7), i), &it[i]);
	for (l = rfs_hash_next(&h, NULL); l; l = rfs_hash_next(&h, l)) {
		struct item *e = rfs_hash_entry(l, struct item, link);

		ck_assert(!e->seen);
		e->seen = true;
		n++;
	}
	ck_assert_uint_eq(n, N);
	rfs_hash_destroy(&h);
	free(it);
}
END_TEST

/* Strings and pointers hash the same each time and rarely alike. */
START_TEST(hash_functions)
{
	char a[] = "region", b[] = "region";
	int x, y;

	ck_assert_uint_eq(rfs_hash_str(a), rfs_hash_str(b));
	ck_assert_uint_ne(rfs_hash_str("a"), rfs_hash_str("b"));
	ck_assert_uint_ne(rfs_hash_str(""), rfs_hash_str("a"));
	ck_assert_uint_eq(rfs_hash_ptr(&x), rfs_hash_ptr(&x));
	ck_assert_uint_ne(rfs_hash_ptr(&x), rfs_hash_ptr(&y));
	ck_assert_uint_ne(rfs_hash_mix(1, 2), rfs_hash_mix(2, 1));
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("table");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, empty_table);
	tcase_add_test(tc, insert_find_remove);
	tcase_add_test(tc, collisions);
	tcase_add_test(tc, growth_and_iteration);
	tcase_add_test(tc, hash_functions);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(hash_suite());
}
