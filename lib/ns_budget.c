/*
 * Budgets: directories whose regions keep their bytes in a store of their
 * own, carved from the store above (see ns.h). A region's bytes never move
 * between stores, so a name may not take a region into another budget:
 * link and rename say -EXDEV, as between two tmpfs mounts, and mv copies.
 */
#include "lib/ns_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "lib/ledger.h"
#include "lib/store.h"

struct rfs_store *rfs_ns_store_locked(const struct rfs_ns *ns, const struct rfs_node *dir)
{
	for (;;) {
		if (dir->dir.budget)
			return dir->dir.budget;
		if (dir->dir.parent == dir)
			return ns->store; /* the root, or a removed directory */
		dir = dir->dir.parent;
	}
}

struct rfs_store *rfs_ns_store_of(struct rfs_ns *ns, struct rfs_node *node)
{
	struct rfs_store *s = ns->store;

	pthread_rwlock_rdlock(&ns->lock);
	if (is_dir(node))
		s = rfs_ns_store_locked(ns, node);
	else if (S_ISREG(node->mode) && node->map && rfs_region_store(node->map))
		s = rfs_region_store(node->map);
	else if (node->home)
		s = rfs_ns_store_locked(ns, node->home);
	rfs_store_hold(s);
	pthread_rwlock_unlock(&ns->lock);
	return s;
}

struct rfs_store *rfs_node_budget(const struct rfs_node *dir)
{
	return is_dir(dir) ? dir->dir.budget : NULL;
}

/*
 * Does a region below dir keep its bytes in dir's store? The budgets below
 * (the first ones on each path) add their caps to *nested, and with to
 * are carved from to instead. ns->lock held.
 */
static bool holds_region(const struct rfs_node *dir, struct rfs_store *to, uint64_t *nested)
{
	for (const struct entry *e = dir->dir.head; e; e = e->next) {
		const struct rfs_node *c = e->node;

		if (S_ISREG(c->mode) && c->map && rfs_region_store(c->map))
			return true;
		if (!is_dir(c))
			continue;
		if (!c->dir.budget) {
			if (holds_region(c, to, nested))
				return true;
			continue;
		}
		*nested += rfs_store_cap(c->dir.budget);
		if (to)
			rfs_store_move(c->dir.budget, to);
	}
	return false;
}

int rfs_ns_budget_may_move(const struct rfs_ns *ns, const struct rfs_node *node,
			   const struct rfs_node *to)
{
	struct rfs_store *dest = rfs_ns_store_locked(ns, to);
	uint64_t nested = 0;

	if (S_ISREG(node->mode)) {
		struct rfs_store *s = node->map ? rfs_region_store(node->map) : NULL;

		return s && s != dest ? -EXDEV : 0;
	}
	if (!is_dir(node) || rfs_ns_store_locked(ns, node->dir.parent) == dest)
		return 0;
	if (node->dir.budget)
		return 1;
	return holds_region(node, NULL, &nested) || nested ? -EXDEV : 0;
}

/* Give dir a budget of size bytes: nothing below it may hold a region;
 * budgets below are carved from it from now on. ns->lock exclusive. */
static int budget_add(struct rfs_ns *ns, struct rfs_node *dir, uint64_t size, uint64_t id)
{
	struct rfs_store *s;
	uint64_t nested = 0;
	int err;

	if (holds_region(dir, NULL, &nested))
		return -EBUSY;
	if (nested > size)
		return -ENOSPC;
	err = rfs_store_new_budget_as(rfs_ns_store_locked(ns, dir), size, id, &s);
	if (err)
		return err;
	/* A new store has room for them all: these moves cannot fail. */
	nested = 0;
	holds_region(dir, s, &nested);
	dir->dir.budget = s;
	return 0;
}

int rfs_ns_set_budget(struct rfs_ns *ns, struct rfs_node *dir, uint64_t size)
{
	return rfs_ns_set_budget_as(ns, dir, size, 0);
}

int rfs_ns_set_budget_as(struct rfs_ns *ns, struct rfs_node *dir, uint64_t size, uint64_t id)
{
	uint64_t nested = 0;
	struct rfs_store *s;
	int err = 0;

	if (!is_dir(dir))
		return -ENOTDIR;
	pthread_rwlock_wrlock(&ns->lock);
	s = dir->dir.budget;
	if (dir->sealed || dir == ns->root) {
		err = -EPERM;
	} else if (size && !s) {
		err = budget_add(ns, dir, size, id);
	} else if (size) {
		err = rfs_store_resize(s, size);
	} else if (s) {
		/* Not while a region below has its bytes there or a budget
		 * below is carved from it. Unlinked regions still open hold
		 * the store on (and the carve above) until they go. */
		if (holds_region(dir, NULL, &nested) || nested) {
			err = -EBUSY;
		} else {
			dir->dir.budget = NULL;
			rfs_store_free(s);
		}
	}
	/* Its store's instance is kept by whoever the store's hooks tell
	 * (rfs_store_on_budgets), the number recorded finds it again. */
	if (!err)
		rfs_nsj_budget(ns, dir, size,
			       dir->dir.budget ? rfs_store_budget_id(dir->dir.budget) : 0);
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

void rfs_ns_set_ledger(struct rfs_ns *ns, struct rfs_ledger *l)
{
	pthread_rwlock_wrlock(&ns->lock);
	ns->ledger = l;
	/* Count every region's bytes anew: limits may have changed, and the
	 * kernel served some of them uncounted until now. */
	if (l)
		rfs_ledger_reset_use(l);
	for (struct rfs_node *n = ns->all.all_next; n != &ns->all; n = n->all_next)
		if (S_ISREG(n->mode) && n->map)
			rfs_region_recount(n->map, l, n->uid, n->gid);
	pthread_rwlock_unlock(&ns->lock);
}
