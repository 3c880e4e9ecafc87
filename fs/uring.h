/*
 * FUSE over io_uring under libfuse (-o io_uring): see fs/uring.c.
 *
 * Threads: WORKERS_PER_CPU ring workers per CPU queue, started from the writev hook
 * once the INIT reply went out, stopped by rfs_uring_stop. Each worker owns
 * its ring and its one request entry; nothing in here is shared between
 * workers but the counters and the stop flag (atomics).
 */
#ifndef REGIONFS_URING_H
#define REGIONFS_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct fuse_init_in;
struct fuse_init_out;
struct fuse_session;

struct rfs_daemon;
struct rfs_uring;

/* A transport for d's session, idle until rfs_uring_start. NULL if out of memory. */
struct rfs_uring *rfs_uring_new(struct rfs_daemon *d);

/* INIT, on the wire (fs/wire.c): did the kernel offer it? Take it in the reply. */
bool rfs_uring_offered(const struct fuse_init_in *in);
void rfs_uring_accept(struct fuse_init_out *out);
/* The kernel has applied the INIT reply: register the rings and serve. */
void rfs_uring_start(struct rfs_uring *u, size_t max_write);

/*
 * A reply libfuse writes: if this thread is serving a ring entry, it goes
 * into the entry (committed with the next fetch) and *ret is writev's
 * result. false: not a ring request's reply.
 */
bool rfs_uring_capture(struct iovec *iov, int count, ssize_t *ret);

/*
 * If this thread is serving a ring entry: the entry's payload buffer (its
 * size in *cap), where a read can put its bytes; a reply that points there
 * is committed without a copy. NULL otherwise.
 */
void *rfs_uring_reply_space(size_t *cap);

/* Requests served through the rings so far. */
uint64_t rfs_uring_requests(const struct rfs_uring *u);

/* Stop and join the workers (after unmount) and free u. NULL is fine. */
void rfs_uring_stop(struct rfs_uring *u);

#endif
