#include "lib/account.h"

#include <errno.h>

#include "lib/store.h"

void rfs_account_init(struct rfs_account *a, uint64_t cap)
{
	a->cap = cap;
	atomic_init(&a->used, 0);
}

void rfs_account_share(struct rfs_account *a, struct rfs_store *store)
{
	a->store = store;
}

int rfs_account_charge(struct rfs_account *a, uint64_t bytes)
{
	uint64_t used = atomic_load_explicit(&a->used, memory_order_relaxed);

	if (a->store) {
		/* The store decides: its room is what regions have not taken. */
		int err = rfs_store_reserve(a->store, (int64_t)bytes);

		if (!err)
			atomic_fetch_add_explicit(&a->used, bytes, memory_order_relaxed);
		return err;
	}

	do {
		if (bytes > a->cap || used > a->cap - bytes)
			return -ENOSPC;
	} while (!atomic_compare_exchange_weak_explicit(
		&a->used, &used, used + bytes, memory_order_relaxed, memory_order_relaxed));
	return 0;
}

void rfs_account_release(struct rfs_account *a, uint64_t bytes)
{
	if (a->store && bytes)
		rfs_store_reserve(a->store, -(int64_t)bytes);
	atomic_fetch_sub_explicit(&a->used, bytes, memory_order_relaxed);
}

uint64_t rfs_account_used(const struct rfs_account *a)
{
	return atomic_load_explicit(&a->used, memory_order_relaxed);
}
