/*
 * The release path. An open file description of node went (release, or an open whose reply
 * failed): counts it, and removes a close region's name with its last user.
 * node stays valid for the caller: the kernel keeps its lookup reference
 * until the release is answered.
 */
#ifndef REGIONFS_LIFETIME_H
#define REGIONFS_LIFETIME_H

#include "fs/fs.h"

void rfs_file_closed(struct rfs_daemon *d, struct rfs_node *node);

#endif
