/* A directory's table of entries, and readdir over it (see ns_i.h). */
#include "lib/ns_i.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool entry_eq(const struct rfs_hash_link *l, const void *name)
{
	return strcmp(rfs_hash_entry(l, struct entry, link)->name, name) == 0;
}

void rfs_dir_init(struct dir *d)
{
	rfs_hash_init(&d->names);
	d->head = d->tail = NULL;
	d->next_cookie = COOKIE_FIRST;
}

void rfs_dir_destroy(struct dir *d)
{
	while (d->head)
		rfs_dir_erase(d, d->head);
	rfs_hash_destroy(&d->names);
}

size_t rfs_dir_count(const struct dir *d)
{
	return rfs_hash_count(&d->names);
}

struct entry *rfs_dir_find(const struct dir *d, const char *name)
{
	struct rfs_hash_link *l = rfs_hash_find(&d->names, rfs_hash_str(name), entry_eq, name);

	return l ? rfs_hash_entry(l, struct entry, link) : NULL;
}

int rfs_dir_insert(struct dir *d, const char *name, struct rfs_node *node)
{
	size_t len = strlen(name);
	struct entry *e = malloc(sizeof(*e) + len + 1);

	if (!e)
		return -ENOMEM;
	memcpy(e->name, name, len + 1);
	if (rfs_hash_insert(&d->names, &e->link, rfs_hash_str(name))) {
		free(e);
		return -ENOMEM;
	}
	e->node = node;
	e->cookie = d->next_cookie++;
	e->prev = d->tail;
	e->next = NULL;
	if (d->tail)
		d->tail->next = e;
	else
		d->head = e;
	d->tail = e;
	return 0;
}

void rfs_dir_erase(struct dir *d, struct entry *e)
{
	for (struct rfs_listing *l = d->listings; l; l = l->next_listing)
		if (l->next == e)
			l->next = e->next;
	rfs_hash_remove(&d->names, &e->link);
	if (e->prev)
		e->prev->next = e->next;
	else
		d->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		d->tail = e->prev;
	free(e);
}

int rfs_ns_listing_open(struct rfs_ns *ns, struct rfs_node *dir, struct rfs_listing **out)
{
	struct rfs_listing *l;

	if (!is_dir(dir))
		return -ENOTDIR;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->dir = dir;
	pthread_rwlock_wrlock(&ns->lock);
	l->next_listing = dir->dir.listings;
	if (l->next_listing)
		l->next_listing->prev_listing = l;
	dir->dir.listings = l;
	pthread_rwlock_unlock(&ns->lock);
	*out = l;
	return 0;
}

void rfs_ns_listing_close(struct rfs_ns *ns, struct rfs_listing *l)
{
	if (!l)
		return;
	pthread_rwlock_wrlock(&ns->lock);
	if (l->prev_listing)
		l->prev_listing->next_listing = l->next_listing;
	else
		l->dir->dir.listings = l->next_listing;
	if (l->next_listing)
		l->next_listing->prev_listing = l->prev_listing;
	pthread_rwlock_unlock(&ns->lock);
	free(l);
}

/* The first entry of d after cookie: the list is in cookie order. */
static struct entry *after(const struct dir *d, uint64_t cookie)
{
	struct entry *e = d->head;

	while (e && e->cookie <= cookie)
		e = e->next;
	return e;
}

int rfs_ns_readdir(struct rfs_ns *ns, struct rfs_node *dir, uint64_t cookie, struct rfs_listing *l,
		   rfs_emit_fn emit, void *ctx)
{
	uint64_t end = UINT64_MAX;
	struct entry *e;
	int err = 0;

	pthread_rwlock_rdlock(&ns->lock);
	if (!is_dir(dir) || (l && l->dir != dir)) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	/* A listing from the start sees the entries there are now, and no
	 * later ones: an entry renamed meanwhile takes a new cookie, and
	 * would otherwise come round again without end. */
	if (l && cookie == 0)
		l->end = dir->dir.next_cookie;
	if (l)
		end = l->end;
	if (cookie < COOKIE_DOT && emit(ctx, ".", dir, COOKIE_DOT))
		goto out_unlock;
	if (cookie < COOKIE_DOTDOT && emit(ctx, "..", dir->dir.parent, COOKIE_DOTDOT))
		goto out_unlock;
	/* Where this listing left off, without walking what it passed. */
	e = l && l->resume && l->resume == cookie ? l->next : after(&dir->dir, cookie);
	for (; e && e->cookie < end; e = e->next) {
		if (dir == ns->root && e->node->sealed)
			continue;
		if (emit(ctx, e->name, e->node, e->cookie))
			break;
		cookie = e->cookie;
	}
	if (l) {
		l->next = e;
		l->resume = cookie;
	}
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	return err;
}
