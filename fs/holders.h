/*
 * Who holds each file open. Every open of a region or view is recorded from
 * its reply to its release, with its opener: the thread the kernel named in
 * the request, its uid and access mode, and who serves it. A file stays
 * held until the last descriptor and mapping of that open are gone (then
 * the kernel sends the release), so a process that mapped a region and
 * closed its descriptor still holds it.
 *
 * .regionfs/holders lists them by name, as fuser would: pid (the opener's
 * process), command, uid, access, served. The opener is who asked: a child
 * that inherited the descriptor, or a process it was passed to, is listed
 * under the opener, shown as "(exited)" once the opener is gone.
 *
 * Thread-safe: one mutex guards the table, taken alone or inside a
 * namespace walk (ns lock, then this one); nothing else runs under it.
 */
#ifndef REGIONFS_HOLDERS_H
#define REGIONFS_HOLDERS_H

#include <stdbool.h>
#include <sys/types.h>

#include "fs/fs.h"
#include "fs/text.h"

struct rfs_holders;

/* One open file description of a regular file: what fi->fh points to. */
struct rfs_open {
	struct rfs_open *prev, *next; /* the other opens of node */
	struct rfs_node *node;
	pid_t tid; /* of the opener, as the kernel gave it */
	uid_t uid;
	int accmode; /* O_RDONLY, O_WRONLY or O_RDWR */
	bool kernel; /* served by the kernel (passthrough), not the daemon */
};

int rfs_holders_new(struct rfs_holders **out);
/* Frees the records of opens never released too (the session ended with
 * files open). NULL is a no-op. */
void rfs_holders_free(struct rfs_holders *h);

/*
 * Record an open like (node, tid, uid, accmode, kernel) in a new record
 * owned by h, in *out. 0; -ENOMEM; -EPERM for a writable open of a region
 * sealed write or future_write; -EAGAIN for a writable open served by the
 * kernel of a region sealed grow, which the daemon must serve instead (the
 * kernel would let a write grow it).
 */
int rfs_holders_add(struct rfs_holders *h, const struct rfs_open *like, struct rfs_open **out);

/*
 * Seal node's region (RFS_SEAL_* bits) unless an open that could break the
 * seals holds it: a writable one for write, a writable one the kernel
 * serves for future_write and grow (the daemon never sees its writes).
 * Checked and set under the table's lock, so no such open can slip in
 * between. 0, -EBUSY with the writable opens in *writers, or -EINVAL.
 */
int rfs_holders_seal(struct rfs_holders *h, struct rfs_node *node, unsigned int seals,
		     unsigned int *writers);
/* The open of o was released: forget and free it. */
void rfs_holders_remove(struct rfs_holders *h, struct rfs_open *o);
/* Does a writer the kernel serves hold node open? Its mapped stores change
 * the store file unseen, so the kernel must not cache node's attributes. */
bool rfs_holders_kernel_writer(struct rfs_holders *h, struct rfs_node *node);

/* The holders file: a header, then one line per open of every file who
 * could find with ls and stat (rfs_ns_walk_as); who NULL: all. */
void rfs_holders_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t);

#endif
