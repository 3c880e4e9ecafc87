/*
 * A set of page numbers [0, npages): which pages of a copy-on-write window
 * hold private copies. Sparse, two levels: a table of block pointers, each
 * block a bitmap of RFS_PAGESET_BLOCK pages allocated on first use, so a
 * window of a terabyte costs a few kilobytes until it is written.
 *
 * Not thread-safe: the owner locks around every call.
 */
#ifndef REGIONFS_PAGESET_H
#define REGIONFS_PAGESET_H

#include <stdbool.h>
#include <stdint.h>

#define RFS_PAGESET_BLOCK 32768 /* pages per block: a 4 KiB bitmap */

struct rfs_pageset {
	uint64_t npages; /* fixed */
	uint64_t count;	 /* pages in the set */
	uint64_t **blocks;
};

/* An empty set of npages pages: 0 or -ENOMEM. */
int rfs_pageset_init(struct rfs_pageset *s, uint64_t npages);
void rfs_pageset_destroy(struct rfs_pageset *s);

bool rfs_pageset_test(const struct rfs_pageset *s, uint64_t page);
/* Add page: 1 if it was not in the set, 0 if it was, -ENOMEM. */
int rfs_pageset_add(struct rfs_pageset *s, uint64_t page);
/* Take page out of the set (no-op if absent). */
void rfs_pageset_del(struct rfs_pageset *s, uint64_t page);

/*
 * The first run of consecutive pages in the set at or after page from:
 * [*lo, *hi). false if there is none.
 */
bool rfs_pageset_next_run(const struct rfs_pageset *s, uint64_t from, uint64_t *lo, uint64_t *hi);

/* Empty the set, freeing its blocks. */
void rfs_pageset_clear(struct rfs_pageset *s);

#endif
