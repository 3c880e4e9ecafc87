#include "conf/diff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool same_owner(const struct rfs_owner *a, const struct rfs_owner *b)
{
	return a->has_mode == b->has_mode && a->mode == b->mode && a->has_uid == b->has_uid &&
	       a->uid == b->uid && a->has_gid == b->has_gid && a->gid == b->gid;
}

/* Equal strings, or both absent. */
static bool same_str(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

bool rfs_view_decl_same(const struct rfs_view_decl *a, const struct rfs_view_decl *b)
{
	return same_str(a->file, b->file) && same_str(a->region, b->region) &&
	       a->offset == b->offset && a->has_length == b->has_length && a->length == b->length &&
	       a->access == b->access && same_owner(&a->owner, &b->owner);
}

bool rfs_region_decl_same(const struct rfs_region_decl *a, const struct rfs_region_decl *b)
{
	return a->size == b->size && a->prealloc == b->prealloc && a->lifetime == b->lifetime &&
	       a->seals == b->seals && same_owner(&a->owner, &b->owner);
}

bool rfs_dir_decl_same(const struct rfs_dir_decl *a, const struct rfs_dir_decl *b)
{
	return a->lifetime == b->lifetime && a->has_size == b->has_size && a->size == b->size &&
	       same_owner(&a->owner, &b->owner);
}

bool rfs_owner_budgets_same(const struct rfs_config *a, const struct rfs_config *b)
{
	if (a->user_size != b->user_size || a->group_size != b->group_size ||
	    a->n_owners != b->n_owners)
		return false;
	for (size_t i = 0; i < a->n_owners; i++)
		if (a->owners[i].group != b->owners[i].group ||
		    a->owners[i].id != b->owners[i].id || a->owners[i].size != b->owners[i].size)
			return false;
	return true;
}

static const struct rfs_view_decl *find_view(const struct rfs_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_views; i++)
		if (strcmp(c->views[i].name, name) == 0)
			return &c->views[i];
	return NULL;
}

static const struct rfs_region_decl *find_region(const struct rfs_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_regions; i++)
		if (strcmp(c->regions[i].name, name) == 0)
			return &c->regions[i];
	return NULL;
}

static const struct rfs_dir_decl *find_dir(const struct rfs_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_dirs; i++)
		if (strcmp(c->dirs[i].name, name) == 0)
			return &c->dirs[i];
	return NULL;
}

/* What became of a declaration found (or not) as other in the other config. */
#define OP(other, same, gone) ((other) ? ((same) ? RFS_DIFF_SAME : RFS_DIFF_CHANGED) : (gone))

static void diff_views(const struct rfs_config *old, const struct rfs_config *next,
		       struct rfs_diff *p)
{
	for (size_t i = 0; i < next->n_views; i++) {
		const struct rfs_view_decl *v = &next->views[i], *o = find_view(old, v->name);
		const struct rfs_region_decl *r = v->region ? find_region(next, v->region) : NULL;
		struct rfs_diff_view *dv = &p->views[i];

		dv->op = OP(o, o && rfs_view_decl_same(o, v), RFS_DIFF_ADDED);
		if (dv->op == RFS_DIFF_SAME || !r || find_region(old, v->region))
			continue;
		dv->late = true;
		dv->past_end =
			v->has_length ? v->offset + v->length > r->size : v->offset >= r->size;
	}
	for (size_t i = 0; i < old->n_views; i++) {
		const struct rfs_view_decl *o = &old->views[i], *v = find_view(next, o->name);

		p->old_views[i] = OP(v, v && rfs_view_decl_same(o, v), RFS_DIFF_REMOVED);
	}
}

static void diff_regions_dirs(const struct rfs_config *old, const struct rfs_config *next,
			      struct rfs_diff *p)
{
	for (size_t i = 0; i < next->n_regions; i++) {
		const struct rfs_region_decl *r = &next->regions[i], *o = find_region(old, r->name);

		p->regions[i] = OP(o, o && rfs_region_decl_same(o, r), RFS_DIFF_ADDED);
	}
	for (size_t i = 0; i < old->n_regions; i++) {
		const struct rfs_region_decl *o = &old->regions[i], *r = find_region(next, o->name);

		p->old_regions[i] = OP(r, r && rfs_region_decl_same(o, r), RFS_DIFF_REMOVED);
	}
	for (size_t i = 0; i < next->n_dirs; i++) {
		const struct rfs_dir_decl *dd = &next->dirs[i], *o = find_dir(old, dd->name);

		p->dirs[i] = OP(o, o && rfs_dir_decl_same(o, dd), RFS_DIFF_ADDED);
	}
	for (size_t i = 0; i < old->n_dirs; i++) {
		const struct rfs_dir_decl *o = &old->dirs[i], *dd = find_dir(next, o->name);

		p->old_dirs[i] = OP(dd, dd && rfs_dir_decl_same(o, dd), RFS_DIFF_REMOVED);
	}
}

int rfs_diff_new(const struct rfs_config *old, const struct rfs_config *next, struct rfs_diff **out)
{
	struct rfs_diff *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	/* +1: calloc(0) may return NULL. */
	p->views = calloc(next->n_views + 1, sizeof(*p->views));
	p->regions = calloc(next->n_regions + 1, sizeof(*p->regions));
	p->dirs = calloc(next->n_dirs + 1, sizeof(*p->dirs));
	p->old_views = calloc(old->n_views + 1, sizeof(*p->old_views));
	p->old_regions = calloc(old->n_regions + 1, sizeof(*p->old_regions));
	p->old_dirs = calloc(old->n_dirs + 1, sizeof(*p->old_dirs));
	if (!p->views || !p->regions || !p->dirs || !p->old_views || !p->old_regions ||
	    !p->old_dirs) {
		rfs_diff_free(p);
		return -ENOMEM;
	}
	diff_views(old, next, p);
	diff_regions_dirs(old, next, p);
	*out = p;
	return 0;
}

void rfs_diff_free(struct rfs_diff *diff)
{
	if (!diff)
		return;
	free(diff->views);
	free(diff->regions);
	free(diff->dirs);
	free(diff->old_views);
	free(diff->old_regions);
	free(diff->old_dirs);
	free(diff);
}
