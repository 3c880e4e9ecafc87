/*
 * An intrusive hash table: chained, power-of-two buckets that double as it
 * fills (load factor at most 1), never shrinking. The caller embeds a
 * struct rfs_hash_link in each element and computes the hash; the table
 * stores links and never allocates or frees elements, so an element is in
 * at most one table per link and can be found again from its link with
 * rfs_hash_entry. Keys are whatever the caller's eq function compares.
 *
 * Order: the table keeps none; iterate with rfs_hash_next, or
 * keep an order of your own (the namespace's directories keep theirs for
 * readdir in a list beside the table).
 *
 * Not thread-safe: the owner's lock protects a table. No allocation but
 * the bucket array; an empty table holds none.
 */
#ifndef REGIONFS_HASH_H
#define REGIONFS_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rfs_hash_link {
	struct rfs_hash_link *next; /* in its bucket */
	uint64_t hash;		    /* as given to rfs_hash_insert; read-only to the caller */
};

struct rfs_hash {
	struct rfs_hash_link **buckets; /* NULL while nothing was ever inserted */
	size_t nbuckets;		/* 0 or a power of two */
	size_t count;			/* links in the table */
};

/* The element of type holding link ptr in member. */
#define rfs_hash_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Does the element of link l have key (a pointer to whatever the caller keys by)? */
typedef bool (*rfs_hash_eq_fn)(const struct rfs_hash_link *l, const void *key);

/* An empty table; allocates nothing. */
void rfs_hash_init(struct rfs_hash *h);
/* Free the bucket array; the elements are the caller's (empty it first). */
void rfs_hash_destroy(struct rfs_hash *h);

/* The first link with this hash whose eq(link, key) is true, or NULL. */
struct rfs_hash_link *rfs_hash_find(const struct rfs_hash *h, uint64_t hash, rfs_hash_eq_fn eq,
				    const void *key);

/*
 * Add l with hash. Duplicates are not checked for (find first). 0, or
 * -ENOMEM if the table had to grow and could not (nothing inserted).
 */
int rfs_hash_insert(struct rfs_hash *h, struct rfs_hash_link *l, uint64_t hash);

/* Take l, which must be in h, out of it. */
void rfs_hash_remove(struct rfs_hash *h, struct rfs_hash_link *l);

/*
 * Every link once, in no set order: the first with l NULL, then the one
 * after l; NULL at the end. The table must not change meanwhile, but for
 * l itself: once the caller has the link after l, it may remove l or free
 * its element (to empty the table before rfs_hash_destroy).
 */
struct rfs_hash_link *rfs_hash_next(const struct rfs_hash *h, const struct rfs_hash_link *l);

static inline size_t rfs_hash_count(const struct rfs_hash *h)
{
	return h->count;
}

/* Hashes for common keys: a NUL-terminated string (FNV-1a), a pointer, a mix of two words. */
uint64_t rfs_hash_str(const char *s);
uint64_t rfs_hash_ptr(const void *p);
uint64_t rfs_hash_mix(uint64_t a, uint64_t b);

#endif
