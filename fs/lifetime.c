/*
 * Lifetimes: a close region's name goes with its last user, and directories
 * declared by the config or the control file carry the default lifetime of
 * regions created in them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/control.h"
#include "fs/inval.h"
#include "fs/names.h"

void rfs_file_closed(struct rfs_daemon *d, struct rfs_node *node)
{
	fuse_ino_t ino = rfs_ino(d, node);
	struct rfs_gone gone;

	if (!rfs_ns_closed(d->ns, node, &gone))
		return;
	rfs_add(&d->counters.reclaimed, 1);
	/* Queued: the kernel may still hold locks of this request's inode. */
	if (d->inval)
		rfs_inval_post_delete(d->inval, rfs_ino(d, gone.dir), ino, gone.name);
	rfs_ns_forget(d->ns, gone.dir, 1);
}

/* The directory dd names, made (with its parents) if missing; referenced. */
static int find_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd, struct rfs_node **out)
{
	const struct rfs_owner *o = &dd->owner;
	struct rfs_new what = {
		.mode = S_IFDIR | (o->has_mode ? o->mode : 0755),
		.cred = {o->has_uid ? o->uid : getuid(), o->has_gid ? o->gid : getgid()},
		.lifetime = rfs_lifetime_of(dd->lifetime),
	};
	struct rfs_node *parent;
	char *path = strdup(dd->name), *leaf;
	int err;

	if (!path)
		return -ENOMEM;
	err = rfs_walk_parents(d, path, true, &parent, &leaf);
	if (err)
		goto out_free;
	err = rfs_ns_lookup(d->ns, parent, leaf, out);
	if (err == -ENOENT) {
		err = rfs_ns_create(d->ns, parent, leaf, &what, out);
		if (!err)
			rfs_inval_entry(d, parent, leaf);
	}
	rfs_ns_forget(d->ns, parent, 1);
	if (!err && (rfs_node_type(*out) != S_IFDIR || rfs_is_control(*out))) {
		rfs_ns_forget(d->ns, *out, 1);
		err = -ENOTDIR;
	}
out_free:
	free(path);
	return err;
}

int rfs_add_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd)
{
	const struct rfs_owner *o = &dd->owner;
	struct stat st = {.st_mode = o->mode, .st_uid = o->uid, .st_gid = o->gid};
	unsigned int which = (o->has_mode ? RFS_SET_MODE : 0) | (o->has_uid ? RFS_SET_UID : 0) |
			     (o->has_gid ? RFS_SET_GID : 0);
	struct rfs_node *dir;
	int err = find_dir(d, dd, &dir);

	if (err)
		return err;
	/* An existing directory takes the declared owner and lifetime too. */
	if (which)
		err = rfs_ns_setattr(d->ns, dir, which, &st);
	if (!err && dd->lifetime != RFS_LIFE_UNSET)
		err = rfs_ns_set_lifetime(d->ns, dir, rfs_lifetime_of(dd->lifetime));
	if (which && d->inval)
		rfs_inval_post(d->inval, rfs_ino(d, dir), 0, 0);
	rfs_ns_forget(d->ns, dir, 1);
	return err;
}

void rfs_drop_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd)
{
	struct rfs_node *dir;

	if (rfs_lookup_path(d, dd->name, &dir) == 0) {
		rfs_ns_set_lifetime(d->ns, dir, RFS_LIFETIME_PERSIST);
		rfs_ns_forget(d->ns, dir, 1);
	}
}
