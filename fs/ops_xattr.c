/*
 * Extended attributes: what the namespace keeps (user.*, trusted.*,
 * security.*, POSIX ACLs; lib/ns_xattr.c), and with -o xattr the
 * read-only user.regionfs.* facts stats gives for each file. Implementing
 * getxattr costs no round trip per write: the kernel asks for
 * security.capability once per inode, not per write, because INIT
 * negotiates FUSE_HANDLE_KILLPRIV_V2 (fs/wire.c), which makes the daemon
 * the one that drops set-user-ID and capabilities on write.
 */
#include "fs/ops_xattr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/names.h"
#include "fs/ops_inode.h"

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

static bool ours(const char *name)
{
	return strncmp(name, PREFIX, strlen(PREFIX)) == 0;
}

/* Reply to a getxattr or listxattr with n bytes of buf, or the error n. */
static void reply_value(fuse_req_t req, int n, const char *buf, size_t size)
{
	if (n < 0)
		fuse_reply_err(req, -n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else if ((size_t)n > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	char facts[4096 + 64], *buf;
	int n;

	rfs_count(d, RFS_OP_getxattr);
	if (ours(name)) {
		n = d->xattr_facts ? value_of(node, name, facts, sizeof(facts)) : -ENODATA;
		reply_value(req, n, facts, size);
		return;
	}
	buf = size ? malloc(size) : NULL;
	if (size && !buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = rfs_ns_getxattr(d->ns, node, name, buf, size);
	reply_value(req, n, buf, size);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	char probe[4096 + 64], *list = NULL;
	bool privileged = rfs_req_cred(req).uid == 0;
	size_t len, facts = sizeof(names) / sizeof(names[0]) * 32;
	int n = -ERANGE;

	rfs_count(d, RFS_OP_listxattr);
	/* The namespace's names, then ours. Another thread may add names
	 * between counting and copying: count again, a few times. */
	for (int tries = 0; n == -ERANGE && tries < 8; tries++) {
		n = rfs_ns_listxattr(d->ns, node, privileged, NULL, 0);
		free(list);
		list = n < 0 ? NULL : malloc((size_t)n + facts);
		if (n >= 0 && !list)
			n = -ENOMEM;
		if (n >= 0)
			n = rfs_ns_listxattr(d->ns, node, privileged, list, (size_t)n);
	}
	len = n < 0 ? 0 : (size_t)n;
	for (size_t i = 0; n >= 0 && d->xattr_facts && i < sizeof(names) / sizeof(names[0]); i++) {
		if (value_of(node, names[i], probe, sizeof(probe)) < 0)
			continue;
		memcpy(list + len, names[i], strlen(names[i]) + 1);
		len += strlen(names[i]) + 1;
	}
	reply_value(req, n < 0 ? n : (int)len, list, size);
	free(list);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct rfs_daemon *d = rfs_daemon(req);

	rfs_count(d, RFS_OP_setxattr);
	/* Ours are facts, not settings. */
	fuse_reply_err(req, ours(name) ? EPERM
				       : -rfs_ns_setxattr(d->ns, rfs_node(d, ino), name, value,
							  size, flags));
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct rfs_daemon *d = rfs_daemon(req);

	rfs_count(d, RFS_OP_removexattr);
	fuse_reply_err(req,
		       ours(name) ? EPERM : -rfs_ns_removexattr(d->ns, rfs_node(d, ino), name));
}

void rfs_ops_xattr(struct fuse_lowlevel_ops *ops)
{
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->setxattr = op_setxattr;
	ops->removexattr = op_removexattr;
}
