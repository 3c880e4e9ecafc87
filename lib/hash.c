#include "lib/hash.h"

#include <errno.h>
#include <stdlib.h>

#define FIRST_BUCKETS 8

void rfs_hash_init(struct rfs_hash *h)
{
	h->buckets = NULL;
	h->nbuckets = 0;
	h->count = 0;
}

void rfs_hash_destroy(struct rfs_hash *h)
{
	free(h->buckets);
	rfs_hash_init(h);
}

static size_t bucket(uint64_t hash, size_t nbuckets)
{
	return (size_t)hash & (nbuckets - 1);
}

struct rfs_hash_link *rfs_hash_find(const struct rfs_hash *h, uint64_t hash, rfs_hash_eq_fn eq,
				    const void *key)
{
	struct rfs_hash_link *l;

	if (!h->nbuckets)
		return NULL;
	for (l = h->buckets[bucket(hash, h->nbuckets)]; l; l = l->next)
		if (l->hash == hash && eq(l, key))
			return l;
	return NULL;
}

static int grow(struct rfs_hash *h)
{
	size_t nb = h->nbuckets ? h->nbuckets * 2 : FIRST_BUCKETS;
	struct rfs_hash_link **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct rfs_hash_link *l = h->buckets[i], *next;

		for (; l; l = next) {
			size_t s = bucket(l->hash, nb);

			next = l->next;
			l->next = b[s];
			b[s] = l;
		}
	}
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = nb;
	return 0;
}

int rfs_hash_insert(struct rfs_hash *h, struct rfs_hash_link *l, uint64_t hash)
{
	size_t s;

	if (h->count + 1 > h->nbuckets && grow(h))
		return -ENOMEM;
	s = bucket(hash, h->nbuckets);
	l->hash = hash;
	l->next = h->buckets[s];
	h->buckets[s] = l;
	h->count++;
	return 0;
}

void rfs_hash_remove(struct rfs_hash *h, struct rfs_hash_link *l)
{
	struct rfs_hash_link **pp = &h->buckets[bucket(l->hash, h->nbuckets)];

	while (*pp != l)
		pp = &(*pp)->next;
	*pp = l->next;
	l->next = NULL;
	h->count--;
}

struct rfs_hash_link *rfs_hash_next(const struct rfs_hash *h, const struct rfs_hash_link *l)
{
	size_t i = 0;

	if (l) {
		if (l->next)
			return l->next;
		i = bucket(l->hash, h->nbuckets) + 1;
	}
	for (; i < h->nbuckets; i++)
		if (h->buckets[i])
			return h->buckets[i];
	return NULL;
}

uint64_t rfs_hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

uint64_t rfs_hash_mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ b * 0xff51afd7ed558ccdULL;

	return h ^ (h >> 29);
}

uint64_t rfs_hash_ptr(const void *p)
{
	return rfs_hash_mix((uintptr_t)p, 0);
}
