#include "lib/cow.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/guard.h"
#include "lib/pageset.h"
#include "lib/rwlock.h"

/*
 * Forks this process descends from. A serving process forked from the
 * supervisor's image holds the image's cow views with the image's page
 * sets, not what their shadow files hold now (a predecessor's private
 * pages): each view scans its file again on its first use after a fork.
 */
static _Atomic uint64_t forks;
static pthread_once_t forks_once = PTHREAD_ONCE_INIT;

static void forked(void)
{
	atomic_fetch_add(&forks, 1);
}

static void count_forks(void)
{
	pthread_atfork(NULL, NULL, forked);
}

struct rfs_cow {
	int fd;			    /* the backing file, borrowed; fixed */
	struct rfs_store *store;    /* the shadow file's, held; fixed */
	struct rfs_store_file file; /* the shadow file; fixed */
	int sfd;		    /* the shadow file, read-write; fixed */
	char *base;		    /* the file's window, shared read-only; fixed */
	char *shadow;		    /* the shadow file, shared read-write; fixed */
	size_t map_len;		    /* bytes at base and at shadow, whole pages; fixed */
	uint64_t start;		    /* file offset of base: the window's start, page-aligned */
	uint64_t skew;		    /* view offset 0 is base + skew (and shadow + skew); fixed */
	uint64_t length;	    /* the window; fixed */
	uint64_t page;		    /* fixed */

	pthread_rwlock_t lock;	  /* see cow.h */
	pthread_mutex_t set_lock; /* guards pages */
	struct rfs_pageset pages; /* pages allocated in the shadow file */
	/* forks as of the last scan of the shadow file; stored under lock
	 * exclusive, loaded without it */
	_Atomic uint64_t scanned;
};

static void punch(struct rfs_cow *c, uint64_t off, uint64_t len)
{
	fallocate(c->sfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
}

/*
 * Rebuild pages from the shadow file's allocation: the pages a predecessor
 * (or the image's earlier self) made private. lock exclusive. A memfd
 * store is charged the difference, as its cap is the daemon's to count.
 */
static int scan(struct rfs_cow *c)
{
	off_t pos = 0, end = (off_t)c->map_len, data, hole;
	uint64_t before;
	int err = 0;

	pthread_mutex_lock(&c->set_lock);
	before = c->pages.count;
	rfs_pageset_clear(&c->pages);
	while (!err && pos < end) {
		data = lseek(c->sfd, pos, SEEK_DATA);
		if (data < 0 || data >= end) {
			if (data < 0 && errno != ENXIO)
				err = -errno;
			break;
		}
		hole = lseek(c->sfd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		for (uint64_t pg = (uint64_t)data / c->page;
		     !err && pg < ((uint64_t)hole + c->page - 1) / c->page; pg++)
			if (rfs_pageset_add(&c->pages, pg) < 0)
				err = -ENOMEM;
		pos = hole;
	}
	rfs_store_charge(c->store, ((int64_t)c->pages.count - (int64_t)before) * (int64_t)c->page);
	pthread_mutex_unlock(&c->set_lock);
	return err;
}

/* Scan again if this process was forked since the last scan. lock exclusive. */
static void fresh_locked(struct rfs_cow *c)
{
	uint64_t now = atomic_load(&forks);

	/* A failed scan leaves the count behind: the next use tries again. */
	if (atomic_load(&c->scanned) != now && scan(c) == 0)
		atomic_store(&c->scanned, now);
}

/* The same, lock not held: taken exclusive only if a scan is due. */
static void fresh(struct rfs_cow *c)
{
	if (atomic_load(&c->scanned) == atomic_load(&forks))
		return;
	pthread_rwlock_wrlock(&c->lock);
	fresh_locked(c);
	pthread_rwlock_unlock(&c->lock);
}

static void lock_shared(struct rfs_cow *c)
{
	fresh(c);
	pthread_rwlock_rdlock(&c->lock);
}

static void lock_exclusive(struct rfs_cow *c)
{
	pthread_rwlock_wrlock(&c->lock);
	fresh_locked(c);
}

int rfs_cow_new(int fd, uint64_t offset, uint64_t length, struct rfs_store *store, uint64_t shadow,
		struct rfs_cow **out)
{
	struct rfs_cow *c = calloc(1, sizeof(*c));
	void *p;
	int err;

	if (!c)
		return -ENOMEM;
	pthread_once(&forks_once, count_forks);
	c->fd = fd;
	c->store = store;
	c->sfd = -1;
	c->page = (uint64_t)sysconf(_SC_PAGESIZE);
	c->start = offset & ~(c->page - 1);
	c->skew = offset - c->start;
	c->length = length;
	c->map_len = (size_t)((c->skew + length + c->page - 1) & ~(c->page - 1));
	c->base = c->shadow = MAP_FAILED;
	err = rfs_pageset_init(&c->pages, c->map_len / c->page);
	if (err)
		goto out_free;
	err = shadow ? rfs_store_adopt(store, shadow, &c->file) : rfs_store_create(store, &c->file);
	if (err)
		goto out_set;
	c->sfd = rfs_store_open(store, &c->file);
	if (c->sfd < 0) {
		err = c->sfd;
		goto out_file;
	}
	/* Sparse: a page costs memory only once it is private. */
	if (ftruncate(c->sfd, (off_t)c->map_len) < 0) {
		err = -errno;
		goto out_file;
	}
	p = mmap(NULL, c->map_len, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, (off_t)c->start);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_file;
	}
	c->base = p;
	p = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, c->sfd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_file;
	}
	c->shadow = p;
	rfs_rwlock_init(&c->lock);
	pthread_mutex_init(&c->set_lock, NULL);
	/* An earlier process's file (adopted, or inherited by a live
	 * upgrade): its private pages are the view's. */
	if (c->file.kept && (err = scan(c)))
		goto out_locks;
	atomic_store(&c->scanned, atomic_load(&forks));
	rfs_store_hold(store);
	*out = c;
	return 0;
out_locks:
	rfs_store_charge(store, -(int64_t)(c->pages.count * c->page));
	pthread_mutex_destroy(&c->set_lock);
	pthread_rwlock_destroy(&c->lock);
out_file:
	if (c->shadow != MAP_FAILED)
		munmap(c->shadow, c->map_len);
	if (c->base != MAP_FAILED)
		munmap(c->base, c->map_len);
	if (c->sfd >= 0)
		close(c->sfd);
	/* An earlier process's file stays: its bytes are not ours to drop. */
	if (!c->file.kept || c->file.fd >= 0)
		rfs_store_remove(store, &c->file);
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
	/* Punched first: the supervisor's image may map a config view's
	 * shadow file for the mount's life, and then keeps no memory of it. */
	if (!rfs_store_keeps_files(c->store))
		punch(c, 0, c->map_len);
	rfs_store_charge(c->store, -(int64_t)(c->pages.count * c->page));
	munmap(c->shadow, c->map_len);
	munmap(c->base, c->map_len);
	close(c->sfd);
	rfs_store_remove(c->store, &c->file);
	rfs_store_free(c->store);
	rfs_pageset_destroy(&c->pages);
	pthread_mutex_destroy(&c->set_lock);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

uint64_t rfs_cow_file(const struct rfs_cow *c)
{
	return c->file.id;
}

/*
 * The run of pages of one kind (private or the file's) at base offset pos,
 * up to end: where it stops, and in *priv which kind it is. set_lock held.
 */
static uint64_t run_at(struct rfs_cow *c, uint64_t pos, uint64_t end, bool *priv)
{
	uint64_t pg = pos / c->page, lo, hi, stop;

	*priv = rfs_pageset_test(&c->pages, pg);
	if (!rfs_pageset_next_run(&c->pages, pg, &lo, &hi))
		stop = end;
	else
		stop = (*priv ? hi : lo) * c->page;
	return stop < end ? stop : end;
}

/* More runs than io holds: copy [pos, end) into a bounce buffer. set_lock held. */
static int gather(struct rfs_cow *c, uint64_t pos, uint64_t end, struct rfs_io *io)
{
	char *dst = malloc((size_t)(end - pos));
	bool priv;

	io->bounce = dst;
	if (!dst)
		return -ENOMEM;
	io->iov[0].iov_base = dst;
	io->iov[0].iov_len = (size_t)(end - pos);
	io->n = 1;
	while (pos < end) {
		uint64_t stop = run_at(c, pos, end, &priv);
		const char *src = (priv ? c->shadow : c->base) + pos;

		/* The file may have shrunk under the window. */
		if (rfs_guarded_copy(dst, src, (size_t)(stop - pos), src, (size_t)(stop - pos)))
			return -EIO;
		dst += stop - pos;
		pos = stop;
	}
	return 0;
}

int rfs_cow_read_begin(struct rfs_cow *c, uint64_t off, size_t len, struct rfs_io *io)
{
	uint64_t pos = c->skew + off, end = pos + len;
	bool priv;
	int err = 0;

	lock_shared(c);
	io->len = len;
	pthread_mutex_lock(&c->set_lock);
	/* Each run straight from its mapping: one unless pages were written. */
	while (pos < end && io->n < RFS_IO_SEGS) {
		uint64_t stop = run_at(c, pos, end, &priv);

		io->iov[io->n].iov_base = (priv ? c->shadow : c->base) + pos;
		io->iov[io->n].iov_len = (size_t)(stop - pos);
		io->n++;
		pos = stop;
	}
	/* A short reply would read as the end of the file: gather instead. */
	if (pos < end)
		err = gather(c, c->skew + off, end, io);
	pthread_mutex_unlock(&c->set_lock);
	if (err)
		rfs_cow_read_end(c, io);
	return err;
}

void rfs_cow_read_end(struct rfs_cow *c, struct rfs_io *io)
{
	free(io->bounce);
	io->bounce = NULL;
	pthread_rwlock_unlock(&c->lock);
}

/*
 * Put the file's page pg into the shadow file with pwrite: its allocation
 * and its bytes in one call, so a process killed here leaves no page or a
 * whole copy, never a private page of zeros. The copy from base faults in
 * the kernel (EFAULT, no SIGBUS) where the file lost the page.
 */
static int copy_page(struct rfs_cow *c, uint64_t pg)
{
	uint64_t at = pg * c->page, done = 0;
	int err = 0;

	while (done < c->page) {
		ssize_t w = pwrite(c->sfd, c->base + at + done, (size_t)(c->page - done),
				   (off_t)(at + done));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 && errno != EFAULT ? -errno : -EIO;
			break;
		}
		done += (uint64_t)w;
	}
	if (err && done)
		punch(c, at, c->page);
	return err;
}

/*
 * Make page pg private: allocated in the shadow file, holding the file's
 * bytes unless whole (a write is about to cover all of it). set_lock held.
 */
static int make_private(struct rfs_cow *c, uint64_t pg, bool whole)
{
	int err = 0;

	/* A memfd store's cap is the daemon's to check, as for regions. */
	if (rfs_store_daemon_checks(c->store))
		err = rfs_store_check(c->store, c->page);
	if (!err && whole && fallocate(c->sfd, 0, (off_t)(pg * c->page), (off_t)c->page) < 0)
		err = -errno;
	if (!err && !whole)
		err = copy_page(c, pg);
	if (err)
		return err;
	rfs_store_charge(c->store, (int64_t)c->page);
	err = rfs_pageset_add(&c->pages, pg);
	if (err < 0) {
		punch(c, pg * c->page, c->page);
		rfs_store_charge(c->store, -(int64_t)c->page);
		return err;
	}
	return 0;
}

/*
 * Make the pages under view bytes [off, off + len) private, up to the
 * first that does not fit. Returns how many of the len bytes lie in
 * private pages now; *err says why not all.
 */
static size_t claim(struct rfs_cow *c, uint64_t off, size_t len, int *err)
{
	uint64_t lo = c->skew + off, hi = lo + len;
	uint64_t first = lo / c->page, last = (hi - 1) / c->page;
	size_t n = len;

	*err = 0;
	pthread_mutex_lock(&c->set_lock);
	for (uint64_t pg = first; pg <= last; pg++) {
		if (rfs_pageset_test(&c->pages, pg))
			continue;
		*err = make_private(c, pg, pg * c->page >= lo && (pg + 1) * c->page <= hi);
		if (!*err)
			continue;
		/* The bytes before this page: base offsets, where the first
		 * page may start before the window. */
		n = pg > first ? (size_t)(pg * c->page - lo) : 0;
		break;
	}
	pthread_mutex_unlock(&c->set_lock);
	return n;
}

ssize_t rfs_cow_write(struct rfs_cow *c, const void *buf, size_t len, uint64_t off)
{
	char *dst = c->shadow + c->skew + off;
	size_t n;
	int err;

	if (!len)
		return 0;
	lock_shared(c);
	n = claim(c, off, len, &err);
	/* The pages are allocated: only a page lost to swap would fault. */
	if (n && rfs_guarded_copy(dst, buf, n, dst, n)) {
		err = -EIO;
		n = 0;
	}
	pthread_rwlock_unlock(&c->lock);
	return n ? (ssize_t)n : err;
}

/* Write private pages [lo, hi), clipped to the window, to the file. */
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
		ssize_t w = pwrite(c->fd, c->shadow + from, (size_t)(to - from),
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

/* Punch every private page out and give its charge back. lock exclusive. */
static int drop_all(struct rfs_cow *c)
{
	/* The whole file: pages a killed writer allocated and never
	 * indexed go too. */
	if (fallocate(c->sfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)c->map_len) < 0)
		return -errno;
	pthread_mutex_lock(&c->set_lock);
	rfs_store_charge(c->store, -(int64_t)(c->pages.count * c->page));
	rfs_pageset_clear(&c->pages);
	pthread_mutex_unlock(&c->set_lock);
	return 0;
}

int rfs_cow_commit(struct rfs_cow *c, uint64_t *lo, uint64_t *hi)
{
	uint64_t from = 0, plo, phi;
	int err = 0;

	*lo = UINT64_MAX;
	*hi = 0;
	lock_exclusive(c);
	while (!err && rfs_pageset_next_run(&c->pages, from, &plo, &phi)) {
		err = write_run(c, plo, phi, lo, hi);
		from = phi;
	}
	/* Durable before the copies go: a kill between the two leaves them
	 * private and equal to the file, and a commit again rewrites them. */
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

	lock_exclusive(c);
	err = drop_all(c);
	pthread_rwlock_unlock(&c->lock);
	return err;
}

uint64_t rfs_cow_private(struct rfs_cow *c)
{
	uint64_t n;

	fresh(c);
	pthread_mutex_lock(&c->set_lock);
	n = c->pages.count * c->page;
	pthread_mutex_unlock(&c->set_lock);
	return n;
}
