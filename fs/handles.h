/*
 * Open handles: what the kernel's fi->fh names. Each open of a file, a
 * directory or a control file takes a slot (lib/slots.h), in a memfd a
 * successor process can take over; the slot records what the open is (its
 * kind and node) beside this process's own object for it. A handle the
 * table does not hold, stale or made up, finds nothing: the request gets
 * EBADF, and no pointer is ever taken from the kernel.
 *
 * Thread-safe (the slots' own lock); an open's object is its owner's to
 * guard.
 */
#ifndef REGIONFS_HANDLES_H
#define REGIONFS_HANDLES_H

#include <stdint.h>

#include "fs/fs.h"

enum rfs_handle_kind {
	RFS_HANDLE_FILE = 1, /* a regular file's open: struct rfs_open (fs/holders.h) */
	RFS_HANDLE_DIR,	     /* a directory's: struct rfs_listing (lib/ns.h) */
	RFS_HANDLE_CONTROL,  /* a control file's (fs/control.c) */
};

/* The table for d, of at most this many opens at once: 0 or -errno. */
#define RFS_HANDLES_MAX (1U << 22)
int rfs_handles_new(struct rfs_daemon *d);
void rfs_handles_free(struct rfs_daemon *d);

/* Record an open of kind of node ino whose object is mine; its handle into
 * fi->fh. 0, or -ENFILE when the table is full (as a full file table). */
int rfs_handle_add(struct rfs_daemon *d, enum rfs_handle_kind kind, uint64_t ino, void *mine,
		   struct fuse_file_info *fi);
/* The object of fi's open, if fi->fh names a live open of that kind; NULL. */
void *rfs_handle_get(struct rfs_daemon *d, const struct fuse_file_info *fi,
		     enum rfs_handle_kind kind);
/* fi's open is over: its handle names nothing from now on. */
void rfs_handle_remove(struct rfs_daemon *d, const struct fuse_file_info *fi);

#endif
