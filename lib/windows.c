#include "lib/windows.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/hash.h"

/* A view registered on its backing, for change notices. */
struct watcher {
	struct watcher *next;
	struct rfs_mapping *view;
	uint64_t lo, hi; /* the view's window in the file */
};

struct rfs_backing {
	struct rfs_backing *next; /* registry */
	dev_t dev;
	ino_t ino;
	int fd;
	bool writable;
	char *path;
	unsigned int refs;
	struct watcher *watchers;
};

struct rfs_chunk {
	struct rfs_hash_link link;	       /* in w->chunks, keyed by (b, idx) */
	struct rfs_chunk *lru_prev, *lru_next; /* in w->lru while unpinned */
	struct rfs_backing *b;
	uint64_t idx; /* file offset / RFS_CHUNK */
	char *addr;
	unsigned int pins;
};

/* Everything below is protected by lock. */
struct rfs_windows {
	pthread_mutex_t lock;
	struct rfs_backing *backings;
	struct rfs_hash chunks; /* every mapped chunk */
	struct rfs_chunk lru;	/* list head: least recently used first */
	uint64_t mapped, budget;
	rfs_changed_fn changed; /* fixed */
	void *ctx;		/* fixed */
};

/* What a chunk is found by. */
struct chunk_key {
	const struct rfs_backing *b;
	uint64_t idx;
};

static uint64_t chunk_hash(const struct rfs_backing *b, uint64_t idx)
{
	return rfs_hash_mix((uintptr_t)b, idx);
}

static bool chunk_eq(const struct rfs_hash_link *l, const void *key)
{
	const struct rfs_chunk *c = rfs_hash_entry(l, struct rfs_chunk, link);
	const struct chunk_key *k = key;

	return c->b == k->b && c->idx == k->idx;
}

static void lru_unlink(struct rfs_chunk *c)
{
	c->lru_prev->lru_next = c->lru_next;
	c->lru_next->lru_prev = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_append(struct rfs_windows *w, struct rfs_chunk *c)
{
	c->lru_next = &w->lru;
	c->lru_prev = w->lru.lru_prev;
	w->lru.lru_prev->lru_next = c;
	w->lru.lru_prev = c;
}

static void chunk_drop(struct rfs_windows *w, struct rfs_chunk *c)
{
	rfs_hash_remove(&w->chunks, &c->link);
	if (c->lru_next)
		lru_unlink(c);
	/* Dirty pages stay in the page cache and are written back as usual. */
	munmap(c->addr, RFS_CHUNK);
	w->mapped -= RFS_CHUNK;
	free(c);
}

int rfs_windows_new(uint64_t budget, rfs_changed_fn changed, void *ctx, struct rfs_windows **out)
{
	struct rfs_windows *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	rfs_hash_init(&w->chunks);
	w->lru.lru_next = w->lru.lru_prev = &w->lru;
	w->budget = budget < RFS_CHUNK ? RFS_CHUNK : budget;
	w->changed = changed;
	w->ctx = ctx;
	pthread_mutex_init(&w->lock, NULL);
	*out = w;
	return 0;
}

void rfs_windows_free(struct rfs_windows *w)
{
	if (!w)
		return;
	while (w->lru.lru_next != &w->lru)
		chunk_drop(w, w->lru.lru_next);
	rfs_hash_destroy(&w->chunks);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

uint64_t rfs_windows_mapped(struct rfs_windows *w)
{
	uint64_t m;

	pthread_mutex_lock(&w->lock);
	m = w->mapped;
	pthread_mutex_unlock(&w->lock);
	return m;
}

int rfs_backing_get(struct rfs_windows *w, const char *path, int fd, struct rfs_backing **out)
{
	struct rfs_backing *b;
	bool writable = true;
	struct stat st;
	int err = 0;

	if (fd < 0) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0 && (errno == EACCES || errno == EROFS || errno == ETXTBSY))
			fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	writable = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
	pthread_mutex_lock(&w->lock);
	for (b = w->backings; b; b = b->next)
		if (b->dev == st.st_dev && b->ino == st.st_ino)
			break;
	if (b) {
		b->refs++;
		pthread_mutex_unlock(&w->lock);
		*out = b;
		goto out_close; /* err is 0: the file is already open */
	}
	b = calloc(1, sizeof(*b));
	if (b)
		b->path = strdup(path);
	if (!b || !b->path) {
		pthread_mutex_unlock(&w->lock);
		free(b);
		err = -ENOMEM;
		goto out_close;
	}
	b->dev = st.st_dev;
	b->ino = st.st_ino;
	b->fd = fd;
	b->writable = writable;
	b->refs = 1;
	b->next = w->backings;
	w->backings = b;
	pthread_mutex_unlock(&w->lock);
	*out = b;
	return 0;
out_close:
	close(fd);
	return err;
}

void rfs_backing_put(struct rfs_windows *w, struct rfs_backing *b)
{
	struct rfs_hash_link *l, *next;
	struct rfs_backing **pp;

	pthread_mutex_lock(&w->lock);
	if (--b->refs) {
		pthread_mutex_unlock(&w->lock);
		return;
	}
	for (l = rfs_hash_next(&w->chunks, NULL); l; l = next) {
		struct rfs_chunk *c = rfs_hash_entry(l, struct rfs_chunk, link);

		next = rfs_hash_next(&w->chunks, l);
		if (c->b == b)
			chunk_drop(w, c);
	}
	for (pp = &w->backings; *pp != b; pp = &(*pp)->next)
		;
	*pp = b->next;
	pthread_mutex_unlock(&w->lock);
	close(b->fd);
	free(b->path);
	free(b);
}

int rfs_backing_fd(const struct rfs_backing *b)
{
	return b->fd;
}

bool rfs_backing_writable(const struct rfs_backing *b)
{
	return b->writable;
}

const char *rfs_backing_path(const struct rfs_backing *b)
{
	return b->path;
}

void rfs_backing_attach(struct rfs_windows *w, struct rfs_backing *b, struct rfs_mapping *view,
			uint64_t offset, uint64_t length)
{
	struct watcher *wt = malloc(sizeof(*wt));

	if (!wt)
		return; /* no notices for this view: its readers may see stale cache */
	wt->view = view;
	wt->lo = offset;
	wt->hi = offset + length;
	pthread_mutex_lock(&w->lock);
	wt->next = b->watchers;
	b->watchers = wt;
	pthread_mutex_unlock(&w->lock);
}

void rfs_backing_detach(struct rfs_windows *w, struct rfs_backing *b, struct rfs_mapping *view)
{
	struct watcher **pp, *wt;

	pthread_mutex_lock(&w->lock);
	for (pp = &b->watchers; (wt = *pp); pp = &wt->next) {
		if (wt->view == view) {
			*pp = wt->next;
			free(wt);
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
}

void rfs_backing_changed(struct rfs_windows *w, struct rfs_backing *b, struct rfs_mapping *except,
			 uint64_t off, uint64_t len)
{
	uint64_t end = off + len;
	struct watcher *wt;

	if (!w->changed)
		return;
	pthread_mutex_lock(&w->lock);
	for (wt = b->watchers; wt; wt = wt->next) {
		uint64_t lo = off > wt->lo ? off : wt->lo;
		uint64_t hi = end < wt->hi ? end : wt->hi;

		if (wt->view != except && lo < hi)
			w->changed(w->ctx, wt->view, lo - wt->lo, hi - lo);
	}
	pthread_mutex_unlock(&w->lock);
}

int rfs_chunk_pin(struct rfs_windows *w, struct rfs_backing *b, uint64_t off,
		  struct rfs_chunk **out, char **addr)
{
	uint64_t idx = off / RFS_CHUNK;
	struct chunk_key key = {b, idx};
	struct rfs_hash_link *l;
	struct rfs_chunk *c;
	int prot = PROT_READ | (b->writable ? PROT_WRITE : 0);
	int err = 0;

	pthread_mutex_lock(&w->lock);
	l = rfs_hash_find(&w->chunks, chunk_hash(b, idx), chunk_eq, &key);
	if (l) {
		c = rfs_hash_entry(l, struct rfs_chunk, link);
		if (c->pins++ == 0)
			lru_unlink(c);
		goto out;
	}
	/* Make room: drop the least recently used unpinned chunks. */
	while (w->mapped + RFS_CHUNK > w->budget && w->lru.lru_next != &w->lru)
		chunk_drop(w, w->lru.lru_next);
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = -ENOMEM;
		goto out_unlock;
	}
	c->addr = mmap(NULL, RFS_CHUNK, prot, MAP_SHARED, b->fd, (off_t)(idx * RFS_CHUNK));
	if (c->addr == MAP_FAILED) {
		err = -errno;
		free(c);
		goto out_unlock;
	}
	c->b = b;
	c->idx = idx;
	c->pins = 1;
	err = rfs_hash_insert(&w->chunks, &c->link, chunk_hash(b, idx));
	if (err) {
		munmap(c->addr, RFS_CHUNK);
		free(c);
		goto out_unlock;
	}
	w->mapped += RFS_CHUNK;
out:
	*out = c;
	*addr = c->addr;
out_unlock:
	pthread_mutex_unlock(&w->lock);
	return err;
}

void rfs_chunk_unpin(struct rfs_windows *w, struct rfs_chunk *c)
{
	pthread_mutex_lock(&w->lock);
	if (--c->pins == 0)
		lru_append(w, c);
	pthread_mutex_unlock(&w->lock);
}
