/*
 * user.regionfs.* extended attributes: what stats says about one file,
 * read-only. Opt-in (-o xattr): with getxattr implemented, the kernel asks
 * for security.capability before every write (libfuse 3.14 cannot negotiate
 * FUSE_HANDLE_KILLPRIV_V2), one extra round trip per write(); without it,
 * libfuse answers ENOSYS once and the kernel stops asking.
 */
#include "fs/ops_xattr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/names.h"

#define PREFIX "user.regionfs."

static const char *const names[] = {
	PREFIX "kind",	 PREFIX "size",	 PREFIX "capacity", PREFIX "backing", PREFIX "offset",
	PREFIX "access", PREFIX "dirty", PREFIX "lifetime", PREFIX "private", PREFIX "seals",
};

/* Format attribute name of node into buf; its length, or -ENODATA. */
static int value_of(struct rfs_node *node, const char *name, char *buf, size_t size)
{
	struct rfs_mapping *m = rfs_node_mapping(node);
	struct rfs_mapping_info i;
	const char *attr;

	if (strncmp(name, PREFIX, strlen(PREFIX)) != 0 || rfs_is_control(node))
		return -ENODATA;
	attr = name + strlen(PREFIX);
	/* A directory's: the default of regions created in it. */
	if (strcmp(attr, "lifetime") == 0 && (m || rfs_node_type(node) == S_IFDIR))
		return snprintf(buf, size, "%s", rfs_lifetime_name(node));
	if (!m)
		return -ENODATA;
	rfs_mapping_describe(m, &i);
	if (strcmp(attr, "kind") == 0)
		return snprintf(buf, size, "%s", rfs_kind_name(i.kind));
	if (strcmp(attr, "size") == 0)
		return snprintf(buf, size, "%llu", (unsigned long long)i.size);
	if (strcmp(attr, "capacity") == 0)
		return snprintf(buf, size, "%llu",
				(unsigned long long)((i.size + 4095) & ~4095ULL));
	if (strcmp(attr, "dirty") == 0)
		return snprintf(buf, size, "%llu", (unsigned long long)i.dirty);
	if (strcmp(attr, "access") == 0)
		return snprintf(buf, size, "%s", rfs_access_name(&i));
	if (strcmp(attr, "seals") == 0 && i.kind == RFS_KIND_REGION) {
		char seals[RFS_SEALS_TEXT];

		return snprintf(buf, size, "%s", rfs_seals_text(rfs_mapping_seals(m), seals));
	}
	if (i.kind != RFS_KIND_VIEW)
		return -ENODATA;
	if (strcmp(attr, "backing") == 0)
		return snprintf(buf, size, "%s", i.backing);
	if (strcmp(attr, "offset") == 0)
		return snprintf(buf, size, "%llu", (unsigned long long)i.offset);
	if (strcmp(attr, "private") == 0 && i.access == RFS_VIEW_COW)
		return snprintf(buf, size, "%llu", (unsigned long long)i.private_bytes);
	return -ENODATA;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct rfs_daemon *d = rfs_daemon(req);
	char buf[4096 + 64];
	int n;

	rfs_count(d, RFS_OP_getxattr);
	n = value_of(rfs_node(d, ino), name, buf, sizeof(buf));
	if (n < 0)
		fuse_reply_err(req, -n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	char list[512], probe[4096 + 64];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (value_of(node, names[i], probe, sizeof(probe)) < 0)
			continue;
		memcpy(list + len, names[i], strlen(names[i]) + 1);
		len += strlen(names[i]) + 1;
	}
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, list, len);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	(void)ino;
	(void)value;
	(void)size;
	(void)flags;
	/* Ours are facts, not settings; others have nowhere to live. */
	fuse_reply_err(req, strncmp(name, PREFIX, strlen(PREFIX)) == 0 ? EPERM : ENOTSUP);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	fuse_reply_err(req, strncmp(name, PREFIX, strlen(PREFIX)) == 0 ? EPERM : ENOTSUP);
}

void rfs_ops_xattr(struct fuse_lowlevel_ops *ops)
{
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->setxattr = op_setxattr;
	ops->removexattr = op_removexattr;
}
