/* Numbers to pointers without a lock for readers (see itable.h). */
#include "lib/itable.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#define PAGE_BITS 16 /* ids per page: 65,536 (512 KiB of pointers) */
#define TOP_BITS  20 /* pages: the top level is 8 MiB, touched as it fills */
#define PAGE_IDS  (1u << PAGE_BITS)

struct page {
	_Atomic(void *) slot[PAGE_IDS];
	uint32_t used; /* slots set; under the caller's serialization */
};

struct rfs_itable {
	/* The highest page ever set: new ids (handed out in order) go there,
	 * so it is kept even when empty, lest each create make it again. */
	uint64_t high;
	_Atomic(struct page *) top[1u << TOP_BITS];
};

int rfs_itable_new(struct rfs_itable **out)
{
	/* calloc of this size maps zero pages the kernel fills on first touch. */
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void rfs_itable_free(struct rfs_itable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < (1u << TOP_BITS); i++)
		free(atomic_load_explicit(&t->top[i], memory_order_relaxed));
	free(t);
}

int rfs_itable_set(struct rfs_itable *t, uint64_t id, void *p)
{
	uint64_t hi = id >> PAGE_BITS;
	struct page *pg;
	void *old;

	if (hi >= (1u << TOP_BITS))
		return -EOVERFLOW;
	pg = atomic_load_explicit(&t->top[hi], memory_order_relaxed);
	if (!pg) {
		if (!p)
			return 0;
		pg = calloc(1, sizeof(*pg));
		if (!pg)
			return -ENOMEM;
		if (hi > t->high) {
			/* Ids have moved on: the page they left goes if it is empty. */
			struct page *left =
				atomic_load_explicit(&t->top[t->high], memory_order_relaxed);

			if (left && left->used == 0) {
				atomic_store_explicit(&t->top[t->high], NULL, memory_order_relaxed);
				free(left);
			}
			t->high = hi;
		}
		/* Release: a reader that sees the page sees it zeroed. */
		atomic_store_explicit(&t->top[hi], pg, memory_order_release);
	}
	old = atomic_load_explicit(&pg->slot[id & (PAGE_IDS - 1)], memory_order_relaxed);
	atomic_store_explicit(&pg->slot[id & (PAGE_IDS - 1)], p, memory_order_release);
	pg->used += (p != NULL) - (old != NULL);
	if (pg->used == 0 && hi < t->high) {
		/* Empty, and below where ids are handed out: no reader may be in
		 * it (none holds one of its ids), and no id will come to it. */
		atomic_store_explicit(&t->top[hi], NULL, memory_order_relaxed);
		free(pg);
	}
	return 0;
}

void *rfs_itable_get(const struct rfs_itable *t, uint64_t id)
{
	uint64_t hi = id >> PAGE_BITS;
	struct page *pg;

	if (hi >= (1u << TOP_BITS))
		return NULL;
	pg = atomic_load_explicit(&t->top[hi], memory_order_acquire);
	return pg ? atomic_load_explicit(&pg->slot[id & (PAGE_IDS - 1)], memory_order_acquire)
		  : NULL;
}
