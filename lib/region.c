/*
 * Regions: mappings backed by anonymous shared memory (memfd).
 *
 * The memfd is mapped MAP_SHARED into one range of address space reserved
 * larger than the region (the next power of two), so growing within the
 * reservation is only an ftruncate; growing past it remaps, which the
 * exclusive lock makes safe (no request is between read_begin and
 * read_end or inside a write then).
 *
 * Accounting (see account.h) charges allocated pages. A region whose
 * allocation equals its page-rounded size is "dense": every page is backed,
 * so the charge of any write is known without asking the kernel. Other
 * regions charge a write's worst case up front, then settle against the
 * kernel's count (fstat st_blocks) once the pages exist.
 *
 * Reads never fault in holes: touching a hole of shared memory through a
 * mapping allocates a page, which would charge readers for memory nobody
 * wrote. A read whose range has a hole is served with pread, which returns
 * zeros without allocating.
 */
#include "lib/mapping_i.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/guard.h"
#include "lib/rwlock.h"

#define MIN_RESERVE (1ULL << 20)

struct region {
	struct rfs_mapping hdr; /* first: a region is a mapping */
	struct rfs_account *acct;
	uint64_t page;
	int fd; /* the memfd; fixed */

	/* Lock order: lock, then alloc_lock. */
	pthread_rwlock_t lock;
	char *mem;	  /* protected by lock; NULL while reserve == 0 */
	uint64_t reserve; /* bytes of address space at mem; protected by lock */
	/* Changed only with lock held exclusive, so stable under a shared lock. */
	_Atomic uint64_t size;

	/* Bytes charged to acct for this region. Changed with lock held
	 * exclusive, or shared together with alloc_lock. */
	pthread_mutex_t alloc_lock;
	_Atomic uint64_t alloc;
	/* Pages were allocated past the end (fallocate KEEP_SIZE): alloc no
	 * longer says which pages inside the size are backed. Set with lock
	 * held exclusive; never cleared. */
	bool ragged;
};

static struct region *to_region(const struct rfs_mapping *mm)
{
	return (struct region *)mm;
}

static uint64_t round_up(uint64_t x, uint64_t page)
{
	return (x + page - 1) & ~(page - 1);
}

static uint64_t round_down(uint64_t x, uint64_t page)
{
	return x & ~(page - 1);
}

static bool is_dense(const struct region *m)
{
	return !m->ragged && atomic_load(&m->alloc) == round_up(atomic_load(&m->size), m->page);
}

/* Pages the kernel has allocated for the memfd, in bytes. */
static uint64_t measured_alloc(const struct region *m)
{
	struct stat st;

	if (fstat(m->fd, &st) < 0)
		return atomic_load(&m->alloc);
	return (uint64_t)st.st_blocks * 512;
}

/*
 * Replace the charge for this region with the kernel's count, giving back
 * the `reserved` bytes charged up front for the operation just done.
 */
static void settle(struct region *m, uint64_t reserved)
{
	uint64_t before, now;

	pthread_mutex_lock(&m->alloc_lock);
	now = measured_alloc(m);
	before = atomic_exchange(&m->alloc, now);
	pthread_mutex_unlock(&m->alloc_lock);

	if (now >= before && now - before >= reserved)
		atomic_fetch_add(&m->acct->used, now - before - reserved);
	else
		rfs_account_release(m->acct, reserved + before - now);
}

/* Bytes of holes in [lo, hi), from the kernel's map of the memfd. */
static uint64_t holes_in(const struct region *m, uint64_t lo, uint64_t hi)
{
	uint64_t holes = 0;
	off_t pos = (off_t)lo;

	while ((uint64_t)pos < hi) {
		off_t hole = lseek(m->fd, pos, SEEK_HOLE);
		off_t data;

		if (hole < 0 || (uint64_t)hole >= hi)
			break;
		data = lseek(m->fd, hole, SEEK_DATA);
		if (data < 0 || (uint64_t)data > hi)
			data = (off_t)hi;
		holes += (uint64_t)(data - hole);
		pos = data;
	}
	return holes;
}

/*
 * Charge what touching the pages of [off, end) may allocate. Returns the
 * bytes charged (to be settled) or -ENOSPC. *exact tells whether the charge
 * is exact, in which case no settling is needed.
 */
static int64_t charge_touch(struct region *m, uint64_t off, uint64_t end, bool *exact)
{
	uint64_t lo = round_down(off, m->page), hi = round_up(end, m->page);
	uint64_t full = round_up(atomic_load(&m->size), m->page);
	uint64_t need;

	*exact = is_dense(m);
	if (*exact) {
		need = hi > full ? hi - (lo > full ? lo : full) : 0;
		if (need && rfs_account_charge(m->acct, need))
			return -ENOSPC;
		atomic_fetch_add(&m->alloc, need);
		return (int64_t)need;
	}
	need = hi - lo;
	if (rfs_account_charge(m->acct, need) == 0)
		return (int64_t)need;
	/* Near the cap: count the holes really being filled. */
	need = holes_in(m, lo, hi < full ? hi : full) +
	       (hi > full ? hi - (lo > full ? lo : full) : 0);
	if (rfs_account_charge(m->acct, need))
		return -ENOSPC;
	return (int64_t)need;
}

/* Make the address-space reservation cover size bytes. Exclusive lock held. */
static int reserve(struct region *m, uint64_t size)
{
	uint64_t want = MIN_RESERVE;
	void *p;

	if (size <= m->reserve)
		return 0;
	while (want < size)
		want <<= 1;
	if (m->mem)
		p = mremap(m->mem, m->reserve, want, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m->fd, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	m->mem = p;
	m->reserve = want;
	return 0;
}

/* Set the memfd's size. Exclusive lock held. */
static int set_size(struct region *m, uint64_t size)
{
	uint64_t old = atomic_load(&m->size);
	int err;

	if (size > RFS_REGION_MAX)
		return -EFBIG;
	err = reserve(m, size);
	if (err)
		return err;
	if (ftruncate(m->fd, (off_t)size) < 0)
		return -errno;
	atomic_store(&m->size, size);
	if (size < old)
		settle(m, 0);
	return 0;
}

static const struct rfs_mapping_ops region_ops;
static void region_read_end(struct rfs_mapping *mm, struct rfs_io *io);

struct rfs_mapping *rfs_region_new(struct rfs_account *acct)
{
	struct region *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	rfs_mapping_init(&m->hdr, &region_ops, RFS_KIND_REGION);
	m->acct = acct;
	m->page = (uint64_t)sysconf(_SC_PAGESIZE);
	m->fd = memfd_create("regionfs", MFD_CLOEXEC);
	if (m->fd < 0) {
		free(m);
		return NULL;
	}
	rfs_rwlock_init(&m->lock);
	pthread_mutex_init(&m->alloc_lock, NULL);
	return &m->hdr;
}

static void region_free(struct rfs_mapping *mm)
{
	struct region *m = to_region(mm);

	if (m->mem)
		munmap(m->mem, m->reserve);
	close(m->fd);
	rfs_account_release(m->acct, atomic_load(&m->alloc));
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->alloc_lock);
	free(m);
}

static uint64_t region_size(const struct rfs_mapping *mm)
{
	struct region *m = to_region(mm);
	return atomic_load(&m->size);
}

static uint64_t region_allocated(const struct rfs_mapping *mm)
{
	struct region *m = to_region(mm);
	return atomic_load(&m->alloc);
}

static int region_read_begin(struct rfs_mapping *mm, uint64_t off, size_t len, struct rfs_io *io)
{
	struct region *m = to_region(mm);
	uint64_t size;
	ssize_t got = 0;
	int err;

	pthread_rwlock_rdlock(&m->lock);
	size = atomic_load(&m->size);
	if (off >= size || len == 0)
		return 0;
	if (len > size - off)
		len = size - off;
	io->n = 1;
	io->len = len;
	if (is_dense(m) || holes_in(m, off, off + len) == 0) {
		io->iov[0].iov_base = m->mem + off;
		io->iov[0].iov_len = len;
		return 0;
	}
	io->bounce = malloc(len);
	if (!io->bounce) {
		err = -ENOMEM;
		goto out_err;
	}
	while ((size_t)got < len) {
		ssize_t r = pread(m->fd, (char *)io->bounce + got, len - got, (off_t)off + got);

		if (r <= 0) {
			err = r < 0 ? -errno : -EIO;
			goto out_err;
		}
		got += r;
	}
	io->iov[0].iov_base = io->bounce;
	io->iov[0].iov_len = len;
	return 0;
out_err:
	region_read_end(&m->hdr, io);
	return err;
}

static void region_read_end(struct rfs_mapping *mm, struct rfs_io *io)
{
	struct region *m = to_region(mm);
	free(io->bounce);
	io->bounce = NULL;
	pthread_rwlock_unlock(&m->lock);
}

static ssize_t region_write(struct rfs_mapping *mm, const void *buf, size_t len, uint64_t off)
{
	struct region *m = to_region(mm);
	uint64_t end = off + len;
	int64_t charged;
	bool exact, exclusive = false;
	int err;

	/* mapping.c has refused empty and overflowing ranges. */
	if (end > RFS_REGION_MAX)
		return -EFBIG;

	pthread_rwlock_rdlock(&m->lock);
	if (end > atomic_load(&m->size)) {
		/* Extending: resize needs the lock exclusive. */
		pthread_rwlock_unlock(&m->lock);
		pthread_rwlock_wrlock(&m->lock);
		exclusive = true;
	}
	charged = charge_touch(m, off, end, &exact);
	if (charged < 0) {
		err = (int)charged;
		goto out_unlock;
	}
	if (exclusive && end > atomic_load(&m->size)) {
		err = set_size(m, end);
		if (err)
			goto out_uncharge;
	}
	err = rfs_guarded_copy(m->mem + off, buf, len, m->mem + off, len);
	if (err)
		err = -ENOSPC; /* shared memory could not be allocated */
	if (!exact || err)
		settle(m, exact ? 0 : (uint64_t)charged);
	pthread_rwlock_unlock(&m->lock);
	return err ? err : (ssize_t)len;

out_uncharge:
	if (exact)
		atomic_fetch_sub(&m->alloc, (uint64_t)charged);
	rfs_account_release(m->acct, (uint64_t)charged);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int region_resize(struct rfs_mapping *mm, uint64_t size)
{
	struct region *m = to_region(mm);
	int err;

	pthread_rwlock_wrlock(&m->lock);
	err = set_size(m, size);
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static int region_fallocate(struct rfs_mapping *mm, int mode, uint64_t off, uint64_t len)
{
	struct region *m = to_region(mm);
	uint64_t end = off + len;
	int64_t charged = 0;
	bool exact;
	int err = 0;

	if (end > RFS_REGION_MAX)
		return -EFBIG;
	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;

	pthread_rwlock_wrlock(&m->lock);
	if (!(mode & FALLOC_FL_PUNCH_HOLE)) {
		charged = charge_touch(m, off, end, &exact);
		if (charged < 0) {
			err = (int)charged;
			goto out_unlock;
		}
		/* Settle below whatever the path: KEEP_SIZE past EOF breaks density. */
		if (exact)
			atomic_fetch_sub(&m->alloc, (uint64_t)charged);
		if (mode == 0 && end > atomic_load(&m->size))
			err = reserve(m, end);
	}
	if (!err && fallocate(m->fd, mode, (off_t)off, (off_t)len) < 0)
		err = -errno;
	if (!err && mode == 0 && end > atomic_load(&m->size))
		atomic_store(&m->size, end);
	if (!err && mode == FALLOC_FL_KEEP_SIZE && end > atomic_load(&m->size))
		m->ragged = true;
	settle(m, (uint64_t)charged);
out_unlock:
	pthread_rwlock_unlock(&m->lock);
	return err;
}

static off_t region_seek(struct rfs_mapping *mm, off_t off, int whence)
{
	struct region *m = to_region(mm);
	off_t r;

	pthread_rwlock_rdlock(&m->lock);
	r = lseek(m->fd, off, whence);
	pthread_rwlock_unlock(&m->lock);
	return r < 0 ? -errno : r;
}

static int region_sync(struct rfs_mapping *mm, bool durable)
{
	struct region *m = to_region(mm);
	(void)m;
	(void)durable;
	return 0; /* memory is the backing store */
}

static const struct rfs_mapping_ops region_ops = {
	.size = region_size,
	.allocated = region_allocated,
	.read_begin = region_read_begin,
	.read_end = region_read_end,
	.write = region_write,
	.resize = region_resize,
	.fallocate = region_fallocate,
	.seek = region_seek,
	.sync = region_sync,
	.free = region_free,
};
