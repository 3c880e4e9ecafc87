/* The inode handlers (lookup, forget, attributes, statfs, readlink). */
#ifndef REGIONFS_OPS_INODE_H
#define REGIONFS_OPS_INODE_H

#include "fs/fs.h"

/* Fill a fuse_entry_param for a referenced node. */
void rfs_fill_entry(struct rfs_daemon *d, struct rfs_node *node, struct fuse_entry_param *e);
/* The attribute cache timeout for node's replies: 0 while a writer the kernel
 * serves holds it (its mapped stores are unseen), else the mount's. */
double rfs_attr_timeout(struct rfs_daemon *d, struct rfs_node *node);

/* The caller's identity, as lib/ wants it. */
struct rfs_cred rfs_req_cred(fuse_req_t req);

void rfs_ops_inode(struct fuse_lowlevel_ops *ops);

#endif
