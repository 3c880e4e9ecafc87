/* Budgets in the stats files (fs/stats.c): rows, JSON and gauges. */
#ifndef REGIONFS_STATS_BUDGETS_H
#define REGIONFS_STATS_BUDGETS_H

#include "fs/fs.h"
#include "fs/text.h"

/* A directory's budget: its size and the bytes charged to it, or false.
 * ns->lock held (in a walk). */
bool rfs_budget_of(struct rfs_node *dir, struct rfs_store_usage *u);
/* stats: a row "user:NAME user SIZE - - - - - USED - - - - -" (or group)
 * for each budget by owner that who may see (root: all; others their own). */
void rfs_stats_owner_lines(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);
/* stats.json: the elements of "owners". */
void rfs_json_owners(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);
/* metrics: regionfs_budget_bytes, regionfs_budget_used_bytes (directories)
 * and regionfs_owner_budget_bytes, regionfs_owner_budget_used_bytes. */
void rfs_metrics_budgets(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);

#endif
