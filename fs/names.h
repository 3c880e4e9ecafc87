/*
 * The words the control plane shows for lib/'s enums (stats, stats.json,
 * metrics, xattrs), and conf/'s declared values as lib/'s: each mapping
 * written once.
 */
#ifndef REGIONFS_NAMES_H
#define REGIONFS_NAMES_H

#include "conf/config.h"
#include "lib/mapping.h"
#include "lib/ns.h"

/* "region" or "view". */
const char *rfs_kind_name(enum rfs_kind kind);
/* "rw", "ro" or "cow"; a region is "rw". */
const char *rfs_access_name(const struct rfs_mapping_info *i);
/* "close" or "persist" (what a node has, or a directory gives). */
const char *rfs_lifetime_name(const struct rfs_node *node);

/* A region's seals as stats shows them: "shrink,grow,write,future_write"
 * (those it has, in that order, conf/'s words), or "-" for none. buf:
 * RFS_SEALS_TEXT bytes. */
#define RFS_SEALS_TEXT 40
const char *rfs_seals_text(unsigned int seals, char buf[RFS_SEALS_TEXT]);

/* A declaration's lifetime (unset: inherit from the directory). */
enum rfs_lifetime rfs_lifetime_of(enum rfs_life life);
/* A declaration's access mode. */
enum rfs_view_access rfs_view_access_of(enum rfs_access access);

#endif
