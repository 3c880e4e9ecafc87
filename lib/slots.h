/*
 * Slots: fixed-size records in a memfd that outlives the process, each
 * named by a 64-bit handle (the file handles the kernel keeps for opens,
 * fi->fh). A handle is the slot's index and its generation: a handle whose
 * slot was freed, or that some other process made up, names nothing, so a
 * request carrying it is answered with an error, never with a wild pointer.
 * A process that takes over the memfd finds every live record again
 * (rfs_slots_each) and hands out the same handles.
 *
 * Beside each record the process keeps a pointer of its own (what it made
 * of the record), which a successor does not inherit.
 *
 * Crash safety: a record is written, then published by a release store of
 * its slot's state; a slot is freed by one store. A process killed at any
 * instruction leaves each slot either live with its whole record or free.
 *
 * Thread-safe: rfs_slots_add and rfs_slots_remove take the table's mutex;
 * rfs_slots_get takes none (it is exact for a handle no remove races with,
 * which holds for a handle the kernel still uses).
 */
#ifndef REGIONFS_SLOTS_H
#define REGIONFS_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#define RFS_SLOTS_VERSION 1

struct rfs_slots;

/* A table of capacity slots of size bytes each, in a new memfd. */
int rfs_slots_new(size_t size, uint64_t capacity, struct rfs_slots **out);
/* The table in memfd fd (dup'ed): -EPROTO if it holds none, or slots of
 * another size or version. */
int rfs_slots_open(int fd, size_t size, struct rfs_slots **out);
void rfs_slots_free(struct rfs_slots *s);
/* Find the live slots again from the memfd, this process's pointers all
 * NULL: a process forked from one that made the table before another used
 * it (whose private state is the parent's, older). 0. */
int rfs_slots_rescan(struct rfs_slots *s);
int rfs_slots_fd(const struct rfs_slots *s);

/* A new live slot holding a copy of rec and the pointer mine: its handle
 * in *handle (never 0). -ENOSPC when every slot is live, -ENOMEM. */
int rfs_slots_add(struct rfs_slots *s, const void *rec, void *mine, uint64_t *handle);
/* The record handle names (writable: the caller serializes its own
 * changes to it) and this process's pointer, or NULL if it names no live
 * slot. */
void *rfs_slots_get(struct rfs_slots *s, uint64_t handle, void **mine);
/* Set this process's pointer of a live slot (a successor's, rebuilt). */
void rfs_slots_set_mine(struct rfs_slots *s, uint64_t handle, void *mine);
/* Free the slot: 0, or -ENOENT if handle names no live slot. */
int rfs_slots_remove(struct rfs_slots *s, uint64_t handle);
/* How many are live. */
uint64_t rfs_slots_live(struct rfs_slots *s);

/* Call fn for each live slot, in index order; fn returns non-zero to stop. */
typedef int (*rfs_slots_fn)(void *ctx, uint64_t handle, void *rec);
int rfs_slots_each(struct rfs_slots *s, rfs_slots_fn fn, void *ctx);

#endif
