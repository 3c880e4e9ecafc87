/*
 * Numbers to pointers, for numbers handed out in order and never reused
 * (the namespace's node numbers): a two-level table, so that the number
 * of a node a request names is found with two loads and no lock.
 *
 * Concurrency: rfs_itable_set calls are serialized by the caller (the
 * namespace's lock, held exclusive). rfs_itable_get takes no lock: it is
 * exact for a number whose entry no set is changing meanwhile, which holds
 * for a number the caller keeps alive (the kernel's reference to a node);
 * a page of the table is freed only once it holds no entry, so no such
 * reader can be in it, and only below the highest page set, where ids are
 * handed out.
 */
#ifndef REGIONFS_ITABLE_H
#define REGIONFS_ITABLE_H

#include <stdint.h>

struct rfs_itable;

/* An empty table in *out: 0 or -ENOMEM. */
int rfs_itable_new(struct rfs_itable **out);
void rfs_itable_free(struct rfs_itable *t);

/* Map id to p, or clear it (p NULL): 0, -ENOMEM (a page could not be
 * made; nothing changed) or -EOVERFLOW (id past the table's 2^36). */
int rfs_itable_set(struct rfs_itable *t, uint64_t id, void *p);

/* What id maps to, or NULL; lock-free (see above). */
void *rfs_itable_get(const struct rfs_itable *t, uint64_t id);

#endif
