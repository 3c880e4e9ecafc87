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

struct rfs_daemon;
struct rfs_uring;

/*
 * Put the io_uring transport under d's session, which must be mounted and
 * not yet serving: libfuse's reads and writes of /dev/fuse then pass
 * through here, and the rings start when the kernel takes the offer in
 * INIT. Sets d->uring; 0 or -errno.
 */
int rfs_uring_attach(struct rfs_daemon *d);

/* Requests served through the rings so far. */
uint64_t rfs_uring_requests(const struct rfs_uring *u);

/* Stop and join the workers (after unmount) and free u. NULL is fine. */
void rfs_uring_stop(struct rfs_uring *u);

#endif
