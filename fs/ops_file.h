/* The file handlers (open files: open, read, write, flush, release, fsync, fallocate, lseek). */
#ifndef REGIONFS_OPS_FILE_H
#define REGIONFS_OPS_FILE_H

#include "fs/fs.h"

void rfs_ops_file(struct fuse_lowlevel_ops *ops);

struct rfs_handle;
/* A successor's object for a predecessor's open h of a regular file
 * (fs/restart.c): what the open took, taken again; NULL if it cannot be. */
void *rfs_file_adopt(struct rfs_daemon *d, const struct rfs_handle *h);
/* Let go of the open fh, whose reply never reached the kernel (the request
 * that made it is being resent). */
void rfs_file_forsake(struct rfs_daemon *d, uint64_t fh);

#endif
