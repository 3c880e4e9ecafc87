/*
 * The cap on memory held by regions (the mount's size= option), like
 * tmpfs's: what is charged is pages actually allocated, not file sizes, so
 * sparse regions cost only what they touch. Lock-free; safe from any thread.
 */
#ifndef REGIONFS_ACCOUNT_H
#define REGIONFS_ACCOUNT_H

#include <stdatomic.h>
#include <stdint.h>

struct rfs_store;

struct rfs_account {
	uint64_t cap;	       /* bytes; fixed after init */
	_Atomic uint64_t used; /* bytes charged */
	/* When set, the cap is shared with the region store: a charge also
	 * takes its bytes from the store's room (store.h). Fixed after init. */
	struct rfs_store *store;
};

void rfs_account_init(struct rfs_account *a, uint64_t cap);
/* Share a's cap with the regions of store (set before any charge). */
void rfs_account_share(struct rfs_account *a, struct rfs_store *store);

/* Charge bytes if they fit under the cap: 0 or -ENOSPC, nothing charged. */
int rfs_account_charge(struct rfs_account *a, uint64_t bytes);

void rfs_account_release(struct rfs_account *a, uint64_t bytes);

uint64_t rfs_account_used(const struct rfs_account *a);

#endif
