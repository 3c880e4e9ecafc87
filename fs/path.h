/* Names from the root (config sections, control commands) to nodes. */
#ifndef REGIONFS_PATH_H
#define REGIONFS_PATH_H

#include "fs/fs.h"

/*
 * Walk path's directories from the root, making missing ones if create;
 * returns the parent referenced and its last component in *leaf (pointing
 * into path, which is modified).
 */
int rfs_walk_parents(struct rfs_daemon *d, char *path, bool create, struct rfs_node **parent,
		     char **leaf);
/* The node called name (a path from the root), referenced; -errno. */
int rfs_lookup_path(struct rfs_daemon *d, const char *name, struct rfs_node **node);

/*
 * Create what at name (a path from the root; missing directories are
 * made), telling the kernel's cache; or, if existing_ok, take the node
 * already there; with what NULL, only look it up (rfs_lookup_path).
 * The node referenced in *node; -errno.
 */
int rfs_path_create(struct rfs_daemon *d, const char *name, const struct rfs_new *what,
		    bool existing_ok, struct rfs_node **node);

#endif
