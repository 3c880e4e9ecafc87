/*
 * SIGBUS containment for copies to and from mapped memory.
 *
 * A mapping can fault where the kernel cannot supply a page: the backing
 * file was truncated under a view, the disk behind it returned an I/O error
 * or ran out of space, or shared memory could not be allocated. Such a
 * fault arrives as SIGBUS on the thread that touched the page. A guarded
 * copy turns it into an error for that one request; faults outside the
 * guarded range keep their default action, so real bugs still crash.
 */
#ifndef REGIONFS_GUARD_H
#define REGIONFS_GUARD_H

#include <stddef.h>

/* Install the process-wide SIGBUS handler. Idempotent; 0 or -errno. */
int rfs_guard_init(void);

/*
 * memcpy(dst, src, n), where the range [lo, lo + span) is the mapped memory
 * that may fault. Returns 0, or -EIO if a page in that range faulted (the
 * copy is then partial).
 */
int rfs_guarded_copy(void *dst, const void *src, size_t n, const void *lo, size_t span);

#endif
