/*
 * Counts: a counter for each number (the references the kernel holds on
 * each node number), in a sparse memfd that outlives the process, so that
 * a successor knows them (rfs_counts_each). Only the pages of numbers that
 * were counted take memory.
 *
 * Thread-safe and lock-free: each counter is an atomic.
 */
#ifndef REGIONFS_COUNTS_H
#define REGIONFS_COUNTS_H

#include <stdint.h>

struct rfs_counts;

/* Counters for the numbers below limit, all 0, in a new memfd. */
int rfs_counts_new(uint64_t limit, struct rfs_counts **out);
/* The counters in memfd fd (dup'ed): -EPROTO if it holds none. */
int rfs_counts_open(int fd, struct rfs_counts **out);
void rfs_counts_free(struct rfs_counts *c);
int rfs_counts_fd(const struct rfs_counts *c);

/* Add delta to n's counter (which never goes below 0): false if n is past
 * the limit, and then nothing is counted. */
_Bool rfs_counts_add(struct rfs_counts *c, uint64_t n, int64_t delta);
uint64_t rfs_counts_get(struct rfs_counts *c, uint64_t n);
/* Set n's counter to 0. */
void rfs_counts_clear(struct rfs_counts *c, uint64_t n);
/* Raise n's counter to v if lower (a latest time): false past the limit. */
_Bool rfs_counts_max(struct rfs_counts *c, uint64_t n, uint64_t v);

/* Call fn for every number whose counter is not 0, in order; fn returns
 * non-zero to stop. Returns that, or 0. */
typedef int (*rfs_counts_fn)(void *ctx, uint64_t n, uint64_t count);
int rfs_counts_each(struct rfs_counts *c, rfs_counts_fn fn, void *ctx);

#endif
