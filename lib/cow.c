#include "lib/cow.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/guard.h"
#include "lib/pageset.h"
#include "lib/rwlock.h"

struct rfs_cow {
	int fd;			 /* the backing file, borrowed; fixed */
	struct rfs_store *store; /* its cap is charged; fixed */
	char *priv;		 /* the window's pages, mapped private; fixed */
	size_t priv_len;	 /* bytes mapped at priv; fixed */
	uint64_t start;		 /* file offset of priv: the window's start, page-aligned */
	uint64_t skew;		 /* view offset 0 is priv + skew; fixed */
	uint64_t length;	 /* the window; fixed */
	uint64_t page;		 /* fixed */

	pthread_rwlock_t lock;	  /* see cow.h */
	pthread_mutex_t set_lock; /* guards pages */
	struct rfs_pageset pages; /* pages of priv holding private copies */
};

int rfs_cow_new(int fd, uint64_t offset, uint64_t length, struct rfs_store *store,
		struct rfs_cow **out)
{
	struct rfs_cow *c = calloc(1, sizeof(*c));
	void *p;
	int err;

	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->store = store;
	c->page = (uint64_t)sysconf(_SC_PAGESIZE);
	c->start = offset & ~(c->page - 1);
	c->skew = offset - c->start;
	c->length = length;
	c->priv_len = (size_t)(c->skew + length);
	err = rfs_pageset_init(&c->pages, (c->priv_len + c->page - 1) / c->page);
	if (err)
		goto out_free;
	p = mmap(NULL, c->priv_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd,
		 (off_t)c->start);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_set;
	}
	c->priv = p;
	rfs_rwlock_init(&c->lock);
	pthread_mutex_init(&c->set_lock, NULL);
	*out = c;
	return 0;
out_set:
	rfs_pageset_destroy(&c->pages);
out_free:
	free(c);
	return err;
}

void rfs_cow_free(struct rfs_cow *c)
{
	if (!c)
		return;
	munmap(c->priv, c->priv_len);
	rfs_store_reserve(c->store, -(int64_t)(c->pages.count * c->page));
	rfs_pageset_destroy(&c->pages);
	pthread_mutex_destroy(&c->set_lock);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

char *rfs_cow_read_begin(struct rfs_cow *c, uint64_t off)
{
	pthread_rwlock_rdlock(&c->lock);
	return c->priv + c->skew + off;
}

void rfs_cow_read_end(struct rfs_cow *c)
{
	pthread_rwlock_unlock(&c->lock);
}

/*
 * Make the pages under view bytes [off, off + len) private in the set,
 * charging the new ones, up to the first that does not fit. Returns how
 * many of the len bytes lie in private pages now; *err says why not all.
 */
static size_t claim(struct rfs_cow *c, uint64_t off, size_t len, int *err)
{
	uint64_t first = (c->skew + off) / c->page, last = (c->skew + off + len - 1) / c->page;
	size_t n = len;

	*err = 0;
	pthread_mutex_lock(&c->set_lock);
	for (uint64_t pg = first; pg <= last; pg++) {
		if (rfs_pageset_test(&c->pages, pg))
			continue;
		*err = rfs_store_reserve(c->store, (int64_t)c->page);
		if (!*err) {
			int r = rfs_pageset_add(&c->pages, pg);

			if (r >= 0)
				continue;
			rfs_store_reserve(c->store, -(int64_t)c->page);
			*err = r;
		}
		/* The bytes before this page: priv offsets, where the first
		 * page may start before the window. */
		n = pg > first ? (size_t)(pg * c->page - (c->skew + off)) : 0;
		break;
	}
	pthread_mutex_unlock(&c->set_lock);
	return n;
}

ssize_t rfs_cow_write(struct rfs_cow *c, const void *buf, size_t len, uint64_t off)
{
	char *dst = c->priv + c->skew + off;
	size_t n;
	int err;

	if (!len)
		return 0;
	pthread_rwlock_rdlock(&c->lock);
	n = claim(c, off, len, &err);
	/* A page that faults stays in the set (charged): commit then fails
	 * on it with EFAULT, discard drops it. The file is broken there anyway. */
	if (n && rfs_guarded_copy(dst, buf, n, dst, n)) {
		err = -EIO;
		n = 0;
	}
	pthread_rwlock_unlock(&c->lock);
	return n ? (ssize_t)n : err;
}

/* Write private pages [lo, hi) of priv, clipped to the window, to the file. */
static int write_run(struct rfs_cow *c, uint64_t lo, uint64_t hi, uint64_t *vlo, uint64_t *vhi)
{
	uint64_t from = lo * c->page, to = hi * c->page;

	/* Bytes of the first and last page outside the window are the file's
	 * as it was when they were copied: they must not go back. */
	if (from < c->skew)
		from = c->skew;
	if (to > c->skew + c->length)
		to = c->skew + c->length;
	if (from - c->skew < *vlo)
		*vlo = from - c->skew;
	if (to - c->skew > *vhi)
		*vhi = to - c->skew;
	while (from < to) {
		ssize_t w = pwrite(c->fd, c->priv + from, (size_t)(to - from),
				   (off_t)(c->start + from));

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		from += (uint64_t)w;
	}
	return 0;
}

/* Drop every private copy and its charge. lock held exclusive. */
static int drop_all(struct rfs_cow *c)
{
	uint64_t lo, hi, from = 0;

	while (rfs_pageset_next_run(&c->pages, from, &lo, &hi)) {
		if (madvise(c->priv + lo * c->page, (size_t)((hi - lo) * c->page), MADV_DONTNEED))
			return -errno;
		from = hi;
	}
	rfs_store_reserve(c->store, -(int64_t)(c->pages.count * c->page));
	rfs_pageset_clear(&c->pages);
	return 0;
}

int rfs_cow_commit(struct rfs_cow *c, uint64_t *lo, uint64_t *hi)
{
	uint64_t from = 0, plo, phi;
	int err = 0;

	*lo = UINT64_MAX;
	*hi = 0;
	pthread_rwlock_wrlock(&c->lock);
	while (!err && rfs_pageset_next_run(&c->pages, from, &plo, &phi)) {
		err = write_run(c, plo, phi, lo, hi);
		from = phi;
	}
	if (!err && *hi && fdatasync(c->fd) < 0)
		err = -errno;
	if (!err)
		err = drop_all(c);
	pthread_rwlock_unlock(&c->lock);
	if (*lo > *hi)
		*lo = *hi;
	return err;
}

int rfs_cow_discard(struct rfs_cow *c)
{
	int err;

	pthread_rwlock_wrlock(&c->lock);
	err = drop_all(c);
	pthread_rwlock_unlock(&c->lock);
	return err;
}

uint64_t rfs_cow_private(struct rfs_cow *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->set_lock);
	n = c->pages.count * c->page;
	pthread_mutex_unlock(&c->set_lock);
	return n;
}
