/* The xattr handlers (the read-only user.regionfs.* attributes). */
#ifndef REGIONFS_OPS_XATTR_H
#define REGIONFS_OPS_XATTR_H

#include "fs/fs.h"

void rfs_ops_xattr(struct fuse_lowlevel_ops *ops);

#endif
