/*
 * The cap on memory held by regions (the mount's size= option), like
 * tmpfs's: what is charged is pages actually allocated, not file sizes, so
 * sparse regions cost only what they touch. Lock-free; safe from any thread.
 */
#ifndef REGIONFS_ACCOUNT_H
#define REGIONFS_ACCOUNT_H

#include <stdatomic.h>
#include <stdint.h>

struct rfs_account {
	uint64_t cap;	       /* bytes; fixed after init */
	_Atomic uint64_t used; /* bytes charged */
};

void rfs_account_init(struct rfs_account *a, uint64_t cap);

/* Charge bytes if they fit under the cap: 0 or -ENOSPC, nothing charged. */
int rfs_account_charge(struct rfs_account *a, uint64_t bytes);

void rfs_account_release(struct rfs_account *a, uint64_t bytes);

uint64_t rfs_account_used(const struct rfs_account *a);

#endif
