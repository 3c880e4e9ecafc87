/* The dir handlers (directories and names: mkdir, unlink, rename, link, readdir, ...). */
#ifndef REGIONFS_OPS_DIR_H
#define REGIONFS_OPS_DIR_H

#include "fs/fs.h"

void rfs_ops_dir(struct fuse_lowlevel_ops *ops);

#endif
