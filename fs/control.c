#include "fs/control.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/commands.h"
#include "fs/handles.h"
#include "fs/holders.h"
#include "fs/ops_inode.h"
#include "fs/stats.h"

/* The tags of the special nodes: which control file a node is. */
enum ctl_kind { CTL_DIR = 1, CTL_CONTROL, CTL_STATS, CTL_STATS_JSON, CTL_METRICS, CTL_HOLDERS };

/*
 * One open control file: the snapshot it reads from; for the control file,
 * the line its writer has begun but not ended. Commands are lines, and a
 * writer's buffer may end mid-line (bash writes 4096 bytes at a time, the
 * kernel splits a write at 1 MiB): that piece waits for the rest.
 */
struct handle {
	enum ctl_kind kind;
	struct rfs_text text;
	pthread_mutex_t lock; /* guards partial, npartial */
	char *partial;
	size_t npartial;
};

static void free_handle(struct handle *h)
{
	/* The kernel sends RELEASE after FLUSH was answered, but a race
	 * detector cannot see that order: taking the lock shows it. */
	pthread_mutex_lock(&h->lock);
	pthread_mutex_unlock(&h->lock);
	free(h->partial);
	pthread_mutex_destroy(&h->lock);
	free(h->text.buf);
	free(h);
}

/* Longer than any command can be: such a line runs (and fails) as it is. */
#define PARTIAL_MAX (64 * 1024)

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
		{"stats.json", CTL_STATS_JSON, S_IFREG | 0444},
		{"metrics", CTL_METRICS, S_IFREG | 0444},
		{"holders", CTL_HOLDERS, S_IFREG | 0444},
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

/* The text of a stats, holders or metrics file, as who may see it. */
static void render(struct rfs_daemon *d, enum ctl_kind kind, const struct rfs_reader *who,
		   struct rfs_text *t)
{
	if (kind == CTL_STATS)
		rfs_stats_render(d, who, t);
	else if (kind == CTL_STATS_JSON)
		rfs_stats_json_render(d, who, t);
	else if (kind == CTL_HOLDERS)
		rfs_holders_render(d, who, t);
	else
		rfs_metrics_render(d, who, t);
}

/*
 * Render stats or metrics for the opener: its uid, gid and supplementary
 * groups (from /proc, through libfuse). If the groups cannot be read the
 * reader has only its own gid: it may be shown less, never more.
 */
static void render_for(fuse_req_t req, enum ctl_kind kind, struct rfs_text *t)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_cred cred = rfs_req_cred(req);
	struct rfs_reader who = {.uid = cred.uid, .gid = cred.gid};
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
	render(d, kind, &who, t);
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
	pthread_mutex_init(&h->lock, NULL);
	if (kind != CTL_CONTROL)
		render_for(req, kind, &h->text);
	else if (!writing)
		rfs_command_result(d, &h->text);
	if (rfs_handle_add(d,
			   &(struct rfs_handle){.kind = RFS_HANDLE_CONTROL,
						.ino = rfs_ino(d, node),
						.uid = rfs_req_cred(req).uid,
						.accmode = fi->flags & O_ACCMODE,
						.backing = -1},
			   h, fi)) {
		free_handle(h);
		fuse_reply_err(req, ENFILE);
		return;
	}
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (fuse_reply_open(req, fi)) { /* the opener was interrupted */
		rfs_handle_remove(d, fi);
		free_handle(h);
	}
}

void *rfs_control_adopt(struct rfs_daemon *d, const struct rfs_handle *h)
{
	struct rfs_node *node = rfs_ns_node(d->ns, h->ino);
	struct rfs_reader who = {.uid = h->uid, .gid = (gid_t)-1};
	struct handle *c;

	if (!node || !rfs_is_control(node) || kind_of(node) == CTL_DIR)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = kind_of(node);
	pthread_mutex_init(&c->lock, NULL);
	/* What its opener read is gone with the process: it reads anew, as
	 * its uid alone (shown less, never more). */
	if (c->kind != CTL_CONTROL)
		render(d, c->kind, &who, &c->text);
	else if (h->accmode == O_RDONLY)
		rfs_command_result(d, &c->text);
	return c;
}

void rfs_control_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = rfs_handle_get(rfs_daemon(req), fi, RFS_HANDLE_CONTROL);
	char *copy;

	if (!h) {
		fuse_reply_err(req, EBADF);
		return;
	}
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

/*
 * Run the whole lines of what was pending plus buf; keep an unended last
 * line pending. A failure drops the rest of this write too.
 */
static int take_lines(struct rfs_daemon *d, struct handle *h, const char *buf, size_t size)
{
	size_t total = h->npartial + size, whole;
	char *joined = malloc(total ? total : 1), *end;
	int err = 0;

	if (!joined)
		return -ENOMEM;
	if (h->npartial)
		memcpy(joined, h->partial, h->npartial);
	memcpy(joined + h->npartial, buf, size);
	free(h->partial);
	h->partial = NULL;
	h->npartial = 0;
	end = memrchr(joined, '\n', total);
	whole = end ? (size_t)(end - joined) + 1 : 0;
	if (!end && total > PARTIAL_MAX)
		whole = total;
	if (whole)
		err = rfs_command_run(d, joined, whole);
	if (!err && whole < total) {
		memmove(joined, joined + whole, total - whole);
		h->partial = joined;
		h->npartial = total - whole;
		return 0;
	}
	free(joined);
	return err;
}

void rfs_control_write(fuse_req_t req, const char *buf, size_t size, struct fuse_file_info *fi)
{
	struct handle *h = rfs_handle_get(rfs_daemon(req), fi, RFS_HANDLE_CONTROL);
	int err;

	if (!h || h->kind != CTL_CONTROL) {
		fuse_reply_err(req, EBADF);
		return;
	}
	pthread_mutex_lock(&h->lock);
	err = take_lines(rfs_daemon(req), h, buf, size);
	pthread_mutex_unlock(&h->lock);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_write(req, size);
}

void rfs_control_flush(fuse_req_t req, struct fuse_file_info *fi)
{
	struct handle *h = rfs_handle_get(rfs_daemon(req), fi, RFS_HANDLE_CONTROL);
	int err = 0;

	if (!h) {
		fuse_reply_err(req, EBADF);
		return;
	}
	/* A last line without its newline (echo -n) runs at close. */
	pthread_mutex_lock(&h->lock);
	if (h->npartial)
		err = rfs_command_run(rfs_daemon(req), h->partial, h->npartial);
	free(h->partial);
	h->partial = NULL;
	h->npartial = 0;
	pthread_mutex_unlock(&h->lock);
	fuse_reply_err(req, -err);
}

void rfs_control_release(fuse_req_t req, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct handle *h = rfs_handle_get(d, fi, RFS_HANDLE_CONTROL);

	if (h) {
		rfs_handle_remove(d, fi);
		free_handle(h);
	}
	fuse_reply_err(req, 0);
}
