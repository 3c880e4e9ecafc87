/*
 * What passes on /dev/fuse: regionfs sits under libfuse as its custom I/O
 * (fuse_session_custom_io) to speak the parts of the protocol libfuse 3.14
 * predates: it takes the kernel's offers of FUSE passthrough
 * (fs/passthrough.c) and FUSE over io_uring (fs/uring.c) in the INIT reply,
 * adds backing ids to passthrough open replies, hands replies of ring
 * requests to their ring, negotiates FUSE_HANDLE_KILLPRIV_V2 (and acts on
 * the flags that come with it) and FUSE_ALLOW_IDMAP, serves FUSE_TMPFILE and FUSE_STATX through
 * requests libfuse knows, and is the one place where an errno the client
 * would misread is translated (EMFILE, the daemon's own limit, is ENFILE).
 */
#ifndef REGIONFS_WIRE_H
#define REGIONFS_WIRE_H

#include <sys/uio.h>
#include <stddef.h>

struct rfs_daemon;

/*
 * Install the layer under d's session, which must be mounted and not yet
 * serving. d->pt and d->uring, when set, take part. 0 or -errno.
 */
int rfs_wire_attach(struct rfs_daemon *d);

/*
 * A request as the kernel sent it (len bytes), before libfuse decodes it:
 * what it asks that libfuse 3.14 would not pass on is done here (a write,
 * truncating open or setattr by a caller without CAP_FSETID drops the
 * file's set-user-ID, set-group-ID and security.capability), and an
 * O_TMPFILE open becomes the create that libfuse can decode (ops_file.c),
 * and a STATX a GETATTR whose reply gets the birth time.
 * The rings (fs/uring.c) call it too.
 */
void rfs_wire_inspect(struct rfs_daemon *d, void *req, size_t len);

/* A serving process after the first (-o restart): before reading any
 * request, hand libfuse the kernel's INIT again and have the kernel resend
 * what the dead process had read (see fs/restart.h). */
void rfs_wire_handover(struct rfs_daemon *d);
/*
 * Under -o restart, make the pages a reply will be copied from (count
 * segments of iov) present in this process's page tables before the reply
 * is written, so the kernel's copy takes its fast path. See wire.c.
 */
void rfs_wire_prefault(struct rfs_daemon *d, const struct iovec *iov, int count);

/* Free the layer's state once the session is gone. */
void rfs_wire_detach(struct rfs_daemon *d);

#endif
