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

/* What a slot keeps of an open: enough for a successor to serve it on. */
struct rfs_handle {
	uint64_t ino;
	uint64_t unique; /* the request that made it (its resend finds it) */
	uint32_t kind;	 /* enum rfs_handle_kind */
	/* A file's (as struct rfs_open): its opener, access and data path. */
	int32_t tid;
	uint32_t uid;
	int32_t accmode;
	int32_t backing; /* the passthrough backing id of a kernel-served open; else -1 */
	uint32_t kernel;
};

/* The table for d, of at most this many opens at once: 0 or -errno. */
#define RFS_HANDLES_MAX (1U << 22)
int rfs_handles_new(struct rfs_daemon *d);
/* The table a live upgrade handed on as fd (fs/upgrade.h). */
int rfs_handles_open(struct rfs_daemon *d, int fd);
void rfs_handles_free(struct rfs_daemon *d);

/* Record the open h (its unique: the request this thread serves) whose
 * object is mine; its handle into fi->fh. 0, or -ENFILE when the table is
 * full (as a full file table). */
int rfs_handle_add(struct rfs_daemon *d, const struct rfs_handle *h, void *mine,
		   struct fuse_file_info *fi);
/* The same for an open of a directory or control file. */
int rfs_handle_add_kind(struct rfs_daemon *d, enum rfs_handle_kind kind, uint64_t ino, void *mine,
			struct fuse_file_info *fi);
/* The object of fi's open, if fi->fh names a live open of that kind; NULL. */
void *rfs_handle_get(struct rfs_daemon *d, const struct fuse_file_info *fi,
		     enum rfs_handle_kind kind);
/* fi's open is over: its handle names nothing from now on. */
void rfs_handle_remove(struct rfs_daemon *d, const struct fuse_file_info *fi);

/*
 * A successor's start (fs/restart.c): find the predecessor's live opens
 * again; for each, fn makes this process's object of it (NULL: it cannot,
 * and the open is dropped: its requests get EBADF).
 */
typedef void *(*rfs_handle_fn)(struct rfs_daemon *d, uint64_t fh, const struct rfs_handle *h);
int rfs_handles_adopt(struct rfs_daemon *d, rfs_handle_fn fn);
/* The live open the request unique made (a resend of it), or 0. */
uint64_t rfs_handle_made_by(struct rfs_daemon *d, uint64_t unique);

#endif
