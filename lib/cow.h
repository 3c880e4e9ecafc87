/*
 * The private window of a copy-on-write view.
 *
 * Its private pages live in a shadow file of the region store (a sparse
 * file of the store's tmpfs, or a memfd), the size of the window rounded
 * to pages: a page of the window is private iff it is allocated there. So
 * they outlive the serving process (-o restart): a successor adopts the
 * file by its number (recorded in the view's J_CREATE) or, for a view made
 * before the supervisor's image, finds it already mapped, and rebuilds the
 * index of private pages with SEEK_DATA. The shadow file is mapped shared
 * read-write; the backing file's window is mapped shared read-only and
 * never written through, so unmodified pages show the file's current bytes.
 *
 * A write into a page not yet private allocates the page first
 * (fallocate, or pwrite of the file's page into it): a full store says
 * ENOSPC there, never as SIGBUS on a fault into a hole. The kernel counts
 * the pages against the cap in the store's tmpfs; a memfd store is checked
 * and charged by the daemon, as for regions. (A tmpfs of huge pages,
 * huge=always or within_size, allocates a private page as part of a huge
 * one, which SEEK_DATA then reports whole: there a rescan cannot tell the
 * private pages, and the driver keeps no restart protection.) Commit writes the private
 * bytes to the file with pwrite, makes them durable, then punches them out
 * of the shadow file; discard only punches. A kill between the two leaves
 * the pages private, equal to what was written: a repeated commit is
 * harmless.
 *
 * Locking: lock is a writer-preferring rwlock. Reads (from read_begin to
 * read_end, across the reply) and writes hold it shared; commit, discard
 * and a rescan of the shadow file hold it exclusive, so no write lands in a
 * page while it is written back or punched, and no reply is built from a
 * page half punched. set_lock guards pages (and their charge); writers
 * take it under lock shared to make pages private, readers to find the
 * runs of a range.
 */
#ifndef REGIONFS_COW_H
#define REGIONFS_COW_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/mapping.h"
#include "lib/store.h"

struct rfs_cow;

/*
 * View bytes [offset, offset + length) of fd (borrowed: it must outlive the
 * window) copy-on-write, its private pages in a file of store: shadow's, a
 * file an earlier process left (a restart), or a new one (shadow 0; a live
 * upgrade's store may hand back the earlier program's, kept). 0 or -errno.
 */
int rfs_cow_new(int fd, uint64_t offset, uint64_t length, struct rfs_store *store, uint64_t shadow,
		struct rfs_cow **out);
/* Punch and remove the shadow file, unmap the window. */
void rfs_cow_free(struct rfs_cow *c);

/* The shadow file's number in the store: what a restart adopts. */
uint64_t rfs_cow_file(const struct rfs_cow *c);

/*
 * View bytes [off, off + len) (inside the window) in io, held for reading
 * until rfs_cow_read_end: each run from the file's window or from the
 * shadow file; more runs than io has room for are gathered into a bounce
 * buffer. -EIO if the file's page faulted while gathering, -ENOMEM.
 */
int rfs_cow_read_begin(struct rfs_cow *c, uint64_t off, size_t len, struct rfs_io *io);
void rfs_cow_read_end(struct rfs_cow *c, struct rfs_io *io);

/*
 * Copy len bytes of buf to view offset off (inside the window), making
 * each page private. Returns the bytes copied: short when the cap is
 * reached part way; -ENOSPC if not one byte fits, -EIO if the file's page
 * faulted (truncated under the view, an I/O error).
 */
ssize_t rfs_cow_write(struct rfs_cow *c, const void *buf, size_t len, uint64_t off);

/*
 * Write the private bytes (those inside the window) to the file, make them
 * durable (fdatasync), then drop them. On failure nothing is dropped: the
 * view still shows its private bytes and a later commit tries again.
 * [*lo, *hi): the view range whose file bytes changed (empty if nothing
 * was private).
 */
int rfs_cow_commit(struct rfs_cow *c, uint64_t *lo, uint64_t *hi);

/* Drop the private pages: the window shows the file. */
int rfs_cow_discard(struct rfs_cow *c);

/* Bytes of private pages now (whole pages: what the cap counts). */
uint64_t rfs_cow_private(struct rfs_cow *c);

#endif
