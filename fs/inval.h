/*
 * Kernel cache invalidation for bytes that changed behind an inode's back
 * (a write through an overlapping view) and for names the daemon adds or
 * removes by itself (control commands, reload). Notices are sent by one worker
 * thread, never by the request that caused them: a request that
 * invalidates another inode while a request on that inode waits for it
 * could deadlock on page locks. The writer waits a bounded time for its
 * notices, so readers of other views see new bytes as soon as write()
 * returns in all but that contended case.
 */
#ifndef REGIONFS_INVAL_H
#define REGIONFS_INVAL_H

#include <stdint.h>

#include "fs/fs.h"

struct rfs_inval;

/* How long a change waits for other inodes' caches to drop (a write through
 * a view, a region's write or truncate under its windows). */
#define RFS_INVAL_WAIT_MS 50

/*
 * The queue, made with the model, before the namespace is populated: until
 * rfs_inval_start and after rfs_inval_stop, notices are dropped (no kernel
 * caches the mount then), so callers never check whether it serves.
 */
struct rfs_inval *rfs_inval_new(void);
/*
 * Start the worker sending notices on se, once it is mounted; 0 or -errno.
 * The worker writes its thread id to *tid (if not NULL): the one thread of
 * the daemon that may wait in the kernel on a client, as an entry notice
 * takes the directory's lock, which a client's lookup holds while it waits
 * for the daemon's answer (fs/supervise.c).
 */
int rfs_inval_start(struct rfs_inval *q, struct fuse_session *se, _Atomic int32_t *tid);
/* Sends what is queued, then stops the worker (a no-op if it never started). */
void rfs_inval_stop(struct rfs_inval *q);
/* After rfs_inval_stop, or if it never started; NULL is a no-op. */
void rfs_inval_free(struct rfs_inval *q);

/* Queue a notice: the kernel's cache of ino for [off, off + len). */
void rfs_inval_post(struct rfs_inval *q, fuse_ino_t ino, uint64_t off, uint64_t len);

/* Queue a notice: the kernel's cached attributes of ino (size, times, ...). */
void rfs_inval_post_attr(struct rfs_inval *q, fuse_ino_t ino);

/* Queue a notice: the kernel's cached lookup of name in directory parent. */
void rfs_inval_post_entry(struct rfs_inval *q, fuse_ino_t parent, const char *name);

/* The same for a name the daemon removed from inode child (0: unknown). */
void rfs_inval_post_delete(struct rfs_inval *q, fuse_ino_t parent, fuse_ino_t child,
			   const char *name);

/* The daemon named or unnamed name in dir by itself: drop the kernel's
 * cached lookup. */
void rfs_inval_entry(struct rfs_daemon *d, struct rfs_node *dir, const char *name);

/* A ticket covering every notice posted so far. */
uint64_t rfs_inval_ticket(struct rfs_inval *q);

/* Wait until the notices up to ticket are sent, or timeout_ms passes. */
void rfs_inval_wait(struct rfs_inval *q, uint64_t ticket, int timeout_ms);

/* A request that began at ticket before: wait for the notices posted since
 * (those it caused, and maybe others'), as rfs_inval_wait. Returns the
 * ticket it waited for. */
uint64_t rfs_inval_settle(struct rfs_inval *q, uint64_t before, int timeout_ms);

/*
 * [off, off + len) of m is about to change: tell the other mappings of
 * those bytes (rfs_mapping_changing) and wait, RFS_INVAL_WAIT_MS at most,
 * for the kernel to write back and drop their cached pages. Returns the
 * ticket to settle on after the change.
 */
uint64_t rfs_inval_before_change(struct rfs_daemon *d, struct rfs_mapping *m, uint64_t off,
				 uint64_t len);

#endif
