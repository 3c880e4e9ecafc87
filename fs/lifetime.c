/* Lifetime close: a close region's name goes with its last user. */
#include "fs/lifetime.h"

#include "fs/inval.h"

void rfs_file_closed(struct rfs_daemon *d, struct rfs_node *node)
{
	fuse_ino_t ino = rfs_ino(d, node);
	struct rfs_gone gone;

	if (!rfs_ns_closed(d->ns, node, &gone))
		return;
	rfs_add(&d->counters->reclaimed, 1);
	/* Queued: the kernel may still hold locks of this request's inode. */
	rfs_inval_post_delete(d->inval, rfs_ino(d, gone.dir), ino, gone.name);
	rfs_ns_forget(d->ns, gone.dir, 1);
}
