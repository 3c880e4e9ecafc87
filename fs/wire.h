/*
 * What passes on /dev/fuse: regionfs sits under libfuse as its custom I/O
 * (fuse_session_custom_io) to speak the parts of the protocol libfuse 3.14
 * predates: it takes the kernel's offers of FUSE passthrough
 * (fs/passthrough.c) and FUSE over io_uring (fs/uring.c) in the INIT reply,
 * adds backing ids to passthrough open replies, hands replies of ring
 * requests to their ring, and is the one place where an errno the client
 * would misread is translated (EMFILE, the daemon's own limit, is ENFILE).
 */
#ifndef REGIONFS_WIRE_H
#define REGIONFS_WIRE_H

struct rfs_daemon;

/*
 * Install the layer under d's session, which must be mounted and not yet
 * serving. d->pt and d->uring, when set, take part. 0 or -errno.
 */
int rfs_wire_attach(struct rfs_daemon *d);

/* Free the layer's state once the session is gone. */
void rfs_wire_detach(struct rfs_daemon *d);

#endif
