/*
 * Unit tests for lib/ledger.c (budgets by owner) and the way regions and
 * the namespace count into it: defaults and per-id limits, root, checks,
 * charges, chown moves, and a region's writes stopped at its owner's budget.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "lib/ledger.h"
#include "lib/mapping.h"
#include "lib/ns.h"
#include "lib/store.h"

#define MiB (1ULL << 20)

struct seen {
	int n;
	uint64_t limit[4], used[4];
	uint32_t id[4];
	enum rfs_owner_kind kind[4];
};

static void record(void *ctx, enum rfs_owner_kind k, uint32_t id, uint64_t limit, uint64_t used)
{
	struct seen *s = ctx;

	ck_assert_int_lt(s->n, 4);
	s->kind[s->n] = k;
	s->id[s->n] = id;
	s->limit[s->n] = limit;
	s->used[s->n++] = used;
}

START_TEST(limits_and_charges)
{
	struct rfs_ledger *l;
	struct seen s = {0};

	ck_assert_int_eq(rfs_ledger_new(&l), 0);
	ck_assert(!rfs_ledger_limited(l, 1000, 1000));
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, 1ULL << 40), 0);
	rfs_ledger_set_default(l, RFS_OWNER_USER, 4 * MiB);
	ck_assert_int_eq(rfs_ledger_set(l, RFS_OWNER_USER, 2000, 8 * MiB), 0);
	ck_assert_int_eq(rfs_ledger_set(l, RFS_OWNER_GROUP, 50, MiB), 0);
	/* Root is not held to the default, only to a limit of its own. */
	ck_assert(!rfs_ledger_limited(l, 0, 0));
	ck_assert(rfs_ledger_limited(l, 1000, 1000));
	ck_assert(rfs_ledger_limited(l, 0, 50));
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, 4 * MiB), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, 4 * MiB + 1), -ENOSPC);
	ck_assert_int_eq(rfs_ledger_check(l, 2000, 1000, 8 * MiB), 0);
	ck_assert_int_eq(rfs_ledger_charge(l, 1000, 1000, 3 * MiB), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, MiB), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, MiB + 1), -ENOSPC);
	/* The group's limit holds whoever owns the bytes. */
	ck_assert_int_eq(rfs_ledger_check(l, 2000, 50, MiB + 1), -ENOSPC);
	/* chown: the new owner needs the room; then the bytes move. */
	ck_assert_int_eq(rfs_ledger_move(l, 1000, 1000, 2000, 50, 3 * MiB), -ENOSPC);
	ck_assert_int_eq(rfs_ledger_move(l, 1000, 1000, 2000, 1000, 3 * MiB), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, 4 * MiB), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 2000, 1000, 5 * MiB + 1), -ENOSPC);
	/* Giving back more than charged stops at 0. */
	ck_assert_int_eq(rfs_ledger_charge(l, 2000, 1000, -(int64_t)(9 * MiB)), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 2000, 1000, 8 * MiB), 0);
	rfs_ledger_charge(l, 1000, 1000, (int64_t)MiB);
	rfs_ledger_each(l, record, &s);
	/* Limited ids known to the ledger: user 1000 (default), 2000 and group 50. */
	ck_assert_int_eq(s.n, 3);
	for (int i = 0; i < s.n; i++)
		if (s.kind[i] == RFS_OWNER_USER && s.id[i] == 1000) {
			ck_assert_uint_eq(s.limit[i], 4 * MiB);
			ck_assert_uint_eq(s.used[i], MiB);
		}
	rfs_ledger_clear_limits(l);
	ck_assert(!rfs_ledger_limited(l, 1000, 50));
	rfs_ledger_reset_use(l);
	rfs_ledger_free(l);
}
END_TEST

START_TEST(regions_count_into_it)
{
	struct rfs_cred alice = {1000, 1000}, bob = {2000, 2000};
	struct rfs_new what = {.mode = S_IFREG | 0644, .cred = alice};
	struct rfs_store *store;
	struct rfs_ledger *l;
	struct rfs_node *f, *g;
	struct rfs_ns *ns;
	struct stat st = {.st_uid = 2000};
	char *buf = calloc(1, 2 * MiB);

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'x', 2 * MiB);
	ck_assert_int_eq(rfs_store_new(64 * MiB, 64, RFS_STORE_TMPFS, &store), 0);
	ck_assert_int_eq(rfs_ns_new(store, 0777, alice, &ns), 0);
	ck_assert_int_eq(rfs_ledger_new(&l), 0);
	rfs_ledger_set_default(l, RFS_OWNER_USER, 3 * MiB);
	ck_assert_int_eq(rfs_ledger_set(l, RFS_OWNER_USER, 2000, MiB), 0);
	rfs_ns_set_ledger(ns, l);
	ck_assert_int_eq(rfs_ns_create(ns, rfs_ns_root(ns), "f", &what, &f), 0);
	ck_assert(rfs_region_counted(rfs_node_mapping(f)));
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(f), buf, 2 * MiB, 0),
			 (ssize_t)(2 * MiB));
	/* The budget counts allocated pages: a hole costs nothing, filling it does. */
	ck_assert_int_eq(rfs_mapping_resize(rfs_node_mapping(f), 64 * MiB), 0);
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(f), buf, 2 * MiB, 8 * MiB), -ENOSPC);
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(f), buf, MiB, 8 * MiB), (ssize_t)MiB);
	ck_assert_int_eq(rfs_mapping_fallocate(rfs_node_mapping(f), 0, 16 * MiB, 4096), -ENOSPC);
	/* bob has 1 MiB: alice's 3 MiB region cannot become his, and stays hers. */
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_UID, &st), -ENOSPC);
	rfs_ns_stat(ns, f, &st);
	ck_assert_uint_eq(st.st_uid, 1000);
	/* A region made for bob starts empty, and holds him to his budget. */
	what.cred = bob;
	ck_assert_int_eq(rfs_ns_create(ns, rfs_ns_root(ns), "g", &what, &g), 0);
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(g), buf, 2 * MiB, 0), -ENOSPC);
	/* Once alice's region goes, her budget is free again. */
	ck_assert_int_eq(rfs_ns_remove(ns, rfs_ns_root(ns), "f", false), 0);
	rfs_ns_forget(ns, f, 1);
	ck_assert_int_eq(rfs_ledger_check(l, 1000, 1000, 3 * MiB), 0);
	/* Counting again (a reload) finds the same. */
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(g), buf, 4096, 0), 4096);
	rfs_ns_set_ledger(ns, l);
	ck_assert_int_eq(rfs_ledger_check(l, 2000, 2000, MiB - 4096), 0);
	ck_assert_int_eq(rfs_ledger_check(l, 2000, 2000, MiB - 4095), -ENOSPC);
	rfs_ns_forget(ns, g, 1);
	rfs_ns_free(ns);
	rfs_ledger_free(l);
	rfs_store_free(store);
	free(buf);
}
END_TEST

static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("budgets_by_owner");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, limits_and_charges);
	tcase_add_test(tc, regions_count_into_it);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(ledger_suite());
}
