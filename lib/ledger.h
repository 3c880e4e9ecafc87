/*
 * Budgets by owner: the bytes of the regions each user and each group
 * owns, capped as tmpfs's usrquota and grpquota cap them (allocated pages,
 * so holes cost nothing). A default limit applies to every user (group)
 * but root (id 0), and a limit for one id, root's too, overrides it.
 *
 * The kernel cannot count by owner here (no quotas on the store's tmpfs),
 * so the daemon does: a region whose owner or group has a limit is served
 * by the daemon (region.c checks before each change that may allocate and
 * charges what it did), and this ledger holds the sums.
 *
 * Thread-safe (one mutex); functions return 0 or -errno.
 */
#ifndef REGIONFS_LEDGER_H
#define REGIONFS_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rfs_ledger;

enum rfs_owner_kind {
	RFS_OWNER_USER,
	RFS_OWNER_GROUP,
};

int rfs_ledger_new(struct rfs_ledger **out);
void rfs_ledger_free(struct rfs_ledger *l);

/* Limits in bytes; 0 takes a limit away. set_default: for every id
 * without its own; set: for one id (-ENOMEM). */
void rfs_ledger_set_default(struct rfs_ledger *l, enum rfs_owner_kind k, uint64_t limit);
int rfs_ledger_set(struct rfs_ledger *l, enum rfs_owner_kind k, uint32_t id, uint64_t limit);
/* Forget every limit (before a reload sets them anew). */
void rfs_ledger_clear_limits(struct rfs_ledger *l);

/* Is uid or gid limited? Lock-free when no limit was ever set. */
bool rfs_ledger_limited(struct rfs_ledger *l, uid_t uid, gid_t gid);
/* May uid and gid own bytes more? -ENOSPC if not. */
int rfs_ledger_check(struct rfs_ledger *l, uid_t uid, gid_t gid, uint64_t bytes);
/* They own delta bytes more (or fewer). -ENOMEM only for an id never seen. */
int rfs_ledger_charge(struct rfs_ledger *l, uid_t uid, gid_t gid, int64_t delta);
/* bytes change owners (chown): -ENOSPC if the new ones have no room; then nothing moved. */
int rfs_ledger_move(struct rfs_ledger *l, uid_t from_uid, gid_t from_gid, uid_t to_uid,
		    gid_t to_gid, uint64_t bytes);
/* Forget every charge (before counting them all again). */
void rfs_ledger_reset_use(struct rfs_ledger *l);

/* Each limited id, in no order: fn(ctx, kind, id, limit, used). */
typedef void (*rfs_ledger_fn)(void *ctx, enum rfs_owner_kind k, uint32_t id, uint64_t limit,
			      uint64_t used);
void rfs_ledger_each(struct rfs_ledger *l, rfs_ledger_fn fn, void *ctx);

#endif
