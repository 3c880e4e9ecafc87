/* Directory operations: creating and removing names, rename, readdir. */
#include "fs/ops_dir.h"

#include <errno.h>
#include <stdio.h> /* RENAME_* */
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/handles.h"
#include "fs/ops_inode.h"

/* Reply to a request that made a new name with the referenced node. */
static void reply_created(fuse_req_t req, int err, struct rfs_node *node)
{
	struct fuse_entry_param e;

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	rfs_fill_entry(rfs_daemon(req), node, &e);
	fuse_reply_entry(req, &e);
}

static void make(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		 const char *target, dev_t rdev)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_new what = {.mode = mode,
			       .cred = rfs_req_cred(req),
			       .target = target,
			       .rdev = rdev,
			       .umask = fuse_req_ctx(req)->umask};
	struct rfs_node *node = NULL;
	int err;

	rfs_count(d, S_ISDIR(mode) ? RFS_OP_mkdir : S_ISLNK(mode) ? RFS_OP_symlink : RFS_OP_mknod);
	err = rfs_ns_create(d->ns, rfs_node(d, parent), name, &what, &node);
	reply_created(req, err, node);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	make(req, parent, name, S_IFDIR | (mode & 07777), NULL, 0);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	make(req, parent, name, mode, NULL, rdev);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	make(req, parent, name, S_IFLNK | 0777, link, 0);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);

	rfs_count(d, RFS_OP_link);

	reply_created(req, rfs_ns_link(d->ns, node, rfs_node(d, parent), name), node);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rfs_daemon *d = rfs_daemon(req);

	rfs_count(d, RFS_OP_unlink);

	fuse_reply_err(req, -rfs_ns_remove(d->ns, rfs_node(d, parent), name, false));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rfs_daemon *d = rfs_daemon(req);

	rfs_count(d, RFS_OP_rmdir);

	fuse_reply_err(req, -rfs_ns_remove(d->ns, rfs_node(d, parent), name, true));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct rfs_daemon *d = rfs_daemon(req);
	unsigned int f = 0;

	rfs_count(d, RFS_OP_rename);

	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (flags & RENAME_NOREPLACE)
		f |= RFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		f |= RFS_RENAME_EXCHANGE;
	if (flags & RENAME_WHITEOUT)
		f |= RFS_RENAME_WHITEOUT;
	fuse_reply_err(req,
		       -rfs_ns_rename_as(d->ns, rfs_node(d, parent), name, rfs_node(d, newparent),
					 newname, f, rfs_req_cred(req)));
}

struct listing {
	fuse_req_t req;
	struct rfs_daemon *d;
	bool plus;
	char *buf;
	size_t size, used;
};

/* Called under the namespace's shared lock, for each entry in order. */
static int emit(void *ctx, const char *name, struct rfs_node *node, uint64_t next)
{
	struct listing *l = ctx;
	size_t room = l->size - l->used, need;
	struct fuse_entry_param e;
	bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;

	memset(&e, 0, sizeof(e));
	rfs_ns_stat_locked(node, &e.attr);
	if (!l->plus) {
		need = fuse_add_direntry(l->req, l->buf + l->used, room, name, &e.attr,
					 (off_t)next);
		if (need > room)
			return 1;
		l->used += need;
		return 0;
	}
	need = fuse_add_direntry_plus(l->req, NULL, 0, name, NULL, 0);
	if (need > room)
		return 1;
	/* The kernel takes a reference for every entry but "." and "..". */
	if (!dot) {
		rfs_ns_ref(l->d->ns, node);
		e.ino = rfs_ino(l->d, node);
		rfs_kernel_holds(l->d, e.ino, 1);
		e.generation = l->d->generation;
		e.attr_timeout = rfs_attr_timeout(l->d, node);
		e.entry_timeout = l->d->timeout;
	}
	l->used += fuse_add_direntry_plus(l->req, l->buf + l->used, room, name, &e, (off_t)next);
	return 0;
}

static void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus,
		 struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct listing l = {.req = req, .d = d, .plus = plus, .size = size};
	int err;

	rfs_count(d, RFS_OP_readdir);
	l.buf = malloc(size);
	if (!l.buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Without its listing (a handle this process did not make), the
	 * walk resumes from the cookie alone. */
	err = rfs_ns_readdir(d->ns, rfs_node(d, ino), (uint64_t)off,
			     rfs_handle_get(d, fi, RFS_HANDLE_DIR), emit, &l);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_buf(req, l.buf, l.used);
	free(l.buf);
}

/* An open directory is a listing of it (lib/ns.h): linear, and it ends. */
static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_listing *l;
	int err;

	rfs_count(d, RFS_OP_opendir);
	err = rfs_ns_listing_open(d->ns, rfs_node(d, ino), &l);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	err = rfs_handle_add_kind(d, RFS_HANDLE_DIR, ino, l, fi);
	if (err) {
		rfs_ns_listing_close(d->ns, l);
		fuse_reply_err(req, -err);
		return;
	}
	if (fuse_reply_open(req, fi)) { /* the opener was interrupted */
		rfs_handle_remove(d, fi);
		rfs_ns_listing_close(d->ns, l);
	}
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);

	struct rfs_listing *l = rfs_handle_get(d, fi, RFS_HANDLE_DIR);

	(void)ino;
	if (l) {
		rfs_handle_remove(d, fi);
		rfs_ns_listing_close(d->ns, l);
	}
	fuse_reply_err(req, 0);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	list(req, ino, size, off, false, fi);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	list(req, ino, size, off, true, fi);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, 0); /* the namespace lives in memory */
}

void rfs_ops_dir(struct fuse_lowlevel_ops *ops)
{
	ops->mkdir = op_mkdir;
	ops->mknod = op_mknod;
	ops->symlink = op_symlink;
	ops->link = op_link;
	ops->unlink = op_unlink;
	ops->rmdir = op_rmdir;
	ops->rename = op_rename;
	ops->opendir = op_opendir;
	ops->releasedir = op_releasedir;
	ops->readdir = op_readdir;
	ops->readdirplus = op_readdirplus;
	ops->fsyncdir = op_fsyncdir;
}
