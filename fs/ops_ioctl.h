/* The ioctl handler: chattr's inode flags (FS_IOC_GETFLAGS and friends). */
#ifndef REGIONFS_OPS_IOCTL_H
#define REGIONFS_OPS_IOCTL_H

#include "fs/fs.h"

void rfs_ops_ioctl(struct fuse_lowlevel_ops *ops);

#endif
