/*
 * The private window of a copy-on-write view: the window mapped
 * MAP_PRIVATE from the backing file, the set of its pages that hold
 * private copies (every write reaches the daemon: write() requests and the
 * kernel's writeback of client mmap stores, so the set is complete), and
 * their charge to the mount's cap, which the region store keeps
 * (rfs_store_reserve: regions then have that much less room).
 *
 * A page is charged when a write first makes it private and given back
 * when commit or discard drops the copy (or the view goes). Commit writes
 * the private bytes to the file with pwrite and then drops the copies;
 * discard only drops them: MADV_DONTNEED on a private file mapping throws
 * the copies away, and the next touch maps the file's page again.
 *
 * Locking: lock is a writer-preferring rwlock. Reads (from read_begin to
 * read_end, across the reply) and writes hold it shared; commit and
 * discard hold it exclusive, so no write lands in a page while it is
 * written back or dropped, and no reply is built from a page half dropped.
 * set_lock guards pages; writers take it under lock shared.
 */
#ifndef REGIONFS_COW_H
#define REGIONFS_COW_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/store.h"

struct rfs_cow;

/*
 * Map view bytes [offset, offset + length) of fd (borrowed: it must outlive
 * the window) private, charging private pages to store's cap. 0 or -errno.
 */
int rfs_cow_new(int fd, uint64_t offset, uint64_t length, struct rfs_store *store,
		struct rfs_cow **out);
/* Unmap the window and give its charge back. */
void rfs_cow_free(struct rfs_cow *c);

/* The address of view byte off, held for reading until rfs_cow_read_end. */
char *rfs_cow_read_begin(struct rfs_cow *c, uint64_t off);
void rfs_cow_read_end(struct rfs_cow *c);

/*
 * Copy len bytes of buf to view offset off (inside the window), charging
 * each page made private. Returns the bytes copied: short when the cap is
 * reached part way; -ENOSPC if not one byte fits, -EIO if the file's page
 * faulted (truncated under the view, an I/O error).
 */
ssize_t rfs_cow_write(struct rfs_cow *c, const void *buf, size_t len, uint64_t off);

/*
 * Write the private bytes (those inside the window) to the file, make them
 * durable (fdatasync), then drop the copies and their charge. On failure
 * nothing is dropped: the view still shows its private bytes and a later
 * commit tries again. [*lo, *hi): the view range whose file bytes changed
 * (empty if nothing was private).
 */
int rfs_cow_commit(struct rfs_cow *c, uint64_t *lo, uint64_t *hi);

/* Drop the private copies and their charge: the window shows the file. */
int rfs_cow_discard(struct rfs_cow *c);

/* Bytes of private copies now (whole pages: what is charged). */
uint64_t rfs_cow_private(struct rfs_cow *c);

#endif
