/*
 * Requests the kernel resends to a serving process after the first
 * (-o restart): requests the dead process had read, maybe served, but
 * whose reply never reached the kernel. A change the journal holds was
 * made; doing it again would fail (mkdir: EEXIST) or do it twice. So:
 *
 *   mkdir, mknod, symlink, link   made: answered as a lookup of the name
 *   create                        made: opens the file (O_EXCL dropped)
 *   unlink, rmdir, rename,        made: answered 0 here
 *   setxattr, removexattr
 *   open, opendir, create         an open the dead process recorded for it
 *                                 is let go once the request is answered
 *
 * Everything else runs as it comes: reads, writes and setattr do the same
 * again.
 */
#ifndef REGIONFS_RESEND_H
#define REGIONFS_RESEND_H

#include <stdbool.h>
#include <sys/types.h>

#include "fs/fs.h"

/* A resent request, *n bytes in buf, read from fd: true if it was answered
 * here; else it is to be served as it now is (maybe rewritten, *n its new
 * length). */
bool rfs_resent(struct rfs_daemon *d, int fd, void *buf, ssize_t *n);
/* This thread answered the request unique: let go of what its resend
 * replaces. */
void rfs_resent_replied(struct rfs_daemon *d, uint64_t unique);

#endif
