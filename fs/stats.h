/*
 * The contents of .regionfs/stats, stats.json and metrics, listing the
 * files who could find with ls and stat (rfs_ns_walk_as); who NULL: all.
 */
#ifndef REGIONFS_STATS_H
#define REGIONFS_STATS_H

#include "fs/fs.h"
#include "fs/text.h"

void rfs_stats_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);
void rfs_stats_json_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);
void rfs_metrics_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);

#endif
