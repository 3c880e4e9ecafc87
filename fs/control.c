#include "fs/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/commands.h"

/* The tags of the special nodes: which control file a node is. */
enum ctl_kind { CTL_DIR = 1, CTL_CONTROL, CTL_STATS, CTL_METRICS };

/* One open control file: the snapshot it reads from. */
struct handle {
	enum ctl_kind kind;
	struct rfs_text text;
};

void rfs_text_printf(struct rfs_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0 || t->failed)
			return;
		if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *b;

		while (cap - t->len <= (size_t)n)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

static enum ctl_kind kind_of(const struct rfs_node *node)
{
	return (enum ctl_kind)(uintptr_t)rfs_node_tag(node);
}

int rfs_control_init(struct rfs_daemon *d)
{
	static const struct {
		const char *name;
		enum ctl_kind kind;
		mode_t mode;
	} files[] = {
		{"control", CTL_CONTROL, S_IFREG | 0600},
		{"stats", CTL_STATS, S_IFREG | 0444},
		{"metrics", CTL_METRICS, S_IFREG | 0444},
	};
	struct rfs_cred owner = {getuid(), getgid()};
	struct rfs_node *dir, *node;
	int err;

	err = rfs_ns_create_special(d->ns, rfs_ns_root(d->ns), RFS_NS_RESERVED, S_IFDIR | 0755,
				    owner, (void *)(uintptr_t)CTL_DIR, &dir);
	if (err)
		return err;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && !err; i++) {
		err = rfs_ns_create_special(d->ns, dir, files[i].name, files[i].mode, owner,
					    (void *)(uintptr_t)files[i].kind, &node);
		if (!err)
			rfs_ns_forget(d->ns, node, 1);
	}
	rfs_ns_forget(d->ns, dir, 1);
	return err;
}

/*
 * Render stats or metrics for the opener: its uid, gid and supplementary
 * groups (from /proc, through libfuse). If the groups cannot be read the
 * reader has only its own gid: it may be shown less, never more.
 */
static void render_for(fuse_req_t req, enum ctl_kind kind, struct rfs_text *t)
{
	struct rfs_daemon *d = rfs_daemon(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct rfs_reader who = {.uid = ctx->uid, .gid = ctx->gid};
	gid_t small[64], *groups = small;
	int n = fuse_req_getgroups(req, 64, small);

	if (n > 64) {
		groups = calloc((size_t)n, sizeof(*groups));
		n = groups ? fuse_req_getgroups(req, n, groups) : -ENOMEM;
	}
	if (n > 0) {
		who.groups = groups;
		who.ngroups = (size_t)n;
	}
	if (kind == CTL_STATS)
		rfs_stats_render(d, &who, t);
	else
		rfs_metrics_render(d, &who, t);
	if (groups != small)
		free(groups);
}

void rfs_control_open(fuse_req_t req, struct rfs_node *node, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	enum ctl_kind kind = kind_of(node);
	bool writing = (fi->flags & O_ACCMODE) != O_RDONLY;
	struct handle *h;

	if (kind == CTL_DIR) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (writing && kind != CTL_CONTROL) {
		fuse_reply_err(req, EACCES);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	h->kind = kind;
	if (kind == CTL_STATS || kind == CTL_METRICS)
		render_for(req, kind, &h->text);
	else if (!writing)
		rfs_command_result(d, &h->text);
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

void rfs_control_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	char *copy;

	if (off < 0 || (size_t)off >= h->text.len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > h->text.len - (size_t)off)
		size = h->text.len - (size_t)off;
	/*
	 * Reply from a copy this thread owns: once the reader has its bytes it
	 * may close the file, and the release (on another thread) frees the
	 * snapshot while writev's caller may still look at it (sanitizers do).
	 */
	copy = malloc(size);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(copy, h->text.buf + off, size);
	fuse_reply_buf(req, copy, size);
	free(copy);
}

void rfs_control_write(fuse_req_t req, const char *buf, size_t size, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	int err;

	if (h->kind != CTL_CONTROL) {
		fuse_reply_err(req, EBADF);
		return;
	}
	err = rfs_command_run(rfs_daemon(req), buf, size);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_write(req, size);
}

void rfs_control_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;

	free(h->text.buf);
	free(h);
	fuse_reply_err(req, 0);
}
