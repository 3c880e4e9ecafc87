/* Slots (slots.h): records in a mapped memfd, named by index and generation. */
#include "lib/slots.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/memfd.h"

#define MAGIC	   0x73746f6c73736672ULL /* "rfsslots" */
#define INDEX_BITS 32
#define INDEX_MASK ((1ULL << INDEX_BITS) - 1)

/* At the start of the memfd; the slots follow it. */
struct header {
	uint64_t magic;
	uint32_t version;
	uint32_t size;	       /* of a record, as asked */
	uint64_t capacity;     /* slots */
	_Atomic uint64_t high; /* slots ever used: every live one is below */
};

/* A slot: its state (generation << 1, | 1 while live), then the record. */
struct slot {
	_Atomic uint64_t state;
	unsigned char rec[];
};

struct rfs_slots {
	int fd;
	struct header *h;
	size_t map_size, stride;
	void **mine; /* this process's pointers, by index */
	size_t mine_size;
	pthread_mutex_t lock; /* guards free and nfree, and every slot's state changes */
	uint32_t *free;	      /* indices below high, free */
	uint64_t nfree;
	_Atomic uint64_t live;
};

static size_t stride_of(size_t size)
{
	return sizeof(struct slot) + (size + 7) / 8 * 8;
}

static struct slot *slot_at(const struct rfs_slots *s, uint64_t i)
{
	return (struct slot *)((unsigned char *)(s->h + 1) + i * s->stride);
}

static void *map_anon(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Map fd as a table of records of size; rebuild the free list. */
static int map(int fd, size_t size, struct rfs_slots **out)
{
	struct rfs_slots *s = calloc(1, sizeof(*s));
	struct header h;
	struct stat st;
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->stride = stride_of(size);
	if (fstat(fd, &st) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != MAGIC || h.version != RFS_SLOTS_VERSION || h.size != size || !h.capacity ||
	    h.capacity > INDEX_MASK || (uint64_t)st.st_size != sizeof(h) + h.capacity * s->stride ||
	    h.high > h.capacity) {
		free(s);
		return -EPROTO;
	}
	s->map_size = (size_t)st.st_size;
	s->mine_size = h.capacity * sizeof(void *);
	s->h = mmap(NULL, s->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	s->mine = map_anon(s->mine_size);
	s->free = map_anon(h.capacity * sizeof(uint32_t));
	if (s->h == MAP_FAILED || !s->mine || !s->free) {
		if (s->h != MAP_FAILED)
			munmap(s->h, s->map_size);
		if (s->mine)
			munmap(s->mine, s->mine_size);
		if (s->free)
			munmap(s->free, h.capacity * sizeof(uint32_t));
		free(s);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	rfs_slots_rescan(s);
	*out = s;
	return 0;
}

int rfs_slots_rescan(struct rfs_slots *s)
{
	uint64_t high = atomic_load(&s->h->high), live = 0;

	pthread_mutex_lock(&s->lock);
	s->nfree = 0;
	/* Freed last, used first: the free list is a stack. */
	for (uint64_t i = high; i-- > 0;) {
		atomic_store_explicit(&s->mine[i], NULL, memory_order_relaxed);
		if (atomic_load(&slot_at(s, i)->state) & 1)
			live++;
		else
			s->free[s->nfree++] = (uint32_t)i;
	}
	atomic_store(&s->live, live);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int rfs_slots_new(size_t size, uint64_t capacity, struct rfs_slots **out)
{
	struct header h = {.magic = MAGIC, .version = RFS_SLOTS_VERSION, .size = (uint32_t)size};
	int fd, err;

	if (!capacity || capacity > INDEX_MASK || size > UINT32_MAX)
		return -EINVAL;
	h.capacity = capacity;
	fd = rfs_memfd_new("regionfs-slots", sizeof(h) + capacity * stride_of(size), &h, sizeof(h));
	err = fd < 0 ? fd : map(fd, size, out);
	if (err && fd >= 0)
		close(fd);
	return err;
}

int rfs_slots_open(int fd, size_t size, struct rfs_slots **out)
{
	int copy = rfs_memfd_dup(fd);
	int err = copy < 0 ? copy : map(copy, size, out);

	if (err && copy >= 0)
		close(copy);
	return err;
}

void rfs_slots_free(struct rfs_slots *s)
{
	if (!s)
		return;
	munmap(s->free, s->h->capacity * sizeof(uint32_t));
	munmap(s->h, s->map_size);
	munmap(s->mine, s->mine_size);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int rfs_slots_fd(const struct rfs_slots *s)
{
	return s->fd;
}

uint64_t rfs_slots_live(struct rfs_slots *s)
{
	return atomic_load(&s->live);
}

int rfs_slots_add(struct rfs_slots *s, const void *rec, void *mine, uint64_t *handle)
{
	uint64_t i, gen;
	struct slot *sl;

	pthread_mutex_lock(&s->lock);
	if (s->nfree) {
		i = s->free[--s->nfree];
	} else if ((i = atomic_load(&s->h->high)) < s->h->capacity) {
		atomic_store(&s->h->high, i + 1);
	} else {
		pthread_mutex_unlock(&s->lock);
		return -ENOSPC;
	}
	sl = slot_at(s, i);
	gen = (atomic_load(&sl->state) >> 1) + 1;
	gen &= INDEX_MASK;
	if (!gen)
		gen = 1; /* a handle is never 0 */
	memcpy(sl->rec, rec, s->h->size);
	atomic_store_explicit(&s->mine[i], mine, memory_order_relaxed);
	/* Published: a process killed before this store left the slot free. */
	atomic_store_explicit(&sl->state, gen << 1 | 1, memory_order_release);
	atomic_fetch_add(&s->live, 1);
	pthread_mutex_unlock(&s->lock);
	*handle = gen << INDEX_BITS | i;
	return 0;
}

/* The live slot handle names, or NULL. */
static struct slot *live_slot(struct rfs_slots *s, uint64_t handle, uint64_t *index)
{
	uint64_t i = handle & INDEX_MASK, gen = handle >> INDEX_BITS;
	struct slot *sl;

	if (!gen || i >= atomic_load_explicit(&s->h->high, memory_order_acquire))
		return NULL;
	sl = slot_at(s, i);
	if (atomic_load_explicit(&sl->state, memory_order_acquire) != (gen << 1 | 1))
		return NULL;
	*index = i;
	return sl;
}

void *rfs_slots_get(struct rfs_slots *s, uint64_t handle, void **mine)
{
	uint64_t i;
	struct slot *sl = live_slot(s, handle, &i);

	if (mine)
		*mine = sl ? atomic_load_explicit(&s->mine[i], memory_order_relaxed) : NULL;
	return sl ? sl->rec : NULL;
}

void rfs_slots_set_mine(struct rfs_slots *s, uint64_t handle, void *mine)
{
	uint64_t i;

	if (live_slot(s, handle, &i))
		atomic_store_explicit(&s->mine[i], mine, memory_order_release);
}

int rfs_slots_remove(struct rfs_slots *s, uint64_t handle)
{
	struct slot *sl;
	uint64_t i;
	int err = -ENOENT;

	pthread_mutex_lock(&s->lock);
	sl = live_slot(s, handle, &i);
	if (sl) {
		atomic_store_explicit(&sl->state, (handle >> INDEX_BITS) << 1,
				      memory_order_release);
		atomic_store_explicit(&s->mine[i], NULL, memory_order_relaxed);
		s->free[s->nfree++] = (uint32_t)i;
		atomic_fetch_sub(&s->live, 1);
		err = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int rfs_slots_each(struct rfs_slots *s, rfs_slots_fn fn, void *ctx)
{
	uint64_t high = atomic_load(&s->h->high);

	for (uint64_t i = 0; i < high; i++) {
		struct slot *sl = slot_at(s, i);
		uint64_t st = atomic_load_explicit(&sl->state, memory_order_acquire);
		int ret;

		if (!(st & 1))
			continue;
		ret = fn(ctx, (st >> 1) << INDEX_BITS | i, sl->rec);
		if (ret)
			return ret;
	}
	return 0;
}
