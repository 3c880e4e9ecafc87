/* Counts (counts.h): an array of atomics in a sparse, mapped memfd. */
#include "lib/counts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/memfd.h"

#define MAGIC 0x73746e756f637372ULL /* "rscounts" */
#define PAGE  4096

/* The first page; the counters start at the second. */
struct header {
	uint64_t magic;
	uint64_t limit;
};

struct rfs_counts {
	int fd;
	uint64_t limit;
	void *map;
	size_t map_size;
	_Atomic uint64_t *count; /* [limit] */
};

static int map(int fd, struct rfs_counts **out)
{
	struct rfs_counts *c = calloc(1, sizeof(*c));
	struct header h;
	struct stat st;

	if (!c)
		return -ENOMEM;
	if (fstat(fd, &st) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != MAGIC || !h.limit || h.limit > (1ULL << 40) ||
	    (uint64_t)st.st_size != PAGE + h.limit * sizeof(uint64_t)) {
		free(c);
		return -EPROTO;
	}
	c->fd = fd;
	c->limit = h.limit;
	c->map_size = (size_t)st.st_size;
	c->map = mmap(NULL, c->map_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
	if (c->map == MAP_FAILED) {
		int err = -errno;

		free(c);
		return err;
	}
	c->count = (_Atomic uint64_t *)((char *)c->map + PAGE);
	*out = c;
	return 0;
}

int rfs_counts_new(uint64_t limit, struct rfs_counts **out)
{
	struct header h = {.magic = MAGIC, .limit = limit};
	int fd, err;

	if (!limit || limit > (1ULL << 40))
		return -EINVAL;
	fd = rfs_memfd_new("regionfs-counts", PAGE + limit * sizeof(uint64_t), &h, sizeof(h));
	err = fd < 0 ? fd : map(fd, out);
	if (err && fd >= 0)
		close(fd);
	return err;
}

int rfs_counts_open(int fd, struct rfs_counts **out)
{
	int copy = rfs_memfd_dup(fd);
	int err = copy < 0 ? copy : map(copy, out);

	if (err && copy >= 0)
		close(copy);
	return err;
}

void rfs_counts_free(struct rfs_counts *c)
{
	if (!c)
		return;
	munmap(c->map, c->map_size);
	close(c->fd);
	free(c);
}

int rfs_counts_fd(const struct rfs_counts *c)
{
	return c->fd;
}

bool rfs_counts_add(struct rfs_counts *c, uint64_t n, int64_t delta)
{
	_Atomic uint64_t *p;
	uint64_t old;

	if (n >= c->limit)
		return false;
	p = &c->count[n];
	if (delta >= 0) {
		atomic_fetch_add_explicit(p, (uint64_t)delta, memory_order_relaxed);
		return true;
	}
	/* Never below 0: a forget of more than was counted (references taken
	 * before counting began) leaves 0. */
	old = atomic_load_explicit(p, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(
		p, &old, old > (uint64_t)-delta ? old + (uint64_t)delta : 0, memory_order_relaxed,
		memory_order_relaxed))
		;
	return true;
}

void rfs_counts_clear(struct rfs_counts *c, uint64_t n)
{
	if (n < c->limit)
		atomic_store_explicit(&c->count[n], 0, memory_order_relaxed);
}

bool rfs_counts_max(struct rfs_counts *c, uint64_t n, uint64_t v)
{
	uint64_t old;

	if (n >= c->limit)
		return false;
	old = atomic_load_explicit(&c->count[n], memory_order_relaxed);
	while (old < v &&
	       !atomic_compare_exchange_weak_explicit(&c->count[n], &old, v, memory_order_relaxed,
						      memory_order_relaxed))
		;
	return true;
}

uint64_t rfs_counts_get(struct rfs_counts *c, uint64_t n)
{
	return n < c->limit ? atomic_load_explicit(&c->count[n], memory_order_relaxed) : 0;
}

int rfs_counts_each(struct rfs_counts *c, rfs_counts_fn fn, void *ctx)
{
	off_t end = (off_t)c->map_size, at = PAGE, hole;

	/* Only the pages written hold data: the rest are holes, skipped whole. */
	while (at < end && (at = lseek(c->fd, at, SEEK_DATA)) >= 0) {
		hole = lseek(c->fd, at, SEEK_HOLE);
		if (hole < 0)
			hole = end;
		for (uint64_t n = (uint64_t)(at - PAGE) / sizeof(uint64_t);
		     n < (uint64_t)(hole - PAGE) / sizeof(uint64_t) && n < c->limit; n++) {
			uint64_t v = atomic_load_explicit(&c->count[n], memory_order_relaxed);
			int ret = v ? fn(ctx, n, v) : 0;

			if (ret)
				return ret;
		}
		at = hole;
	}
	return 0;
}
