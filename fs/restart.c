/* A successor's start (restart.h): replay, references, opens. */
#include "fs/restart.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/control.h"
#include "fs/declare.h"
#include "fs/handles.h"
#include "fs/inval.h"
#include "fs/log.h"
#include "fs/ops_file.h"
#include "fs/reload.h"
#include "fs/supervise.h"
#include "fs/text.h"
#include "lib/counts.h"
#include "lib/journal.h"

void rfs_kernel_holds(struct rfs_daemon *d, uint64_t ino, int64_t delta)
{
	if (d->krefs && !rfs_counts_add(d->krefs, ino, delta))
		rfs_log(RFS_LOG_WARN, "restart: node %llu is past the counted numbers",
			(unsigned long long)ino);
}

/* Notices a dead process may have queued and not sent: this many of the
 * journal's last changes have their names' kernel entries dropped again. */
#define RENOTICE 4096

static void renotice(void *ctx, uint64_t dir, const char *name)
{
	struct rfs_daemon *d = ctx;

	if (rfs_ns_node(d->ns, dir))
		rfs_inval_post_entry(d->inval, dir, name);
}

void rfs_restart_served(struct rfs_daemon *d)
{
	rfs_ns_journal_names(d->journal, RENOTICE, renotice, d);
}

void rfs_restart_lost(struct rfs_daemon *d, const char *why)
{
	if (!d->journal || rfs_journal_broken(d->journal))
		return;
	rfs_journal_break(d->journal, why);
	rfs_log(RFS_LOG_WARN, "%s: restart protection lost: %s", d->mountpoint, why);
}

void rfs_touched(struct rfs_daemon *d, struct rfs_node *node)
{
	int64_t t = rfs_ns_touch(node);

	if (d->touched)
		rfs_counts_max(d->touched, rfs_node_ino(node), (uint64_t)t);
}

void rfs_untouched(struct rfs_daemon *d, struct rfs_node *node)
{
	if (d->touched)
		rfs_counts_clear(d->touched, rfs_node_ino(node));
}

/* The predecessor stamped node n's bytes changed at t. */
static int retouch(void *ctx, uint64_t n, uint64_t t)
{
	struct rfs_daemon *d = ctx;
	struct rfs_node *node = rfs_ns_node(d->ns, n);

	if (node)
		rfs_ns_touch_at(node, (int64_t)t);
	return 0;
}

/* The driver's own records in the journal, past the namespace's (which a
 * replay of the namespace passes by). */
#define J_CONFIG RFS_NS_JOURNAL_DRIVER /* the text of the config a reload put in force */
#define J_MOUNT	 (J_CONFIG + 1)	       /* what a live upgrade makes the mount again from */

int rfs_restart_record_mount(struct rfs_daemon *d, const struct rfs_mount_facts *f)
{
	struct rfs_rec *r = malloc(sizeof(*r));
	int e;

	if (!r)
		return -ENOMEM;
	rfs_rec_init(r, J_MOUNT, f->time);
	rfs_rec_put_u64(r, f->generation);
	rfs_rec_put_str(r, f->mountpoint);
	rfs_rec_put_str(r, f->config);
	e = r->bad ? -E2BIG : rfs_journal_append(d->journal, r);
	free(r);
	return e;
}

static int mount_facts(void *ctx, struct rfs_rec *r)
{
	struct rfs_mount_facts *f = ctx;
	const char *mnt, *config;

	if (r->type != J_MOUNT || f->mountpoint)
		return 0;
	f->time = r->time;
	f->generation = (uint32_t)rfs_rec_get_u64(r);
	mnt = rfs_rec_get_str(r);
	config = rfs_rec_get_str(r);
	if (r->bad || !mnt)
		return -EPROTO;
	f->mountpoint = strdup(mnt);
	f->config = config ? strdup(config) : NULL;
	/* The first driver record: no need to read the rest. */
	return f->mountpoint && (!config || f->config) ? 1 : -ENOMEM;
}

int rfs_restart_mount_facts(struct rfs_journal *j, struct rfs_mount_facts *f)
{
	int e;

	memset(f, 0, sizeof(*f));
	e = rfs_journal_replay(j, mount_facts, f);
	if (e == 1)
		return 0;
	return e ? e : -ENODATA;
}

void rfs_mount_facts_free(struct rfs_mount_facts *f)
{
	free(f->mountpoint);
	free(f->config);
	memset(f, 0, sizeof(*f));
}

void rfs_restart_config(struct rfs_daemon *d, const char *text)
{
	struct rfs_rec *r;

	if (!d->journal || rfs_journal_broken(d->journal))
		return;
	r = malloc(sizeof(*r));
	if (r) {
		rfs_rec_init(r, J_CONFIG, 0);
		rfs_rec_put_str(r, text);
	}
	if (!r || rfs_journal_append(d->journal, r))
		rfs_restart_lost(d, "the config reloaded is too large for the journal");
	free(r);
}

/* The config in force when the predecessor died: the last a reload recorded. */
static int last_config(void *ctx, struct rfs_rec *r)
{
	char **text = ctx;
	const char *t;

	if (r->type != J_CONFIG || !(t = rfs_rec_get_str(r)))
		return 0;
	free(*text);
	*text = strdup(t);
	return *text ? 0 : -ENOMEM;
}

/* Put the last reloaded config in force again: d->cfg, and the owners'
 * budgets it gives (the namespace's part of the reload is replayed). */
static int restore_config(struct rfs_daemon *d, char *err, size_t errlen)
{
	struct rfs_config next = {0};
	char *text = NULL;
	int e = rfs_journal_replay(d->journal, last_config, &text);

	if (e || !text) {
		if (e)
			snprintf(err, errlen, "the reloaded config: %s", strerror(-e));
		return e;
	}
	e = rfs_reload_parse(d, text, &next, err, errlen);
	free(text);
	if (e)
		return e;
	rfs_config_free(&d->cfg);
	d->cfg = next;
	e = rfs_set_owner_budgets(d, &d->cfg);
	if (e)
		snprintf(err, errlen, "the reloaded config's budgets by owner: %s", strerror(-e));
	return e;
}

/* The kernel holds count references on node n: so does the namespace. */
static int hold(void *ctx, uint64_t n, uint64_t count)
{
	struct rfs_daemon *d = ctx;
	struct rfs_node *node;

	if (rfs_ns_find(d->ns, n, &node)) {
		/* Freed by the journal while counted: the count is stale. */
		rfs_log(RFS_LOG_WARN, "restart: the kernel holds node %llu, which is gone",
			(unsigned long long)n);
		return 0;
	}
	while (--count)
		rfs_ns_ref(d->ns, node);
	return 0;
}

static void *adopt(struct rfs_daemon *d, uint64_t fh, const struct rfs_handle *h)
{
	struct rfs_node *node = rfs_ns_node(d->ns, h->ino);
	struct rfs_listing *l;
	void *mine = NULL;

	(void)fh;
	if (!node)
		return NULL;
	switch ((enum rfs_handle_kind)h->kind) {
	case RFS_HANDLE_FILE:
		mine = rfs_file_adopt(d, h);
		break;
	case RFS_HANDLE_DIR:
		mine = rfs_ns_listing_open(d->ns, node, &l) ? NULL : l;
		break;
	case RFS_HANDLE_CONTROL:
		mine = rfs_control_adopt(d, h);
		break;
	}
	if (!mine)
		rfs_log(RFS_LOG_WARN, "restart: an open of node %llu cannot be taken over",
			(unsigned long long)h->ino);
	return mine;
}

/* A view made while mounted, made again from its recipe; a cow view's
 * private pages are in store file shadow. */
static int remake_view(void *ctx, const void *recipe, size_t len, uint64_t shadow,
		       struct rfs_mapping **out)
{
	struct rfs_daemon *d = ctx;
	struct rfs_view_decl v;
	int err = rfs_view_from_recipe(recipe, len, &v);

	if (err)
		return err;
	*out = rfs_view_open(d, &v, -1, shadow, &err);
	if (!*out)
		rfs_log(RFS_LOG_ERR, "restart: view of %s%s cannot be made again: %s",
			v.file ? v.file : "region ", v.file ? "" : v.region, strerror(-err));
	return *out ? 0 : err;
}

int rfs_restart_rebuild(struct rfs_daemon *d, char *err, size_t errlen)
{
	const char *broken = rfs_journal_broken(d->journal);
	int e;

	if (broken) {
		snprintf(err, errlen, "the journal does not hold every change: %s", broken);
		return -ENOTRECOVERABLE;
	}
	e = rfs_ns_replay(d->ns, d->journal, remake_view, d);
	if (e) {
		snprintf(err, errlen, "the journal (%llu records) does not replay: %s: %s",
			 (unsigned long long)rfs_journal_records(d->journal), strerror(-e),
			 rfs_ns_replay_failed(d->ns));
		return e;
	}
	e = restore_config(d, err, errlen);
	if (e)
		return e;
	e = rfs_counts_each(d->krefs, hold, d);
	rfs_ns_replay_release(d->ns);
	if (!e)
		e = rfs_counts_each(d->touched, retouch, d);
	if (!e)
		e = rfs_handles_adopt(d, adopt);
	if (e)
		snprintf(err, errlen, "cannot take the opens over: %s", strerror(-e));
	return e;
}

void rfs_restart_stats(struct rfs_daemon *d, struct rfs_text *t)
{
	struct rfs_restart *r = d->restart;
	const char *broken;

	if (!r) {
		rfs_text_printf(t, "# restart: off (mounted without -o restart: if the daemon "
				   "dies, the mount is lost)\n");
		return;
	}
	broken = rfs_journal_broken(d->journal);
	if (broken) {
		rfs_text_printf(t,
				"# restart: lost: %s; if the serving process dies, the mount "
				"ends\n",
				broken);
		return;
	}
	rfs_text_printf(t,
			"# restart: on: supervisor %d keeps the mount, serving process %d, "
			"%llu restarts",
			(int)getppid(), (int)getpid(),
			(unsigned long long)atomic_load(&r->restarts));
	if (atomic_load(&r->restarts))
		rfs_text_printf(t, " (the last in %.1f ms)",
				(double)atomic_load(&r->restart_ns) / 1e6);
	if (atomic_load(&r->upgrades) || atomic_load(&r->upgrades_refused))
		rfs_text_printf(t, ", %llu live upgrades",
				(unsigned long long)atomic_load(&r->upgrades));
	if (atomic_load(&r->upgrades_refused))
		rfs_text_printf(t, " (last upgrade refused: %.*s)", (int)sizeof(r->refused),
				r->refused);
	rfs_text_printf(t, "\n");
}

void rfs_restart_metrics(struct rfs_daemon *d, struct rfs_text *t)
{
	struct rfs_restart *r = d->restart;

	rfs_text_printf(t,
			"# HELP regionfs_info The regionfs build serving the mount.\n"
			"# TYPE regionfs_info gauge\n"
			"regionfs_info{version=\"%s\"} 1\n"
			"# HELP regionfs_server_pid The process serving requests (under -o "
			"restart, a supervisor's child).\n"
			"# TYPE regionfs_server_pid gauge\n"
			"regionfs_server_pid %d\n"
			"# HELP regionfs_server_restarts_total Serving processes started after the "
			"first died (-o restart).\n"
			"# TYPE regionfs_server_restarts_total counter\n"
			"regionfs_server_restarts_total %llu\n"
			"# HELP regionfs_restart_protected Would the mount outlive the serving "
			"process's death (1) or not (0).\n"
			"# TYPE regionfs_restart_protected gauge\n"
			"regionfs_restart_protected %d\n",
			RFS_VERSION, (int)getpid(),
			r ? (unsigned long long)atomic_load(&r->restarts) : 0ULL,
			r && !rfs_journal_broken(d->journal));
	if (r)
		rfs_text_printf(t,
				"# HELP regionfs_supervisor_pid The process keeping the mount (-o "
				"restart), which --upgrade signals.\n"
				"# TYPE regionfs_supervisor_pid gauge\n"
				"regionfs_supervisor_pid %d\n"
				"# HELP regionfs_upgrades_total Live upgrades made (regionfs "
				"--upgrade).\n"
				"# TYPE regionfs_upgrades_total counter\n"
				"regionfs_upgrades_total %llu\n"
				"# HELP regionfs_upgrades_refused_total Live upgrades refused, "
				"nothing changed (stats says why).\n"
				"# TYPE regionfs_upgrades_refused_total counter\n"
				"regionfs_upgrades_refused_total %llu\n",
				(int)getppid(), (unsigned long long)atomic_load(&r->upgrades),
				(unsigned long long)atomic_load(&r->upgrades_refused));
	if (r && atomic_load(&r->restarts))
		rfs_text_printf(t,
				"# HELP regionfs_last_restart_seconds From the last serving "
				"process's death to its successor serving.\n"
				"# TYPE regionfs_last_restart_seconds gauge\n"
				"regionfs_last_restart_seconds %.6f\n",
				(double)atomic_load(&r->restart_ns) / 1e9);
}
