/* Open counts and the close lifetime of regions (see ns.h). */
#include "lib/ns_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

void rfs_node_opened(struct rfs_node *node)
{
	atomic_fetch_add(&node->opens, 1);
	atomic_store(&node->used, true);
}

unsigned int rfs_node_opens(const struct rfs_node *node)
{
	return atomic_load_explicit(&node->opens, memory_order_relaxed);
}

enum rfs_lifetime rfs_node_lifetime(const struct rfs_node *node)
{
	return atomic_load(&node->lifetime) == RFS_LIFETIME_CLOSE ? RFS_LIFETIME_CLOSE
								  : RFS_LIFETIME_PERSIST;
}

int rfs_ns_set_lifetime(struct rfs_ns *ns, struct rfs_node *dir, enum rfs_lifetime lifetime)
{
	if (!is_dir(dir))
		return -ENOTDIR;
	if (lifetime != RFS_LIFETIME_PERSIST && lifetime != RFS_LIFETIME_CLOSE)
		return -EINVAL;
	rfs_op_begin();
	pthread_rwlock_wrlock(&ns->lock);
	atomic_store(&dir->lifetime, lifetime);
	rfs_nsj_lifetime(ns, dir, lifetime);
	pthread_rwlock_unlock(&ns->lock);
	rfs_op_end();
	return 0;
}

bool rfs_ns_closed(struct rfs_ns *ns, struct rfs_node *node, struct rfs_gone *gone)
{
	bool removed = false;
	struct rfs_node *dir;

	if (atomic_load(&node->lifetime) != RFS_LIFETIME_CLOSE) {
		atomic_fetch_sub(&node->opens, 1);
		return false;
	}
	/* An opener racing this either counted itself before the decrement
	 * (the name stays) or opens a node that is already unnamed. */
	rfs_op_begin();
	pthread_rwlock_wrlock(&ns->lock);
	if (atomic_fetch_sub(&node->opens, 1) == 1 && atomic_load(&node->used) && node->home) {
		dir = node->home;
		strcpy(gone->name, node->home_entry->name);
		gone->dir = dir;
		atomic_fetch_add(&dir->refs, 1);
		rfs_ns_drop_entry(ns, dir, node->home_entry);
		rfs_ns_stamp_dir(dir);
		rfs_nsj_closed(ns, dir, gone->name);
		removed = true;
	}
	pthread_rwlock_unlock(&ns->lock);
	rfs_op_end();
	return removed;
}
