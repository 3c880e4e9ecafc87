/*
 * libFuzzer harness for the reload plan (conf/diff.c): the input is two INI
 * configs, the one in force and the one read at reload, separated by a line
 * "===". When both load, rfs_diff_new() must say of every declaration, by
 * name, what a reload does with it. Invariants checked against a model
 * written here (a linear search by name, the declaration compared key by key):
 *
 *  - a new declaration is ADDED exactly when the old config has none of its
 *    name, SAME when the old one is the same declaration, else CHANGED; an
 *    old one is REMOVED, SAME or CHANGED the same way;
 *  - the plan backwards is the plan forwards turned round (ADDED <->
 *    REMOVED, SAME and CHANGED kept);
 *  - a config against itself is all SAME, with no late windows;
 *  - a view is late only if it is not SAME and its region= is added by the
 *    new config; past_end only if late, and then exactly when its window does
 *    not fit in the region's declared size.
 *
 * A broken invariant calls abort() after printing what broke. Built and run
 * by `make fuzz` (tests/fuzz/run.sh).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME  "fuzz_diff"
#define FUZZ_WHERE NULL
#include "tests/fuzz/check.h"

static bool str_eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

static bool owner_eq(const struct rfs_owner *a, const struct rfs_owner *b)
{
	return a->has_mode == b->has_mode && (!a->has_mode || a->mode == b->mode) &&
	       a->has_uid == b->has_uid && (!a->has_uid || a->uid == b->uid) &&
	       a->has_gid == b->has_gid && (!a->has_gid || a->gid == b->gid);
}

/* What the model says of declaration i of one kind of a against b. */
static enum rfs_diff_op model_view(const struct rfs_config *a, size_t i, const struct rfs_config *b,
				   enum rfs_diff_op absent)
{
	const struct rfs_view_decl *v = &a->views[i];

	for (size_t j = 0; j < b->n_views; j++) {
		const struct rfs_view_decl *w = &b->views[j];

		if (strcmp(v->name, w->name))
			continue;
		return str_eq(v->file, w->file) && str_eq(v->region, w->region) &&
				       v->offset == w->offset && v->has_length == w->has_length &&
				       v->length == w->length && v->access == w->access &&
				       owner_eq(&v->owner, &w->owner)
			       ? RFS_DIFF_SAME
			       : RFS_DIFF_CHANGED;
	}
	return absent;
}

static const struct rfs_region_decl *region_named(const struct rfs_config *c, const char *name)
{
	for (size_t j = 0; name && j < c->n_regions; j++)
		if (!strcmp(c->regions[j].name, name))
			return &c->regions[j];
	return NULL;
}

static enum rfs_diff_op model_region(const struct rfs_config *a, size_t i,
				     const struct rfs_config *b, enum rfs_diff_op absent)
{
	const struct rfs_region_decl *r = &a->regions[i], *s = region_named(b, r->name);

	if (!s)
		return absent;
	return r->size == s->size && r->prealloc == s->prealloc && r->lifetime == s->lifetime &&
			       owner_eq(&r->owner, &s->owner)
		       ? RFS_DIFF_SAME
		       : RFS_DIFF_CHANGED;
}

static enum rfs_diff_op model_dir(const struct rfs_config *a, size_t i, const struct rfs_config *b,
				  enum rfs_diff_op absent)
{
	const struct rfs_dir_decl *d = &a->dirs[i];

	for (size_t j = 0; j < b->n_dirs; j++)
		if (!strcmp(d->name, b->dirs[j].name))
			return d->lifetime == b->dirs[j].lifetime &&
					       d->has_size == b->dirs[j].has_size &&
					       d->size == b->dirs[j].size &&
					       owner_eq(&d->owner, &b->dirs[j].owner)
				       ? RFS_DIFF_SAME
				       : RFS_DIFF_CHANGED;
	return absent;
}

static void check_plan(const struct rfs_config *old, const struct rfs_config *next,
		       const struct rfs_diff *p)
{
	for (size_t i = 0; i < next->n_views; i++) {
		const struct rfs_view_decl *v = &next->views[i];
		const struct rfs_region_decl *r = region_named(next, v->region);
		bool late = p->views[i].op != RFS_DIFF_SAME && r && !region_named(old, v->region);

		CHECK(p->views[i].op == model_view(next, i, old, RFS_DIFF_ADDED), "view %s: op %d",
		      v->name, p->views[i].op);
		CHECK(p->views[i].late == late, "view %s: late %d", v->name, p->views[i].late);
		CHECK(p->views[i].past_end ==
			      (late && (v->has_length ? v->offset + v->length > r->size
						      : v->offset >= r->size)),
		      "view %s: past_end %d", v->name, p->views[i].past_end);
	}
	for (size_t i = 0; i < old->n_views; i++)
		CHECK(p->old_views[i] == model_view(old, i, next, RFS_DIFF_REMOVED),
		      "old view %s: op %d", old->views[i].name, p->old_views[i]);
	for (size_t i = 0; i < next->n_regions; i++)
		CHECK(p->regions[i] == model_region(next, i, old, RFS_DIFF_ADDED),
		      "region %s: op %d", next->regions[i].name, p->regions[i]);
	for (size_t i = 0; i < old->n_regions; i++)
		CHECK(p->old_regions[i] == model_region(old, i, next, RFS_DIFF_REMOVED),
		      "old region %s: op %d", old->regions[i].name, p->old_regions[i]);
	for (size_t i = 0; i < next->n_dirs; i++)
		CHECK(p->dirs[i] == model_dir(next, i, old, RFS_DIFF_ADDED), "dir %s: op %d",
		      next->dirs[i].name, p->dirs[i]);
	for (size_t i = 0; i < old->n_dirs; i++)
		CHECK(p->old_dirs[i] == model_dir(old, i, next, RFS_DIFF_REMOVED),
		      "old dir %s: op %d", old->dirs[i].name, p->old_dirs[i]);
}

static enum rfs_diff_op turned(enum rfs_diff_op op)
{
	return op == RFS_DIFF_ADDED	? RFS_DIFF_REMOVED
	       : op == RFS_DIFF_REMOVED ? RFS_DIFF_ADDED
					: op;
}

/* The plan b->a is the plan a->b turned round. */
static void check_reverse(const struct rfs_config *a, const struct rfs_config *b,
			  const struct rfs_diff *ab, const struct rfs_diff *ba)
{
	for (size_t i = 0; i < b->n_views; i++)
		CHECK(ba->old_views[i] == turned(ab->views[i].op), "view %s reversed",
		      b->views[i].name);
	for (size_t i = 0; i < a->n_views; i++)
		CHECK(ba->views[i].op == turned(ab->old_views[i]), "old view %s reversed",
		      a->views[i].name);
	for (size_t i = 0; i < b->n_regions; i++)
		CHECK(ba->old_regions[i] == turned(ab->regions[i]), "region reversed");
	for (size_t i = 0; i < b->n_dirs; i++)
		CHECK(ba->old_dirs[i] == turned(ab->dirs[i]), "dir reversed");
}

static void check_self(const struct rfs_config *c)
{
	struct rfs_diff *p;

	if (rfs_diff_new(c, c, &p))
		return;
	for (size_t i = 0; i < c->n_views; i++)
		CHECK(p->views[i].op == RFS_DIFF_SAME && !p->views[i].late &&
			      p->old_views[i] == RFS_DIFF_SAME,
		      "view %s against itself", c->views[i].name);
	for (size_t i = 0; i < c->n_regions; i++)
		CHECK(p->regions[i] == RFS_DIFF_SAME && p->old_regions[i] == RFS_DIFF_SAME,
		      "region against itself");
	for (size_t i = 0; i < c->n_dirs; i++)
		CHECK(p->dirs[i] == RFS_DIFF_SAME && p->old_dirs[i] == RFS_DIFF_SAME,
		      "dir against itself");
	rfs_diff_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfs_config old, next;
	struct rfs_diff *ab = NULL, *ba = NULL;
	char err[RFS_ERR_MAX], *text = malloc(size + 1), *sep;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	sep = strstr(text, "\n===\n");
	if (sep) {
		*sep = '\0';
		sep += 5;
	} else {
		sep = text + size; /* no second config: an empty one */
	}
	if (rfs_config_load_string(text, "old", &old, err, sizeof(err))) {
		free(text);
		return 0;
	}
	if (rfs_config_load_string(sep, "new", &next, err, sizeof(err))) {
		rfs_config_free(&old);
		free(text);
		return 0;
	}
	if (rfs_diff_new(&old, &next, &ab) == 0) {
		check_plan(&old, &next, ab);
		if (rfs_diff_new(&next, &old, &ba) == 0) {
			check_plan(&next, &old, ba);
			check_reverse(&old, &next, ab, ba);
		}
	}
	check_self(&old);
	check_self(&next);
	rfs_diff_free(ab);
	rfs_diff_free(ba);
	rfs_config_free(&old);
	rfs_config_free(&next);
	free(text);
	return 0;
}
