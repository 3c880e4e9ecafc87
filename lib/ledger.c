/* Budgets by owner: see ledger.h. */
#include "lib/ledger.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "lib/hash.h"

/* One user or group: its own limit (0: the default's) and what it owns. */
struct account {
	struct rfs_hash_link link;
	uint64_t key; /* kind << 32 | id */
	uint64_t limit;
	uint64_t used;
};

struct rfs_ledger {
	pthread_mutex_t lock; /* guards everything below */
	struct rfs_hash accounts;
	uint64_t defaults[2]; /* by enum rfs_owner_kind; 0: none */
	/* Was any limit ever set? Read without the lock: a mount without
	 * budgets by owner pays nothing. */
	atomic_bool any;
};

static uint64_t key_of(enum rfs_owner_kind k, uint32_t id)
{
	return (uint64_t)k << 32 | id;
}

static bool account_eq(const struct rfs_hash_link *l, const void *key)
{
	return rfs_hash_entry(l, struct account, link)->key == *(const uint64_t *)key;
}

/* The account of (k, id), made if missing (NULL: no memory). lock held. */
static struct account *account(struct rfs_ledger *l, enum rfs_owner_kind k, uint32_t id, bool make)
{
	uint64_t key = key_of(k, id), h = rfs_hash_mix(key, 0);
	struct rfs_hash_link *found = rfs_hash_find(&l->accounts, h, account_eq, &key);
	struct account *a;

	if (found || !make)
		return found ? rfs_hash_entry(found, struct account, link) : NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->key = key;
	if (rfs_hash_insert(&l->accounts, &a->link, h)) {
		free(a);
		return NULL;
	}
	return a;
}

/* (k, id)'s limit: its own, else the default, which root (id 0) is not
 * held to, as quotas let CAP_SYS_RESOURCE through. */
static uint64_t limit_of(const struct rfs_ledger *l, enum rfs_owner_kind k, uint32_t id,
			 const struct account *a)
{
	if (a && a->limit)
		return a->limit;
	return id ? l->defaults[k] : 0;
}

int rfs_ledger_new(struct rfs_ledger **out)
{
	struct rfs_ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->lock, NULL);
	rfs_hash_init(&l->accounts);
	atomic_init(&l->any, false);
	*out = l;
	return 0;
}

void rfs_ledger_free(struct rfs_ledger *l)
{
	struct rfs_hash_link *i, *next;

	if (!l)
		return;
	for (i = rfs_hash_next(&l->accounts, NULL); i; i = next) {
		next = rfs_hash_next(&l->accounts, i);
		free(rfs_hash_entry(i, struct account, link));
	}
	rfs_hash_destroy(&l->accounts);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

void rfs_ledger_set_default(struct rfs_ledger *l, enum rfs_owner_kind k, uint64_t limit)
{
	pthread_mutex_lock(&l->lock);
	l->defaults[k] = limit;
	if (limit)
		atomic_store(&l->any, true);
	pthread_mutex_unlock(&l->lock);
}

int rfs_ledger_set(struct rfs_ledger *l, enum rfs_owner_kind k, uint32_t id, uint64_t limit)
{
	struct account *a;

	pthread_mutex_lock(&l->lock);
	a = account(l, k, id, limit != 0);
	if (a)
		a->limit = limit;
	if (limit)
		atomic_store(&l->any, true);
	pthread_mutex_unlock(&l->lock);
	return a || !limit ? 0 : -ENOMEM;
}

void rfs_ledger_clear_limits(struct rfs_ledger *l)
{
	pthread_mutex_lock(&l->lock);
	l->defaults[RFS_OWNER_USER] = l->defaults[RFS_OWNER_GROUP] = 0;
	for (struct rfs_hash_link *i = rfs_hash_next(&l->accounts, NULL); i;
	     i = rfs_hash_next(&l->accounts, i))
		rfs_hash_entry(i, struct account, link)->limit = 0;
	pthread_mutex_unlock(&l->lock);
}

bool rfs_ledger_limited(struct rfs_ledger *l, uid_t uid, gid_t gid)
{
	bool limited;

	if (!l || !atomic_load_explicit(&l->any, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&l->lock);
	limited = limit_of(l, RFS_OWNER_USER, uid, account(l, RFS_OWNER_USER, uid, false)) ||
		  limit_of(l, RFS_OWNER_GROUP, gid, account(l, RFS_OWNER_GROUP, gid, false));
	pthread_mutex_unlock(&l->lock);
	return limited;
}

/* Do bytes more fit (k, id)'s limit? lock held. */
static bool fits(struct rfs_ledger *l, enum rfs_owner_kind k, uint32_t id, uint64_t bytes)
{
	struct account *a = account(l, k, id, false);
	uint64_t limit = limit_of(l, k, id, a), used = a ? a->used : 0;

	return !limit || (bytes <= limit && used <= limit - bytes);
}

int rfs_ledger_check(struct rfs_ledger *l, uid_t uid, gid_t gid, uint64_t bytes)
{
	bool ok;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	ok = fits(l, RFS_OWNER_USER, uid, bytes) && fits(l, RFS_OWNER_GROUP, gid, bytes);
	pthread_mutex_unlock(&l->lock);
	return ok ? 0 : -ENOSPC;
}

/* Add delta to (k, id)'s use, never below 0. lock held. */
static int add(struct rfs_ledger *l, enum rfs_owner_kind k, uint32_t id, int64_t delta)
{
	struct account *a = account(l, k, id, delta > 0);

	if (!a)
		return delta > 0 ? -ENOMEM : 0;
	if (delta < 0 && (uint64_t)-delta > a->used)
		a->used = 0;
	else
		a->used += (uint64_t)delta;
	return 0;
}

int rfs_ledger_charge(struct rfs_ledger *l, uid_t uid, gid_t gid, int64_t delta)
{
	int err;

	if (!l || delta == 0)
		return 0;
	pthread_mutex_lock(&l->lock);
	err = add(l, RFS_OWNER_USER, uid, delta);
	if (!err && (err = add(l, RFS_OWNER_GROUP, gid, delta)))
		add(l, RFS_OWNER_USER, uid, -delta);
	pthread_mutex_unlock(&l->lock);
	return err;
}

int rfs_ledger_move(struct rfs_ledger *l, uid_t from_uid, gid_t from_gid, uid_t to_uid,
		    gid_t to_gid, uint64_t bytes)
{
	int err = 0;

	if (!l || bytes == 0 || (from_uid == to_uid && from_gid == to_gid))
		return 0;
	pthread_mutex_lock(&l->lock);
	if ((from_uid != to_uid && !fits(l, RFS_OWNER_USER, to_uid, bytes)) ||
	    (from_gid != to_gid && !fits(l, RFS_OWNER_GROUP, to_gid, bytes)))
		err = -ENOSPC;
	if (!err && from_uid != to_uid && !(err = add(l, RFS_OWNER_USER, to_uid, (int64_t)bytes)))
		add(l, RFS_OWNER_USER, from_uid, -(int64_t)bytes);
	if (!err && from_gid != to_gid && !(err = add(l, RFS_OWNER_GROUP, to_gid, (int64_t)bytes)))
		add(l, RFS_OWNER_GROUP, from_gid, -(int64_t)bytes);
	pthread_mutex_unlock(&l->lock);
	return err;
}

void rfs_ledger_reset_use(struct rfs_ledger *l)
{
	pthread_mutex_lock(&l->lock);
	for (struct rfs_hash_link *i = rfs_hash_next(&l->accounts, NULL); i;
	     i = rfs_hash_next(&l->accounts, i))
		rfs_hash_entry(i, struct account, link)->used = 0;
	pthread_mutex_unlock(&l->lock);
}

void rfs_ledger_each(struct rfs_ledger *l, rfs_ledger_fn fn, void *ctx)
{
	pthread_mutex_lock(&l->lock);
	for (struct rfs_hash_link *i = rfs_hash_next(&l->accounts, NULL); i;
	     i = rfs_hash_next(&l->accounts, i)) {
		struct account *a = rfs_hash_entry(i, struct account, link);
		enum rfs_owner_kind k = (enum rfs_owner_kind)(a->key >> 32);
		uint64_t limit = limit_of(l, k, (uint32_t)a->key, a);

		if (limit)
			fn(ctx, k, (uint32_t)a->key, limit, a->used);
	}
	pthread_mutex_unlock(&l->lock);
}
