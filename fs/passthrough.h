/*
 * FUSE passthrough (Linux 6.9+): opens of a region are answered with a
 * backing file, the region's store file, and the kernel then serves read,
 * write, splice and mmap of that open from it without asking the daemon.
 *
 * Debian's libfuse 3.14 predates the protocol, so this file holds all of
 * its knowledge: the INIT flag and max_stack_depth, the open reply's
 * FOPEN_PASSTHROUGH and backing id (rewritten on the wire, fs/wire.c), and
 * the /dev/fuse ioctls that register backing files. A build against
 * libfuse 3.17+ would put fuse_passthrough_open() and fi->backing_id behind
 * the same functions.
 *
 * The kernel lets an inode have one backing file at a time, and refuses
 * passthrough and cached opens of one inode at once; so a region has one
 * backing id while it has opens (registered at the first, closed after the
 * last release), and once passthrough is on every region open uses it.
 *
 * Locking: a mutex guards the table of registered ids; it is never held
 * while replying.
 */
#ifndef REGIONFS_PASSTHROUGH_H
#define REGIONFS_PASSTHROUGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "fs/fs.h"

struct rfs_passthrough;

/* A table for the session whose /dev/fuse is fd. NULL if out of memory. */
struct rfs_passthrough *rfs_passthrough_new(int fd);
void rfs_passthrough_free(struct rfs_passthrough *p);

/* INIT, on the wire: did the request offer passthrough? Take it in the reply. */
bool rfs_passthrough_offered(const void *init_in, size_t len);
void rfs_passthrough_accept(void *init_out, size_t len);

/* Does this process have what BACKING_OPEN needs (CAP_SYS_ADMIN)? */
bool rfs_passthrough_permitted(void);

/*
 * An open of the region m: its backing id, registered now if m has no
 * other open (-errno if it cannot be). Every successful call is matched by
 * one rfs_passthrough_release.
 */
int rfs_passthrough_open(struct rfs_passthrough *p, struct rfs_mapping *m);
void rfs_passthrough_release(struct rfs_passthrough *p, struct rfs_mapping *m);
/* A predecessor's open of m on backing id, which the kernel still holds
 * (fs/restart.c): counted as rfs_passthrough_open counts. 0 or -errno. */
int rfs_passthrough_adopt(struct rfs_passthrough *p, struct rfs_mapping *m, int id);

/* fuse_reply_open / fuse_reply_create for a passthrough open on backing id. */
int rfs_passthrough_reply_open(fuse_req_t req, const struct fuse_file_info *fi, int id);
int rfs_passthrough_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
				 const struct fuse_file_info *fi, int id);

/* The wire's hook for every reply this thread sends: add the backing id. */
void rfs_passthrough_rewrite(struct iovec *iov, int count);

/*
 * At INIT: will the kernel serve region opens (offered: the kernel offers
 * passthrough)? Sets d->passthrough and d->data_path and logs it, once.
 */
void rfs_data_path_decide(struct rfs_daemon *d, bool offered);

#endif
