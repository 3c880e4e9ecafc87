/* The file handlers (open files: open, read, write, flush, release, fsync, fallocate, lseek). */
#ifndef REGIONFS_OPS_FILE_H
#define REGIONFS_OPS_FILE_H

#include "fs/fs.h"

void rfs_ops_file(struct fuse_lowlevel_ops *ops);

#endif
