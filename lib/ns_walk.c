/* Depth-first walks of the tree for the control plane (see ns.h). */
#include "lib/ns_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* May who read and search directory n (its mode bits, as the kernel checks them)? */
static bool may_list(const struct rfs_node *n, const struct rfs_reader *who)
{
	mode_t m = n->mode;
	bool group = n->gid == who->gid;

	if (!who->uid)
		return true;
	for (size_t i = 0; i < who->ngroups && !group; i++)
		group = who->groups[i] == n->gid;
	if (who->uid == n->uid)
		m >>= 6;
	else if (group)
		m >>= 3;
	return (m & 05) == 05;
}

/*
 * Depth-first over dir, path holding its name (len bytes) in a buffer of
 * RFS_NS_PATH_MAX; fn gets directories (before their entries) if dirs,
 * else regular files. With who, only what who may list.
 */
static int walk(struct rfs_node *dir, const struct rfs_reader *who, char *path, size_t len,
		bool dirs, rfs_walk_fn fn, void *ctx)
{
	struct entry *e;
	int stop = 0;

	if (who && !may_list(dir, who))
		return 0;
	for (e = dir->dir.head; e && !stop; e = e->next) {
		size_t nlen = strlen(e->name), sep = len ? 1 : 0;

		if (e->node->sealed || len + sep + nlen >= RFS_NS_PATH_MAX)
			continue;
		if (sep)
			path[len] = '/';
		memcpy(path + len + sep, e->name, nlen + 1);
		if (is_dir(e->node)) {
			stop = dirs ? fn(ctx, path, e->node) : 0;
			if (!stop)
				stop = walk(e->node, who, path, len + sep + nlen, dirs, fn, ctx);
		} else if (S_ISREG(e->node->mode) && !dirs) {
			stop = fn(ctx, path, e->node);
		}
		path[len] = '\0';
	}
	return stop;
}

static int walk_root(struct rfs_ns *ns, const struct rfs_reader *who, bool dirs, rfs_walk_fn fn,
		     void *ctx)
{
	char *path = malloc(RFS_NS_PATH_MAX);
	int stop;

	if (!path)
		return -ENOMEM;
	path[0] = '\0';
	pthread_rwlock_rdlock(&ns->lock);
	stop = walk(ns->root, who, path, 0, dirs, fn, ctx);
	pthread_rwlock_unlock(&ns->lock);
	free(path);
	return stop;
}

int rfs_ns_walk(struct rfs_ns *ns, rfs_walk_fn fn, void *ctx)
{
	return walk_root(ns, NULL, false, fn, ctx);
}

int rfs_ns_walk_as(struct rfs_ns *ns, const struct rfs_reader *who, rfs_walk_fn fn, void *ctx)
{
	return walk_root(ns, who, false, fn, ctx);
}

int rfs_ns_walk_dirs(struct rfs_ns *ns, const struct rfs_reader *who, rfs_walk_fn fn, void *ctx)
{
	return walk_root(ns, who, true, fn, ctx);
}
