/*
 * What a reload changes: given the config in force and the one just read,
 * which views, regions and directories are added, changed, removed or the
 * same. Pure: it compares two descriptions and knows nothing of mappings,
 * the namespace or FUSE (fs/reload.c applies the plan). Declarations are
 * matched by name.
 */
#ifndef REGIONFS_DIFF_H
#define REGIONFS_DIFF_H

#include <stdbool.h>

#include "conf/config.h"

enum rfs_diff_op {
	RFS_DIFF_SAME,	  /* declared in both, identically */
	RFS_DIFF_CHANGED, /* declared in both, differently */
	RFS_DIFF_ADDED,	  /* declared in the new config only */
	RFS_DIFF_REMOVED, /* declared in the old config only */
};

/* One view of the new config. */
struct rfs_diff_view {
	enum rfs_diff_op op; /* SAME, CHANGED or ADDED */
	/* A new or changed window of a region the new config adds: it can only
	 * be made after that region. */
	bool late;
	/* late, and the window lies past the end of the region as declared. */
	bool past_end;
};

struct rfs_diff {
	/* By index into the new config's declarations: SAME, CHANGED or ADDED. */
	struct rfs_diff_view *views;
	enum rfs_diff_op *regions, *dirs;
	/* By index into the old config's: SAME, CHANGED or REMOVED. */
	enum rfs_diff_op *old_views, *old_regions, *old_dirs;
};

/* The plan from old to next, both valid configs; 0 or -ENOMEM. */
int rfs_diff_new(const struct rfs_config *old, const struct rfs_config *next,
		 struct rfs_diff **out);
void rfs_diff_free(struct rfs_diff *diff);

/* Are two declarations of one name the same declaration? */
bool rfs_view_decl_same(const struct rfs_view_decl *a, const struct rfs_view_decl *b);
bool rfs_region_decl_same(const struct rfs_region_decl *a, const struct rfs_region_decl *b);
bool rfs_dir_decl_same(const struct rfs_dir_decl *a, const struct rfs_dir_decl *b);
/* The same budgets by owner (user_size, group_size, [user:], [group:] in order)? */
bool rfs_owner_budgets_same(const struct rfs_config *a, const struct rfs_config *b);

#endif
