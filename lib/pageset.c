#include "lib/pageset.h"

#include <errno.h>
#include <stdlib.h>

#define WORD_BITS   64
#define BLOCK_WORDS (RFS_PAGESET_BLOCK / WORD_BITS)

static uint64_t nblocks(const struct rfs_pageset *s)
{
	return (s->npages + RFS_PAGESET_BLOCK - 1) / RFS_PAGESET_BLOCK;
}

int rfs_pageset_init(struct rfs_pageset *s, uint64_t npages)
{
	s->npages = npages;
	s->count = 0;
	s->blocks = calloc(nblocks(s) ? nblocks(s) : 1, sizeof(*s->blocks));
	return s->blocks ? 0 : -ENOMEM;
}

void rfs_pageset_clear(struct rfs_pageset *s)
{
	for (uint64_t i = 0; i < nblocks(s); i++) {
		free(s->blocks[i]);
		s->blocks[i] = NULL;
	}
	s->count = 0;
}

void rfs_pageset_destroy(struct rfs_pageset *s)
{
	rfs_pageset_clear(s);
	free(s->blocks);
	s->blocks = NULL;
}

bool rfs_pageset_test(const struct rfs_pageset *s, uint64_t page)
{
	const uint64_t *b;
	uint64_t bit;

	if (page >= s->npages)
		return false;
	b = s->blocks[page / RFS_PAGESET_BLOCK];
	bit = page % RFS_PAGESET_BLOCK;
	return b && (b[bit / WORD_BITS] >> (bit % WORD_BITS) & 1);
}

int rfs_pageset_add(struct rfs_pageset *s, uint64_t page)
{
	uint64_t **slot, bit, mask;

	if (page >= s->npages)
		return -EINVAL;
	slot = &s->blocks[page / RFS_PAGESET_BLOCK];
	if (!*slot) {
		*slot = calloc(BLOCK_WORDS, sizeof(**slot));
		if (!*slot)
			return -ENOMEM;
	}
	bit = page % RFS_PAGESET_BLOCK;
	mask = 1ULL << (bit % WORD_BITS);
	if ((*slot)[bit / WORD_BITS] & mask)
		return 0;
	(*slot)[bit / WORD_BITS] |= mask;
	s->count++;
	return 1;
}

void rfs_pageset_del(struct rfs_pageset *s, uint64_t page)
{
	uint64_t *b, bit, mask;

	if (!rfs_pageset_test(s, page))
		return;
	b = s->blocks[page / RFS_PAGESET_BLOCK];
	bit = page % RFS_PAGESET_BLOCK;
	mask = 1ULL << (bit % WORD_BITS);
	b[bit / WORD_BITS] &= ~mask;
	s->count--;
}

/* The first page at or after from whose membership is want; npages if none. */
static uint64_t scan(const struct rfs_pageset *s, uint64_t from, bool want)
{
	while (from < s->npages) {
		const uint64_t *b = s->blocks[from / RFS_PAGESET_BLOCK];
		uint64_t bit = from % RFS_PAGESET_BLOCK, word;

		if (!b) {
			if (!want)
				return from;
			from += RFS_PAGESET_BLOCK - bit; /* an empty block */
			continue;
		}
		word = want ? b[bit / WORD_BITS] : ~b[bit / WORD_BITS];
		word >>= bit % WORD_BITS;
		if (word) {
			from += (uint64_t)__builtin_ctzll(word);
			break;
		}
		from += WORD_BITS - bit % WORD_BITS;
	}
	return from < s->npages ? from : s->npages;
}

bool rfs_pageset_next_run(const struct rfs_pageset *s, uint64_t from, uint64_t *lo, uint64_t *hi)
{
	if (!s->count)
		return false;
	*lo = scan(s, from, true);
	if (*lo >= s->npages)
		return false;
	*hi = scan(s, *lo, false);
	return true;
}
