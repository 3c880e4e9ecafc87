/*
 * Extended attributes of nodes, POSIX ACLs among them (see ns.h, ns_i.h).
 * A node's are a small array of name/value pairs, under ns->lock; their
 * bytes come from one pool per namespace (ns->xattr_room), so no client
 * can grow the daemon without bound.
 */
#include "lib/ns_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "lib/acl.h"
#include "lib/clock.h"

/* One attribute: its name, NUL, then size bytes of value. */
struct xattr {
	size_t size;
	char name[];
};

struct rfs_xattrs {
	size_t n, cap;
	struct xattr **v;
};

static const void *xattr_value(const struct xattr *a)
{
	return a->name + strlen(a->name) + 1;
}

/* What an attribute costs the pool: its bytes and a little for keeping it. */
static uint64_t space(const char *name, size_t size)
{
	return sizeof(struct xattr) + sizeof(struct xattr *) + strlen(name) + 1 + size;
}

static struct xattr **find(const struct rfs_xattrs *x, const char *name)
{
	for (size_t i = 0; x && i < x->n; i++)
		if (strcmp(x->v[i]->name, name) == 0)
			return &x->v[i];
	return NULL;
}

/* Name name value; 0 or -ENOMEM (nothing changed). The pool is the caller's. */
static int put(struct rfs_xattrs **xp, const char *name, const void *value, size_t size)
{
	size_t len = strlen(name) + 1;
	struct xattr *a = malloc(sizeof(*a) + len + size), **slot;
	struct rfs_xattrs *x = *xp;

	if (!a)
		return -ENOMEM;
	a->size = size;
	memcpy(a->name, name, len);
	memcpy(a->name + len, value, size);
	if (!x && !(x = *xp = calloc(1, sizeof(*x)))) {
		free(a);
		return -ENOMEM;
	}
	slot = find(x, name);
	if (slot) {
		free(*slot);
		*slot = a;
		return 0;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 4;
		struct xattr **v = realloc(x->v, cap * sizeof(*v));

		if (!v) {
			free(a);
			return -ENOMEM;
		}
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = a;
	return 0;
}

/* Take name out; its pool space back. ns->lock exclusive. */
static void drop(struct rfs_ns *ns, struct rfs_node *n, const char *name)
{
	struct xattr **slot = find(n->xattrs, name);

	if (!slot)
		return;
	ns->xattr_used -= space((*slot)->name, (*slot)->size);
	free(*slot);
	*slot = n->xattrs->v[--n->xattrs->n];
}

void rfs_xattrs_free(struct rfs_xattrs *x)
{
	for (size_t i = 0; x && i < x->n; i++)
		free(x->v[i]);
	if (x)
		free(x->v);
	free(x);
}

void rfs_ns_xattrs_release(struct rfs_ns *ns, struct rfs_node *n)
{
	for (size_t i = 0; n->xattrs && i < n->xattrs->n; i++)
		ns->xattr_used -= space(n->xattrs->v[i]->name, n->xattrs->v[i]->size);
	rfs_xattrs_free(n->xattrs);
	n->xattrs = NULL;
}

/* Set name to value, charged to the pool. ns->lock exclusive. */
static int set_charged(struct rfs_ns *ns, struct rfs_node *n, const char *name, const void *value,
		       size_t size)
{
	struct xattr **old = find(n->xattrs, name);
	uint64_t before = old ? space(name, (*old)->size) : 0, after = space(name, size);
	int err;

	if (after > before && ns->xattr_used + (after - before) > ns->xattr_room)
		return -ENOSPC;
	err = put(&n->xattrs, name, value, size);
	if (!err)
		ns->xattr_used = ns->xattr_used - before + after;
	return err;
}

/* The families of names tmpfs keeps: 0; -EINVAL for a bare prefix,
 * -EOPNOTSUPP for anything else. */
static int known(const char *name)
{
	static const char *const prefixes[] = {"user.", "trusted.", "security."};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
			return name[strlen(prefixes[i])] ? 0 : -EINVAL;
	return strcmp(name, RFS_ACL_ACCESS) == 0 || strcmp(name, RFS_ACL_DEFAULT) == 0
		       ? 0
		       : -EOPNOTSUPP;
}

int rfs_ns_getxattr(struct rfs_ns *ns, struct rfs_node *n, const char *name, void *buf, size_t size)
{
	struct xattr **a;
	int ret = known(name);

	if (ret)
		return ret;
	pthread_rwlock_rdlock(&ns->lock);
	a = find(n->xattrs, name);
	if (!a)
		ret = -ENODATA;
	else if (size && (*a)->size > size)
		ret = -ERANGE;
	else {
		if (size)
			memcpy(buf, xattr_value(*a), (*a)->size);
		ret = (int)(*a)->size;
	}
	pthread_rwlock_unlock(&ns->lock);
	return ret;
}

/* An access ACL set on n: the mode follows it, and one that says no more
 * than a mode is not kept (as tmpfs). ns->lock exclusive. */
static int set_access_acl(struct rfs_ns *ns, struct rfs_node *n, const void *value, size_t size)
{
	mode_t mode = n->mode;
	int err = 0;

	if (rfs_acl_to_mode(value, size, &mode))
		drop(ns, n, RFS_ACL_ACCESS);
	else
		err = set_charged(ns, n, RFS_ACL_ACCESS, value, size);
	if (!err)
		n->mode = mode;
	return err;
}

static int set_xattr(struct rfs_ns *ns, struct rfs_node *n, const char *name, const void *value,
		     size_t size, int flags)
{
	bool acl_access = strcmp(name, RFS_ACL_ACCESS) == 0;
	bool acl_default = strcmp(name, RFS_ACL_DEFAULT) == 0;
	int err = fixed(n) ? -EPERM : known(name);

	if (err)
		return err;
	if ((acl_access || acl_default) && (err = rfs_acl_check(value, size)))
		return err;
	if (acl_default && !is_dir(n))
		return -EACCES;
	pthread_rwlock_wrlock(&ns->lock);
	if (flags & XATTR_CREATE && find(n->xattrs, name))
		err = -EEXIST;
	else if (flags & XATTR_REPLACE && !find(n->xattrs, name))
		err = -ENODATA;
	else if (acl_access)
		err = set_access_acl(ns, n, value, size);
	else
		err = set_charged(ns, n, name, value, size);
	if (!err)
		rfs_nsj_setxattr(ns, n, name, value, size, flags);
	pthread_rwlock_unlock(&ns->lock);
	if (!err)
		atomic_store(&n->ctime, op_now());
	return err;
}

static int remove_xattr(struct rfs_ns *ns, struct rfs_node *n, const char *name)
{
	int err = fixed(n) ? -EPERM : known(name);

	if (err)
		return err;
	pthread_rwlock_wrlock(&ns->lock);
	if (find(n->xattrs, name)) {
		drop(ns, n, name);
		rfs_nsj_removexattr(ns, n, name);
	} else
		err = -ENODATA;
	pthread_rwlock_unlock(&ns->lock);
	if (!err)
		atomic_store(&n->ctime, op_now());
	return err;
}

int rfs_ns_listxattr(struct rfs_ns *ns, struct rfs_node *n, bool privileged, char *buf, size_t size)
{
	size_t len = 0;
	int ret = 0;

	pthread_rwlock_rdlock(&ns->lock);
	for (size_t i = 0; n->xattrs && i < n->xattrs->n; i++) {
		const char *name = n->xattrs->v[i]->name;
		size_t l = strlen(name) + 1;

		/* trusted.* exist only for those who may read them, as on tmpfs */
		if (!privileged && strncmp(name, "trusted.", 8) == 0)
			continue;
		if (buf && len + l > size) {
			ret = -ERANGE;
			break;
		}
		if (buf)
			memcpy(buf + len, name, l);
		len += l;
	}
	pthread_rwlock_unlock(&ns->lock);
	return ret ? ret : (int)len;
}

/* Set-user-ID, and set-group-ID where it means that (group-executable). */
static mode_t privs(mode_t mode)
{
	return S_ISREG(mode) ? mode & (S_ISUID | ((mode & S_IXGRP) ? S_ISGID : 0)) : 0;
}

static bool holds_priv(const struct rfs_node *n)
{
	return privs(n->mode) || (S_ISREG(n->mode) && find(n->xattrs, "security.capability"));
}

bool rfs_ns_holds_priv(struct rfs_ns *ns, struct rfs_node *n)
{
	bool ret;

	pthread_rwlock_rdlock(&ns->lock);
	ret = holds_priv(n);
	pthread_rwlock_unlock(&ns->lock);
	return ret;
}

void rfs_ns_kill_priv(struct rfs_ns *ns, struct rfs_node *n)
{
	rfs_op_begin();
	pthread_rwlock_wrlock(&ns->lock);
	if (holds_priv(n)) {
		n->mode &= ~privs(n->mode);
		drop(ns, n, "security.capability");
		atomic_store(&n->ctime, op_now());
		rfs_nsj_kill_priv(ns, n);
	}
	pthread_rwlock_unlock(&ns->lock);
	rfs_op_end();
}

int rfs_ns_setxattr(struct rfs_ns *ns, struct rfs_node *n, const char *name, const void *value,
		    size_t size, int flags)
{
	int err;

	rfs_op_begin();
	err = set_xattr(ns, n, name, value, size, flags);
	rfs_op_end();
	return err;
}

int rfs_ns_removexattr(struct rfs_ns *ns, struct rfs_node *n, const char *name)
{
	int err;

	rfs_op_begin();
	err = remove_xattr(ns, n, name);
	rfs_op_end();
	return err;
}

/* chmod of n: an access ACL it has follows the new mode. ns->lock exclusive. */
void rfs_ns_acl_chmod(struct rfs_node *n)
{
	struct xattr **a = find(n->xattrs, RFS_ACL_ACCESS);

	if (a)
		rfs_acl_chmod((char *)xattr_value(*a), (*a)->size, n->mode);
}

bool rfs_ns_has_default_acl(const struct rfs_node *dir)
{
	return find(dir->xattrs, RFS_ACL_DEFAULT) != NULL;
}

int rfs_ns_acl_inherit(struct rfs_ns *ns, const struct rfs_node *dir, struct rfs_node *n)
{
	struct xattr **d = find(dir->xattrs, RFS_ACL_DEFAULT);
	unsigned char *access;
	mode_t mode = n->mode;
	int err = 0;

	if (!d)
		return 0;
	access = malloc((*d)->size);
	if (!access)
		return -ENOMEM;
	if (!rfs_acl_inherit(xattr_value(*d), (*d)->size, access, &mode))
		err = set_charged(ns, n, RFS_ACL_ACCESS, access, (*d)->size);
	free(access);
	n->mode = mode;
	if (!err && is_dir(n))
		err = set_charged(ns, n, RFS_ACL_DEFAULT, xattr_value(*d), (*d)->size);
	if (err)
		rfs_ns_xattrs_release(ns, n);
	return err;
}
