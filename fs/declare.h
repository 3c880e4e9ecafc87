/*
 * Declarations into the namespace: regions, directories and views as the
 * config or a control command declares them, their error text, and the
 * mount-time population from the whole config.
 */
#ifndef REGIONFS_DECLARE_H
#define REGIONFS_DECLARE_H

#include "fs/fs.h"

/* Build the regions and views of the config into the namespace. */
int rfs_populate(struct rfs_daemon *d, char *err, size_t errlen);
/* Add one declared view; fd: its file opened by the caller (taken over) or -1. */
int rfs_add_view(struct rfs_daemon *d, const struct rfs_view_decl *v, int fd);
/* The two halves of rfs_add_view: make the mapping, then name it. shadow:
 * the store file a cow view's private pages were left in (a restart's
 * replay adopts it), or 0. */
struct rfs_mapping *rfs_view_open(struct rfs_daemon *d, const struct rfs_view_decl *v, int fd,
				  uint64_t shadow, int *err);
int rfs_add_view_mapping(struct rfs_daemon *d, const struct rfs_view_decl *v,
			 struct rfs_mapping *map);
/* The declaration a view's recipe (fs/declare.c) records: its strings point
 * into recipe. 0 or -EPROTO. */
int rfs_view_from_recipe(const void *recipe, size_t len, struct rfs_view_decl *v);
/* Describe a failed view as "FILE:LINE: view 'x': why" (no prefix if file is NULL). */
void rfs_view_error(const struct rfs_view_decl *v, const char *file, int e, char *err,
		    size_t errlen);

/* Budgets by owner from cfg (user_size, group_size, [user:], [group:]):
 * the ledger made if needed, its limits set, every region counted anew. */
int rfs_set_owner_budgets(struct rfs_daemon *d, const struct rfs_config *cfg);
/* Add one declared region; -errno. */
int rfs_add_region(struct rfs_daemon *d, const struct rfs_region_decl *r);
/* Make or update one declared directory (its budget first); -errno. */
int rfs_add_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd);
/* Describe a failed rfs_add_dir as "dir 'x': why". */
void rfs_dir_error(const struct rfs_dir_decl *dd, int e, char *err, size_t errlen);
/* Take name (a region or view) out of the namespace; open files keep it.
 * -errno with why in err. */
int rfs_remove_name(struct rfs_daemon *d, const char *name, char *err, size_t errlen);
/*
 * Add seals (RFS_SEAL_*) to the region called name, unless an open or a
 * window that could break them holds it (holders.h). -errno with why in err:
 * -EBUSY, -ENOENT, -EINVAL (not a region).
 */
int rfs_seal_region(struct rfs_daemon *d, const char *name, unsigned int seals, char *err,
		    size_t errlen);
/* A [dir:] section went from the config: its directory's default back to
 * persist, and its budget gone if nothing keeps bytes in it. */
void rfs_drop_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd);
/* Take dir's budget away, or log why it stays. */
void rfs_drop_budget(struct rfs_daemon *d, struct rfs_node *dir, const char *name);

#endif
