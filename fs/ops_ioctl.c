/*
 * ioctls: the inode flags lsattr and chattr read and set, which the kernel
 * asks for as FS_IOC_GETFLAGS/SETFLAGS or FS_IOC_FSGETXATTR (on an open it
 * makes itself, of files and directories alike), after checking who may
 * (the owner; CAP_LINUX_IMMUTABLE for +i and +a). Everything else ENOTTY.
 */
#include "fs/ops_ioctl.h"

#include <errno.h>
#include <linux/fs.h>
#include <string.h>

#include "fs/inval.h"

/* chattr flags and their FS_IOC_FSGETXATTR names. */
static const struct {
	unsigned int flag, xflag;
} xflags[] = {
	{FS_IMMUTABLE_FL, FS_XFLAG_IMMUTABLE},
	{FS_APPEND_FL, FS_XFLAG_APPEND},
	{FS_NODUMP_FL, FS_XFLAG_NODUMP},
	{FS_NOATIME_FL, FS_XFLAG_NOATIME},
};

/* Reply with size bytes of out, if the caller's buffer takes them. */
static void reply_out(fuse_req_t req, const void *out, size_t size, size_t out_bufsz)
{
	if (out_bufsz < size)
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_ioctl(req, 0, out, size);
}

static void op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
		     struct fuse_file_info *fi, unsigned flags, const void *in_buf, size_t in_bufsz,
		     size_t out_bufsz)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	unsigned int iflags = rfs_ns_iflags(node);
	struct fsxattr fsx;
	uint64_t before;
	int value;

	(void)arg;
	(void)fi;
	(void)flags;
	rfs_count(d, RFS_OP_ioctl);
	switch (cmd) {
	case FS_IOC_GETFLAGS:
		value = (int)iflags;
		reply_out(req, &value, sizeof(value), out_bufsz);
		return;
	case FS_IOC_SETFLAGS:
		if (in_bufsz < sizeof(value)) {
			fuse_reply_err(req, EINVAL);
			return;
		}
		memcpy(&value, in_buf, sizeof(value));
		before = rfs_inval_ticket(d->inval);
		value = rfs_ns_set_iflags(d->ns, node, (unsigned int)value);
		if (value) {
			fuse_reply_err(req, -value);
			return;
		}
		/* The kernel keeps the attributes it has: stat must see the new ctime. */
		rfs_inval_post_attr(d->inval, ino);
		rfs_inval_settle(d->inval, before, RFS_INVAL_WAIT_MS);
		fuse_reply_ioctl(req, 0, NULL, 0);
		return;
	case FS_IOC_FSGETXATTR:
		memset(&fsx, 0, sizeof(fsx));
		for (size_t i = 0; i < sizeof(xflags) / sizeof(xflags[0]); i++)
			if (iflags & xflags[i].flag)
				fsx.fsx_xflags |= xflags[i].xflag;
		reply_out(req, &fsx, sizeof(fsx), out_bufsz);
		return;
	case FS_IOC_FSSETXATTR:
		/* tmpfs takes the flags only in their FS_IOC_SETFLAGS form */
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	default:
		fuse_reply_err(req, ENOTTY);
	}
}

void rfs_ops_ioctl(struct fuse_lowlevel_ops *ops)
{
	ops->ioctl = op_ioctl;
}
