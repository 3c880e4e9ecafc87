#include "fs/reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/diff.h"
#include "fs/inval.h"
#include "fs/path.h"
#include "fs/restart.h"
#include "fs/declare.h"
#include "fs/log.h"
#include "fs/text.h"
#include "fs/names.h"

/* A reload under way: the config read, what changed, the views opened. */
struct reload {
	struct rfs_daemon *d;
	struct rfs_config next;
	struct rfs_diff *plan;
	struct rfs_mapping **maps; /* by next's views: opened before anything changes */
};

/* Larger than any config regionfs is given: refused, as a file that is no config. */
#define CONFIG_MAX (16U << 20)

/* Seals only accumulate: new ones are added, dropped ones stay (and say so). */
static void update_seals(struct rfs_daemon *d, const struct rfs_region_decl *r,
			 struct rfs_mapping *m)
{
	char why[RFS_ERR_MAX], kept[RFS_SEALS_TEXT];
	unsigned int had = rfs_mapping_seals(m);

	if ((r->seals & ~had) && rfs_seal_region(d, r->name, r->seals & ~had, why, sizeof(why)))
		rfs_log(RFS_LOG_WARN, "reload: seals of region %s", why);
	if (had & ~r->seals)
		rfs_log(RFS_LOG_INFO,
			"reload: region '%s' keeps its seals %s (seals only accumulate)", r->name,
			rfs_seals_text(had & ~r->seals, kept));
}

/* Bring a region declared before and now in line with its new declaration. */
static void update_region(struct rfs_daemon *d, const struct rfs_region_decl *r)
{
	struct rfs_node *node;
	struct stat st = {.st_mode = r->owner.mode,
			  .st_uid = r->owner.uid,
			  .st_gid = r->owner.gid,
			  .st_size = (off_t)r->size};
	unsigned int which = RFS_SET_SIZE;

	if (rfs_lookup_path(d, r->name, &node) == 0) {
		which |= r->owner.has_mode ? RFS_SET_MODE : 0;
		which |= r->owner.has_uid ? RFS_SET_UID : 0;
		which |= r->owner.has_gid ? RFS_SET_GID : 0;
		struct rfs_mapping *m = rfs_node_mapping(node);

		if (m && rfs_mapping_kind(m) == RFS_KIND_REGION) {
			if (rfs_ns_setattr(d->ns, node, which, &st))
				rfs_log(RFS_LOG_WARN, "reload: region '%s' kept its old size",
					r->name);
			update_seals(d, r, m);
		}
		/* Changed behind the kernel's back: drop its cached size and pages. */
		rfs_inval_post(d->inval, rfs_ino(d, node), 0, 0);
		rfs_ns_forget(d->ns, node, 1);
	}
}

/*
 * Open every new or changed view first, so that any error leaves the
 * namespace as it was. Windows of regions the reload adds are only checked:
 * they are made after their region.
 */
static int open_views(struct reload *r, char *msg, size_t msglen)
{
	for (size_t i = 0; i < r->next.n_views; i++) {
		const struct rfs_diff_view *dv = &r->plan->views[i];
		const struct rfs_view_decl *v = &r->next.views[i];
		int e = 0;

		if (dv->op == RFS_DIFF_SAME)
			continue;
		if (dv->late)
			e = dv->past_end ? -ENXIO : 0;
		else
			r->maps[i] = rfs_view_open(r->d, v, -1, 0, &e);
		if (e) {
			rfs_view_error(v, r->d->cfg.path, e, msg, msglen);
			return e;
		}
	}
	return 0;
}

/* Remove what went away or changed; open files keep the old mapping until closed. */
static void remove_old(struct reload *r)
{
	const struct rfs_config *old = &r->d->cfg;
	char why[RFS_ERR_MAX];

	for (size_t i = 0; i < old->n_views; i++)
		if (r->plan->old_views[i] != RFS_DIFF_SAME)
			rfs_remove_name(r->d, old->views[i].name, why, sizeof(why));
	for (size_t i = 0; i < old->n_regions; i++)
		if (r->plan->old_regions[i] == RFS_DIFF_REMOVED)
			rfs_remove_name(r->d, old->regions[i].name, why, sizeof(why));
}

/* Did the running config give the directory called name a budget? */
static bool had_budget(const struct rfs_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_dirs; i++)
		if (!strcmp(cfg->dirs[i].name, name))
			return cfg->dirs[i].has_size && cfg->dirs[i].size;
	return false;
}

/* A [dir:] section of the new config, brought in: a budget it no longer
 * gives goes too. */
static void update_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd)
{
	char why[RFS_ERR_MAX];
	struct rfs_node *dir;
	int e = rfs_add_dir(d, dd);

	if (e) {
		rfs_dir_error(dd, e, why, sizeof(why));
		rfs_log(RFS_LOG_WARN, "reload: %s", why);
	} else if (!dd->has_size && had_budget(&d->cfg, dd->name) &&
		   rfs_lookup_path(d, dd->name, &dir) == 0) {
		rfs_drop_budget(d, dir, dd->name);
		rfs_ns_forget(d->ns, dir, 1);
	}
}

/* Name the views opened, then directories, regions and the late windows. */
static void add_new(struct reload *r)
{
	struct rfs_daemon *d = r->d;
	const struct rfs_config *next = &r->next;
	char why[RFS_ERR_MAX];

	for (size_t i = 0; i < next->n_views; i++) {
		if (r->maps[i] && rfs_add_view_mapping(d, &next->views[i], r->maps[i])) {
			rfs_log(RFS_LOG_WARN, "reload: view '%s' could not be named",
				next->views[i].name);
			rfs_mapping_free(r->maps[i]);
		}
		r->maps[i] = NULL;
	}
	/* Before the regions, which are counted as they are made. */
	if (!rfs_owner_budgets_same(&d->cfg, next) && rfs_set_owner_budgets(d, next))
		rfs_log(RFS_LOG_WARN, "reload: budgets by owner: %s", strerror(ENOMEM));
	/* Before the regions: new ones in these directories take their lifetime. */
	for (size_t i = 0; i < d->cfg.n_dirs; i++)
		if (r->plan->old_dirs[i] == RFS_DIFF_REMOVED)
			rfs_drop_dir(d, &d->cfg.dirs[i]);
	for (size_t i = 0; i < next->n_dirs; i++)
		update_dir(d, &next->dirs[i]);
	/* A region declared before is brought in line, changed or not: its
	 * size may have changed at run time. */
	for (size_t i = 0; i < next->n_regions; i++) {
		if (r->plan->regions[i] != RFS_DIFF_ADDED)
			update_region(d, &next->regions[i]);
		else if (rfs_add_region(d, &next->regions[i]))
			rfs_log(RFS_LOG_WARN, "reload: region '%s' could not be added",
				next->regions[i].name);
	}
	for (size_t i = 0; i < next->n_views; i++) {
		int e = r->plan->views[i].late ? rfs_add_view(d, &next->views[i], -1) : 0;

		if (e) {
			rfs_view_error(&next->views[i], d->cfg.path, e, why, sizeof(why));
			rfs_log(RFS_LOG_WARN, "reload: %s", why);
		}
	}
}

/*
 * Reload: parse the file and open every new or changed view first; then
 * remove what went away or changed and add the new. Regions keep their
 * contents: a changed region is resized and re-owned. The size cap is
 * fixed at mount. Caller holds ctl_lock.
 */
int rfs_read_config(const char *path, char **text, char *msg, size_t msglen)
{
	int e = rfs_read_file(path, CONFIG_MAX, text);

	if (e)
		snprintf(msg, msglen, "%s: %s", path, strerror(-e));
	return e;
}

int rfs_reload_parse(struct rfs_daemon *d, const char *text, struct rfs_config *next, char *msg,
		     size_t msglen)
{
	int e = rfs_config_load_string(text, d->cfg.path, next, msg, msglen);

	if (!e && !next->path && d->cfg.path && !(next->path = strdup(d->cfg.path)))
		e = -ENOMEM;
	if (e) {
		rfs_config_free(next);
		return e;
	}
	/* Kept at mount: the cap and its accounting do not change under load. */
	next->size = d->cfg.size;
	next->has_size = d->cfg.has_size;
	return 0;
}

int rfs_reload(struct rfs_daemon *d, char *msg, size_t msglen)
{
	struct reload r = {.d = d};
	char *text = NULL;
	int e;

	if (!d->cfg.path) {
		snprintf(msg, msglen, "no config file to reload (mounted without -c)");
		return -ENOENT;
	}
	/* Parsed from the text read once: the journal keeps that text. */
	e = rfs_read_config(d->cfg.path, &text, msg, msglen);
	if (e)
		return e;
	e = rfs_reload_parse(d, text, &r.next, msg, msglen);
	if (e) {
		free(text);
		return e;
	}
	e = rfs_diff_new(&d->cfg, &r.next, &r.plan);
	r.maps = e ? NULL : calloc(r.next.n_views + 1, sizeof(*r.maps));
	if (!r.maps)
		e = -ENOMEM;
	if (!e)
		e = open_views(&r, msg, msglen);
	if (!e) {
		remove_old(&r);
		add_new(&r);
		rfs_config_free(&d->cfg);
		d->cfg = r.next;
		rfs_restart_config(d, text);
	} else {
		for (size_t i = 0; r.maps && i < r.next.n_views; i++)
			rfs_mapping_free(r.maps[i]);
		rfs_config_free(&r.next);
	}
	free(r.maps);
	rfs_diff_free(r.plan);
	free(text);
	return e;
}
