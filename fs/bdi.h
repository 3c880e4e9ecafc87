/* Lift the kernel's FUSE writeback throttle and readahead cap, once: at the
 * first open, when the kernel has applied the INIT reply. */
#ifndef REGIONFS_BDI_H
#define REGIONFS_BDI_H

#include "fs/fs.h"

void rfs_bdi_tune(struct rfs_daemon *d);

#endif
