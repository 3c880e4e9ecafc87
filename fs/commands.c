#include "fs/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/command.h"
#include "conf/quote.h"
#include "fs/inval.h"
#include "fs/path.h"
#include "fs/reload.h"
#include "fs/sandbox.h"
#include "fs/views.h"
#include "fs/declare.h"
#include "fs/log.h"

/* A name or path for a message, quoted as stats prints it (shortened). */
struct quoted {
	char s[256];
};

static const char *quoted(const char *name, struct quoted *q)
{
	rfs_quote(name, q->s, sizeof(q->s));
	return q->s;
}

/* How long a command waits for the kernel to drop cached names it changed. */
#define CMD_WAIT_MS 1000

static int cmd_region(struct rfs_daemon *d, const struct rfs_region_decl *r, char *err,
		      size_t errlen)
{
	int e = rfs_add_region(d, r);
	struct quoted q;

	if (e)
		snprintf(err, errlen, "region %s: %s", quoted(r->name, &q), strerror(-e));
	return e;
}

static int cmd_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd, char *err, size_t errlen)
{
	int e = rfs_add_dir(d, dd);

	if (e)
		rfs_dir_error(dd, e, err, errlen);
	return e;
}

static int cmd_view(struct rfs_daemon *d, const struct rfs_view_decl *v, char *err, size_t errlen)
{
	int e, fd = -1;

	/* A region is of this mount: allowed_roots are about files outside. */
	if (!v->region) {
		fd = rfs_open_beneath(d->cfg.allowed_roots, d->cfg.n_allowed_roots, v->file,
				      v->access == RFS_ACCESS_RW, err, errlen);
		if (fd < 0)
			return fd;
	}
	e = rfs_add_view(d, v, fd);
	if (e)
		rfs_view_error(v, NULL, e, err, errlen);
	return e;
}

struct flush_all {
	struct rfs_daemon *d;
	int err;
	char *msg;
	size_t msglen;
	/* flush all: the views found by the walk, referenced, with their paths */
	struct rfs_node **nodes;
	char **paths;
	size_t n, cap;
};

static int flush_one(struct flush_all *f, const char *path, struct rfs_node *node)
{
	struct quoted q;
	int e;

	e = rfs_view_flush(f->d, rfs_node_mapping(node), path, true);
	if (e) {
		if (!f->err)
			snprintf(f->msg, f->msglen, "flush %s: %s", quoted(path, &q), strerror(-e));
		f->err = f->err ? f->err : e;
	}
	return 0;
}

/* Walk callback, under the namespace lock: only note the views to flush. */
static int note_view(void *ctx, const char *path, struct rfs_node *node)
{
	struct flush_all *f = ctx;

	/* A cow view has nothing to flush: its changes go only by commit. */
	if (rfs_mapping_kind(rfs_node_mapping(node)) != RFS_KIND_VIEW ||
	    rfs_mapping_cow(rfs_node_mapping(node)))
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct rfs_node **nodes = reallocarray(f->nodes, cap, sizeof(*nodes));
		char **paths = nodes ? reallocarray(f->paths, cap, sizeof(*paths)) : NULL;

		if (nodes)
			f->nodes = nodes;
		if (!paths) {
			f->err = -ENOMEM;
			return 1;
		}
		f->paths = paths;
		f->cap = cap;
	}
	f->paths[f->n] = strdup(path);
	if (!f->paths[f->n]) {
		f->err = -ENOMEM;
		return 1;
	}
	rfs_ns_ref(f->d->ns, node);
	f->nodes[f->n++] = node;
	return 0;
}

/* Flush every view, the I/O outside the namespace lock. */
static int flush_all(struct flush_all *f)
{
	rfs_ns_walk(f->d->ns, note_view, f);
	for (size_t i = 0; i < f->n; i++) {
		flush_one(f, f->paths[i], f->nodes[i]);
		rfs_ns_forget(f->d->ns, f->nodes[i], 1);
		free(f->paths[i]);
	}
	free(f->nodes);
	free(f->paths);
	if (f->err == -ENOMEM && !f->msg[0])
		snprintf(f->msg, f->msglen, "out of memory listing views");
	return f->err;
}

/* The regular file called name, referenced. */
static int find_file(struct rfs_daemon *d, const char *name, struct rfs_node **node)
{
	int e = rfs_lookup_path(d, name, node);

	if (!e && !rfs_node_mapping(*node)) {
		rfs_ns_forget(d->ns, *node, 1);
		e = -EISDIR;
	}
	return e;
}

static int cmd_flush(struct rfs_daemon *d, const char *name, char *err, size_t errlen)
{
	struct flush_all f = {.d = d, .msg = err, .msglen = errlen};
	struct rfs_node *node;
	struct quoted q;

	if (strcmp(name, "all") == 0)
		return flush_all(&f);
	f.err = find_file(d, name, &node);
	if (!f.err) {
		/* Its changes are private by design: a bare ok would claim they
		 * reached the file. */
		if (rfs_mapping_cow(rfs_node_mapping(node))) {
			snprintf(err, errlen,
				 "%s: cow view: nothing to flush, use commit or discard",
				 quoted(name, &q));
			f.err = -EINVAL;
		} else {
			flush_one(&f, name, node);
		}
		rfs_ns_forget(d->ns, node, 1);
	}
	if (f.err && !err[0])
		snprintf(err, errlen, "%s: %s", quoted(name, &q), strerror(-f.err));
	return f.err;
}

/*
 * commit or discard NAME: settle a cow view's private pages. Safe under
 * open files and client mappings: the mapping serializes against reads
 * and writes, and the kernel's cached pages of the view are dropped after
 * a discard (rfs_command_run waits for that before answering), so the
 * next read or fault of a client mapping sees the file's bytes. A commit
 * leaves the view's bytes as they were; other views of the file are told
 * through the windows' change notices.
 */
static int cmd_settle(struct rfs_daemon *d, const char *name, bool commit, char *err, size_t errlen)
{
	struct rfs_node *node;
	struct rfs_mapping *m;
	struct quoted q;
	int e = find_file(d, name, &node);

	if (e) {
		snprintf(err, errlen, "%s: %s", quoted(name, &q), strerror(-e));
		return e;
	}
	m = rfs_node_mapping(node);
	if (!rfs_mapping_cow(m)) {
		snprintf(err, errlen, "%s is not a cow view", quoted(name, &q));
		e = -EINVAL;
	} else if (commit) {
		/* Other views' dirty pages of the window land first, not over it. */
		rfs_inval_before_change(d, m, 0, rfs_mapping_size(m));
		e = rfs_mapping_commit(m);
		rfs_add(e ? &d->counters->commit_errors : &d->counters->commits, 1);
		if (e == -EACCES)
			snprintf(err, errlen, "commit %s: its backing file is open read-only",
				 quoted(name, &q));
		else if (e)
			snprintf(err, errlen, "commit %s: %s (the changes stay private)",
				 quoted(name, &q), strerror(-e));
	} else {
		e = rfs_mapping_discard(m);
		if (!e)
			rfs_add(&d->counters->discards, 1);
		else
			snprintf(err, errlen, "discard %s: %s", quoted(name, &q), strerror(-e));
		/* Even a failed discard may have dropped some pages. */
		rfs_inval_post(d->inval, rfs_ino(d, node), 0, 0);
	}
	rfs_ns_forget(d->ns, node, 1);
	return e;
}

/* Record a command's outcome for readers of control. ctl_lock held. */
static void result_locked(struct rfs_daemon *d, int e, const char *line, const char *why)
{
	if (e) {
		snprintf(d->ctl_result, sizeof(d->ctl_result), "error: %.200s: %s\n", line,
			 why[0] ? why : strerror(-e));
		rfs_log(RFS_LOG_WARN, "control: %.200s: %s", line, why[0] ? why : strerror(-e));
	} else {
		snprintf(d->ctl_result, sizeof(d->ctl_result), "ok: %.400s\n", line);
	}
}

static int result(struct rfs_daemon *d, int e, const char *line, const char *why)
{
	pthread_mutex_lock(&d->ctl_lock);
	result_locked(d, e, line, why);
	pthread_mutex_unlock(&d->ctl_lock);
	return e;
}

/* Run one parsed command. */
static int run(struct rfs_daemon *d, const struct rfs_command *cmd, char *err, size_t errlen)
{
	switch (cmd->verb) {
	case RFS_CMD_REGION:
		return cmd_region(d, &cmd->region, err, errlen);
	case RFS_CMD_VIEW:
		return cmd_view(d, &cmd->view, err, errlen);
	case RFS_CMD_SEAL:
		return rfs_seal_region(d, cmd->name, cmd->seals, err, errlen);
	case RFS_CMD_DIR:
		return cmd_dir(d, &cmd->dir, err, errlen);
	case RFS_CMD_REMOVE:
		return rfs_remove_name(d, cmd->name, err, errlen);
	case RFS_CMD_FLUSH:
		return cmd_flush(d, cmd->name, err, errlen);
	case RFS_CMD_COMMIT:
	case RFS_CMD_DISCARD:
		return cmd_settle(d, cmd->name, cmd->verb == RFS_CMD_COMMIT, err, errlen);
	case RFS_CMD_RELOAD:
		return rfs_reload(d, err, errlen);
	case RFS_CMD_NONE:
		break;
	}
	return 0;
}

/*
 * Every line is parsed before any runs, so a malformed write changes
 * nothing. A command that fails when run (a name taken, a file missing)
 * stops the ones after it; those before it stay done.
 */
int rfs_command_run(struct rfs_daemon *d, const char *buf, size_t size)
{
	struct rfs_command *cmds = NULL;
	char *text, *line, *next, **lines = NULL;
	char err[RFS_ERR_MAX] = "";
	size_t n = 0, i;
	int e = 0;

	if (memchr(buf, '\0', size))
		return result(d, -EINVAL, "", "NUL byte in command");
	text = strndup(buf, size);
	if (!text)
		return result(d, -ENOMEM, "", "out of memory");
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n++;
	}
	cmds = calloc(n, sizeof(*cmds));
	lines = calloc(n, sizeof(*lines));
	if (!cmds || !lines) {
		e = result(d, -ENOMEM, "", "out of memory");
		goto out_free;
	}
	for (i = 0, line = text; i < n; i++, line += strlen(line) + 1) {
		lines[i] = line;
		e = rfs_command_parse(line, &cmds[i], err, sizeof(err));
		if (e) {
			e = result(d, e, line, err);
			goto out_free;
		}
	}
	pthread_mutex_lock(&d->ctl_lock);
	for (i = 0; i < n && !e; i++) {
		err[0] = '\0';
		e = run(d, &cmds[i], err, sizeof(err));
		if (e || cmds[i].verb != RFS_CMD_NONE)
			result_locked(d, e, lines[i], err);
	}
	pthread_mutex_unlock(&d->ctl_lock);
	/* Let the kernel forget cached names before the writer looks for them. */
	rfs_inval_wait(d->inval, rfs_inval_ticket(d->inval), CMD_WAIT_MS);
out_free:
	for (i = 0; cmds && i < n; i++)
		rfs_command_free(&cmds[i]);
	free(cmds);
	free(lines);
	free(text);
	return e;
}

void rfs_command_result(struct rfs_daemon *d, struct rfs_text *t)
{
	pthread_mutex_lock(&d->ctl_lock);
	rfs_text_printf(t, "%s", d->ctl_result[0] ? d->ctl_result : "ok: no command yet\n");
	pthread_mutex_unlock(&d->ctl_lock);
}
