/* Inode operations: lookup and reference counting, attributes, statfs. */
#include "fs/ops_inode.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/holders.h"
#include "fs/inval.h"

void rfs_fill_entry(struct rfs_daemon *d, struct rfs_node *node, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = rfs_ino(d, node);
	rfs_ns_stat(d->ns, node, &e->attr);
	e->generation = d->generation;
	e->attr_timeout = rfs_attr_timeout(d, node);
	e->entry_timeout = d->timeout;
	rfs_kernel_holds(d, e->ino, 1);
}

double rfs_attr_timeout(struct rfs_daemon *d, struct rfs_node *node)
{
	/* A writer the kernel serves may store through a mapping, which
	 * moves the store file's mtime (tmpfs stamps each first store to a
	 * page) where no request shows it: stat must ask each time. */
	return rfs_node_type(node) == S_IFREG && rfs_holders_kernel_writer(d->holders, node)
		       ? 0
		       : d->timeout;
}

/* The fsuid and fsgid of process pid, into c where /proc tells them. */
static void proc_cred(pid_t pid, struct rfs_cred *c)
{
	char path[64], line[256];
	unsigned int real, eff, saved, fs;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %u %u %u %u", &real, &eff, &saved, &fs) == 4)
			c->uid = fs;
		else if (sscanf(line, "Gid: %u %u %u %u", &real, &eff, &saved, &fs) == 4)
			c->gid = fs;
	}
	fclose(f);
}

struct rfs_cred rfs_req_cred(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct rfs_cred c = {.uid = ctx->uid, .gid = ctx->gid};

	/* -o idmap: the kernel names the caller only in requests that create
	 * (FUSE_INVALID_UIDGID in the rest). The caller waits for our reply,
	 * so its pid is its own until we answer. */
	if (c.uid == (uid_t)-1 || c.gid == (gid_t)-1)
		proc_cred(ctx->pid, &c);
	return c;
}

/* A test hook (t_restart): lookups of the name RFS_TEST_SLOW_LOOKUP says
 * take two seconds, a client's lookup the daemon holds. */
static const char *slow_lookup;
static pthread_once_t slow_lookup_once = PTHREAD_ONCE_INIT;

static void slow_lookup_init(void)
{
	slow_lookup = getenv("RFS_TEST_SLOW_LOOKUP");
}

static void test_slow_lookup(const char *name)
{
	pthread_once(&slow_lookup_once, slow_lookup_init);
	if (slow_lookup && strcmp(name, slow_lookup) == 0)
		sleep(2);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct fuse_entry_param e;
	struct rfs_node *node;
	int err;

	rfs_count(d, RFS_OP_lookup);
	test_slow_lookup(name);
	/* "." of a node id from a file handle, which the kernel may have
	 * forgotten (export support): that node if it still lives, else ESTALE. */
	if (strcmp(name, ".") == 0)
		err = rfs_ns_find(d->ns, parent, &node);
	else
		err = rfs_ns_lookup(d->ns, rfs_node(d, parent), name, &node);

	if (err == -ENOENT) {
		/* A negative entry: the kernel caches "no such name" until it
		 * creates one itself, which it learns about directly. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = d->timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	rfs_fill_entry(d, node, &e);
	fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct rfs_daemon *d = rfs_daemon(req);

	rfs_count(d, RFS_OP_forget);
	rfs_kernel_holds(d, ino, -(int64_t)nlookup);
	rfs_ns_forget(d->ns, rfs_node(d, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct rfs_daemon *d = rfs_daemon(req);

	for (size_t i = 0; i < count; i++) {
		rfs_kernel_holds(d, forgets[i].ino, -(int64_t)forgets[i].nlookup);
		rfs_ns_forget(d->ns, rfs_node(d, forgets[i].ino), forgets[i].nlookup);
	}
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	struct stat st;

	rfs_count(d, RFS_OP_getattr);

	(void)fi;
	rfs_ns_stat(d->ns, node, &st);
	fuse_reply_attr(req, &st, rfs_attr_timeout(d, node));
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	static const struct {
		int fuse;
		unsigned int ns;
	} bits[] = {
		{FUSE_SET_ATTR_MODE, RFS_SET_MODE},   {FUSE_SET_ATTR_UID, RFS_SET_UID},
		{FUSE_SET_ATTR_GID, RFS_SET_GID},     {FUSE_SET_ATTR_SIZE, RFS_SET_SIZE},
		{FUSE_SET_ATTR_ATIME, RFS_SET_ATIME}, {FUSE_SET_ATTR_MTIME, RFS_SET_MTIME},
		{FUSE_SET_ATTR_CTIME, RFS_SET_CTIME},
	};
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	unsigned int which = 0;
	uint64_t before;
	struct timespec now;
	struct stat st;
	int err;

	rfs_count(d, RFS_OP_setattr);

	(void)fi;
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (to_set & bits[i].fuse)
			which |= bits[i].ns;
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		attr->st_atim = now;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		attr->st_mtim = now;
	if (to_set & (FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))
		which |= RFS_SET_TOUCH;
	before = rfs_inval_ticket(d->inval);
	err = rfs_ns_setattr(d->ns, node, which, attr);
	/* A region resized under its windows: they see it once we reply. */
	if (which & RFS_SET_SIZE)
		rfs_inval_settle(d->inval, before, RFS_INVAL_WAIT_MS);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	if (which & RFS_SET_MTIME)
		rfs_untouched(d, node);
	rfs_ns_stat(d->ns, node, &st);
	fuse_reply_attr(req, &st, rfs_attr_timeout(d, node));
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_store_usage su;
	struct rfs_ns_usage u;
	struct statvfs sv;
	/* Inside a budget, df tells the budget's size and use. */
	struct rfs_store *s = rfs_ns_store_of(d->ns, rfs_node(d, ino));

	rfs_count(d, RFS_OP_statfs);

	rfs_store_usage(s, &su);
	rfs_ns_usage(d->ns, &u);
	if (rfs_store_parent(s))
		u.nodes = su.files_used; /* its regions; the rest of the tree is elsewhere */
	rfs_store_free(s);
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_blocks = su.bytes_total / 4096;
	sv.f_bfree = su.bytes_used < su.bytes_total ? (su.bytes_total - su.bytes_used) / 4096 : 0;
	sv.f_bavail = sv.f_bfree;
	/* The store's inodes are regions; directories and links count too. */
	sv.f_files = su.files_total;
	sv.f_ffree = u.nodes < su.files_total ? su.files_total - u.nodes : 0;
	sv.f_favail = sv.f_ffree;
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct rfs_daemon *d = rfs_daemon(req);
	char buf[PATH_MAX];
	int err = rfs_ns_readlink(d->ns, rfs_node(d, ino), buf, sizeof(buf));

	rfs_count(d, RFS_OP_readlink);

	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_readlink(req, buf);
}

void rfs_ops_inode(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = op_lookup;
	ops->forget = op_forget;
	ops->forget_multi = op_forget_multi;
	ops->getattr = op_getattr;
	ops->setattr = op_setattr;
	ops->statfs = op_statfs;
	ops->readlink = op_readlink;
}
