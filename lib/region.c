/*
 * Regions: mappings whose bytes are a file of the region store (store.h),
 * a tmpfs file or a memfd.
 *
 * The store file is the one truth about a region: its size, its pages and
 * its times. Clients may change it without the daemon (FUSE passthrough),
 * so nothing about it is cached here. While nobody uses a region it costs
 * no descriptor and no mapping: the first user (rfs_mapping_open, or one
 * operation on an unopened region) opens the file, the last closes it.
 *
 * The daemon's own data path (when the kernel does not serve the region)
 * writes with pwrite, so the store applies its rules (cap, holes, size)
 * exactly as for any tmpfs file, and reads straight from a MAP_SHARED
 * mapping of the file, made on the first read. The mapping reserves address
 * space larger than the file (the next power of two), so growth is rarely a
 * remap; remapping and shrinking hold the lock exclusive, so no reply is
 * reading memory that goes away.
 *
 * Reads never fault in holes: touching a hole of shared memory through a
 * mapping allocates a page. A read whose range is not all in memory
 * (mincore: a hole, or a page swapped out) is served with pread, which
 * returns zeros for holes without allocating.
 */
#include "lib/mapping_i.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ledger.h"
#include "lib/regwin.h"
#include "lib/rwlock.h"

#define MIN_RESERVE (1ULL << 20)

struct region {
	struct rfs_mapping hdr; /* first: a region is a mapping */
	struct rfs_store *store;
	struct rfs_store_file file; /* fixed */

	/* Lock order: use_lock, then lock. */
	pthread_mutex_t use_lock;
	unsigned int users; /* opens and operations in flight; protected by use_lock */
	int fd;		    /* the store file while users > 0; protected by use_lock */
	uint64_t charged;   /* memfd store: bytes charged for it; protected by use_lock */
	/* Budgets by owner (ledger.h): the ledger its owners are counted in
	 * (NULL: none), who they are, and the bytes charged to them. All
	 * protected by use_lock. */
	struct rfs_ledger *ledger;
	uid_t uid;
	gid_t gid;
	uint64_t owned;

	pthread_rwlock_t lock; /* shared: copying from mem; exclusive: (re)mapping, shrinking */
	char *mem;	       /* protected by lock; NULL while reserve == 0 */
	uint64_t reserve;      /* bytes of address space at mem; protected by lock */

	struct rfs_regwin win; /* its windows, how its opens are served; own lock */
};

static struct region *to_region(const struct rfs_mapping *mm)
{
	return (struct region *)mm;
}

/* Take a use of the store file: m->fd is valid until put_use. */
static int get_use(struct region *m)
{
	int err = 0;

	pthread_mutex_lock(&m->use_lock);
	if (m->users == 0) {
		/* A memfd is open for life: use it as it is. */
		m->fd = m->file.fd >= 0 ? m->file.fd : rfs_store_open(m->store, &m->file);
		if (m->fd < 0) {
			err = m->fd;
			m->fd = -1;
		}
	}
	if (!err)
		m->users++;
	pthread_mutex_unlock(&m->use_lock);
	return err;
}

static void put_use(struct region *m)
{
	pthread_mutex_lock(&m->use_lock);
	if (--m->users == 0) {
		pthread_rwlock_wrlock(&m->lock);
		if (m->mem)
			munmap(m->mem, m->reserve);
		m->mem = NULL;
		m->reserve = 0;
		pthread_rwlock_unlock(&m->lock);
		if (m->fd != m->file.fd)
			close(m->fd);
		m->fd = -1;
	}
	pthread_mutex_unlock(&m->use_lock);
}

/* Make mem cover size bytes of the file. Exclusive lock held. */
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

/*
 * Might filling [off, end) allocate (the memfd store's own cap check)? A
 * file with every page allocated (pages past the end aside) has no hole, so
 * a dense file is answered from fstat: SEEK_HOLE walks every page from off
 * to the end of the file, too slow for each write of a large region.
 */
static bool may_allocate(int fd, uint64_t off, uint64_t end)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	struct stat st;
	off_t hole;

	if (fstat(fd, &st) < 0 || end > (uint64_t)st.st_size)
		return true;
	if ((uint64_t)st.st_blocks * 512 >= ((uint64_t)st.st_size + page - 1) / page * page)
		return false;
	hole = lseek(fd, (off_t)off, SEEK_HOLE);
	return hole < 0 || (uint64_t)hole < end;
}

/*
 * Are all pages of [off, off + len) of the file in memory? A hole (or a
 * page swapped out) is not: reading it through mem would allocate a page,
 * so such a read goes through pread. mincore asks only about the range, at
 * the cost of one bit per page. mem covers the range (lock held).
 */
static bool all_resident(const struct region *m, uint64_t off, size_t len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t lo = off / page * page, n = (off + len - lo + page - 1) / page;
	unsigned char small[256], *vec = n <= sizeof(small) ? small : malloc(n);
	bool all = vec && mincore(m->mem + lo, n * page, vec) == 0;

	for (uint64_t i = 0; all && i < n; i++)
		all = vec[i] & 1;
	if (vec != small)
		free(vec);
	return all;
}

/*
 * Tell those who count this region's allocation (a memfd store, the
 * owners' ledger) how it moved since the last settle. Under use_lock, so
 * concurrent writers each count their own pages.
 */
static void settle(struct region *m)
{
	bool memfd = rfs_store_kind(m->store) == RFS_STORE_MEMFD;
	struct stat st;
	uint64_t now;

	pthread_mutex_lock(&m->use_lock);
	if ((memfd || m->ledger) && fstat(m->fd, &st) == 0) {
		now = (uint64_t)st.st_blocks * 512;
		if (memfd)
			rfs_store_charge(m->store, (int64_t)(now - m->charged));
		m->charged = now;
		rfs_ledger_charge(m->ledger, m->uid, m->gid, (int64_t)(now - m->owned));
		m->owned = now;
	}
	pthread_mutex_unlock(&m->use_lock);
}

/*
 * May filling [off, off + len) take memory? Those who count it (a store
 * the kernel cannot hold to its cap, a limited owner's budget) are asked
 * first: -ENOSPC. The store file is in use.
 */
static int may_take(struct region *m, uint64_t off, uint64_t len)
{
	bool store = rfs_store_daemon_checks(m->store), owners;
	struct rfs_ledger *l;
	uid_t uid;
	gid_t gid;
	int err = 0;

	pthread_mutex_lock(&m->use_lock);
	l = m->ledger;
	uid = m->uid;
	gid = m->gid;
	pthread_mutex_unlock(&m->use_lock);
	owners = rfs_ledger_limited(l, uid, gid);
	if ((!store && !owners) || !may_allocate(m->fd, off, off + len))
		return 0;
	if (store)
		err = rfs_store_check(m->store, len);
	if (!err && owners)
		err = rfs_ledger_check(l, uid, gid, len);
	return err;
}

/* The bytes its store file has allocated. use_lock held. */
static uint64_t allocated(struct region *m)
{
	struct stat st;

	return rfs_store_stat(m->store, &m->file, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

int rfs_region_set_owner(struct rfs_mapping *mm, struct rfs_ledger *l, uid_t uid, gid_t gid)
{
	struct region *m = to_region(mm);
	uint64_t now;
	int err = 0;

	if (rfs_mapping_kind(mm) != RFS_KIND_REGION || (!l && !m->ledger))
		return 0;
	pthread_mutex_lock(&m->use_lock);
	now = allocated(m);
	rfs_ledger_charge(m->ledger, m->uid, m->gid, -(int64_t)m->owned);
	if (rfs_ledger_limited(l, uid, gid))
		err = rfs_ledger_check(l, uid, gid, now);
	if (err) {
		rfs_ledger_charge(m->ledger, m->uid, m->gid, (int64_t)m->owned);
	} else {
		m->ledger = l;
		m->uid = uid;
		m->gid = gid;
		m->owned = rfs_ledger_charge(l, uid, gid, (int64_t)now) ? 0 : now;
	}
	pthread_mutex_unlock(&m->use_lock);
	return err;
}

void rfs_region_recount(struct rfs_mapping *mm, struct rfs_ledger *l, uid_t uid, gid_t gid)
{
	struct region *m = to_region(mm);

	if (rfs_mapping_kind(mm) != RFS_KIND_REGION)
		return;
	pthread_mutex_lock(&m->use_lock);
	m->ledger = l;
	m->uid = uid;
	m->gid = gid;
	m->owned = l ? allocated(m) : 0;
	if (rfs_ledger_charge(l, uid, gid, (int64_t)m->owned))
		m->owned = 0;
	pthread_mutex_unlock(&m->use_lock);
}

bool rfs_region_counted(struct rfs_mapping *mm)
{
	struct region *m = to_region(mm);
	struct rfs_ledger *l;
	uid_t uid;
	gid_t gid;

	if (rfs_mapping_kind(mm) != RFS_KIND_REGION)
		return false;
	pthread_mutex_lock(&m->use_lock);
	l = m->ledger;
	uid = m->uid;
	gid = m->gid;
	pthread_mutex_unlock(&m->use_lock);
	return rfs_ledger_limited(l, uid, gid);
}

static const struct rfs_mapping_ops region_ops;
static void region_read_end(struct rfs_mapping *mm, struct rfs_io *io);

/* A region of file id of store (0: a new file). */
static int region_make(struct rfs_store *store, uint64_t id, struct rfs_mapping **out)
{
	struct region *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	err = id ? rfs_store_adopt(store, id, &m->file) : rfs_store_create(store, &m->file);
	if (err) {
		free(m);
		return err;
	}
	rfs_mapping_init(&m->hdr, &region_ops, RFS_KIND_REGION);
	rfs_store_hold(store);
	m->store = store;
	m->fd = -1;
	pthread_mutex_init(&m->use_lock, NULL);
	rfs_rwlock_init(&m->lock);
	rfs_regwin_init(&m->win);
	*out = &m->hdr;
	return 0;
}

int rfs_region_new(struct rfs_store *store, struct rfs_mapping **out)
{
	return region_make(store, 0, out);
}

int rfs_region_adopt(struct rfs_store *store, uint64_t id, struct rfs_mapping **out)
{
	return id ? region_make(store, id, out) : -EINVAL;
}

uint64_t rfs_region_file(const struct rfs_mapping *mm)
{
	return rfs_mapping_kind(mm) == RFS_KIND_REGION ? to_region(mm)->file.id : 0;
}

static uint64_t region_file(const struct rfs_mapping *mm)
{
	return to_region(mm)->file.id;
}

bool rfs_region_kept(const struct rfs_mapping *mm)
{
	return rfs_mapping_kind(mm) == RFS_KIND_REGION && to_region(mm)->file.kept;
}

struct rfs_store *rfs_region_store(const struct rfs_mapping *mm)
{
	return rfs_mapping_kind(mm) == RFS_KIND_REGION ? to_region(mm)->store : NULL;
}

static void region_free(struct rfs_mapping *mm)
{
	struct region *m = to_region(mm);

	/* Nothing uses it any more: no descriptor, no mapping. */
	rfs_store_charge(m->store, -(int64_t)m->charged);
	rfs_ledger_charge(m->ledger, m->uid, m->gid, -(int64_t)m->owned);
	rfs_store_remove(m->store, &m->file);
	rfs_store_free(m->store);
	rfs_regwin_destroy(&m->win);
	pthread_rwlock_destroy(&m->lock);
	pthread_mutex_destroy(&m->use_lock);
	free(m);
}

static int region_stat(const struct rfs_mapping *mm, struct stat *st)
{
	struct region *m = to_region(mm);

	return rfs_store_stat(m->store, &m->file, st);
}

static uint64_t region_size(const struct rfs_mapping *mm)
{
	struct stat st;

	return region_stat(mm, &st) ? 0 : (uint64_t)st.st_size;
}

static uint64_t region_allocated(const struct rfs_mapping *mm)
{
	struct stat st;

	return region_stat(mm, &st) ? 0 : (uint64_t)st.st_blocks * 512;
}

static int region_open(struct rfs_mapping *mm)
{
	return get_use(to_region(mm));
}

static void region_close(struct rfs_mapping *mm)
{
	put_use(to_region(mm));
}

static int region_backing_fd(struct rfs_mapping *mm)
{
	struct region *m = to_region(mm);

	return rfs_store_open(m->store, &m->file);
}

static int region_set_times(struct rfs_mapping *mm, const struct timespec times[2])
{
	struct region *m = to_region(mm);

	return rfs_store_set_times(m->store, &m->file, times);
}

static int region_set_noatime(struct rfs_mapping *mm, bool on)
{
	struct region *m = to_region(mm);

	return rfs_store_set_noatime(m->store, &m->file, on);
}

/* pread until len bytes or the end of the file; *got says how many came. */
static int pread_all(int fd, char *buf, size_t len, uint64_t off, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t r = pread(fd, buf + *got, len - *got, (off_t)(off + *got));

		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

/* Read [off, off + len) into a private buffer: holes read as zeros. */
static int read_bounce(struct region *m, uint64_t off, size_t len, struct rfs_io *io)
{
	size_t got;
	int err;

	io->bounce = malloc(len);
	if (!io->bounce)
		return -ENOMEM;
	err = pread_all(m->fd, io->bounce, len, off, &got);
	if (err)
		return err;
	/* Shrunk meanwhile: the rest reads as zeros. */
	memset((char *)io->bounce + got, 0, len - got);
	io->iov[0].iov_base = io->bounce;
	return 0;
}

static int region_read_begin(struct rfs_mapping *mm, uint64_t off, size_t len, struct rfs_io *io)
{
	struct region *m = to_region(mm);
	struct stat st;
	int err = get_use(m);

	if (err)
		return err;
	pthread_rwlock_rdlock(&m->lock);
	if (fstat(m->fd, &st) < 0) {
		err = -errno;
		goto out_err;
	}
	if (off >= (uint64_t)st.st_size || len == 0)
		return 0;
	if (len > (uint64_t)st.st_size - off)
		len = (size_t)((uint64_t)st.st_size - off);
	io->n = 1;
	io->len = len;
	io->iov[0].iov_len = len;
	if (off + len > m->reserve) {
		/* Map (more of) the file: the lock exclusive for a moment. */
		pthread_rwlock_unlock(&m->lock);
		pthread_rwlock_wrlock(&m->lock);
		err = reserve(m, (uint64_t)st.st_size);
		pthread_rwlock_unlock(&m->lock);
		pthread_rwlock_rdlock(&m->lock);
		if (!err && off + len > m->reserve)
			err = -EAGAIN;
		if (err)
			goto out_err;
	}
	if (!all_resident(m, off, len)) {
		err = read_bounce(m, off, len, io);
		if (err)
			goto out_err;
		return 0;
	}
	io->iov[0].iov_base = m->mem + off;
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
	put_use(m);
}

static void region_changing(struct rfs_mapping *mm, uint64_t off, uint64_t len)
{
	rfs_regwin_changed(&to_region(mm)->win, mm, off, len);
}

/* pread of the store file: no mapping touched, holes read as zeros. */
static ssize_t region_read_into(struct rfs_mapping *mm, void *buf, size_t len, uint64_t off)
{
	struct region *m = to_region(mm);
	size_t got;
	int err = get_use(m);

	if (err)
		return err;
	err = pread_all(m->fd, buf, len, off, &got);
	put_use(m);
	return got ? (ssize_t)got : err;
}

static ssize_t region_write(struct rfs_mapping *mm, const void *buf, size_t len, uint64_t off)
{
	struct region *m = to_region(mm);
	ssize_t n = 0;
	int err;

	/* mapping.c has refused empty and overflowing ranges. */
	if (off + len > RFS_REGION_MAX)
		return -EFBIG;
	err = get_use(m);
	if (err)
		return err;
	/* Only filling holes costs. */
	n = may_take(m, off, len);
	if (n == 0) {
		n = pwrite(m->fd, buf, len, (off_t)off);
		if (n < 0)
			n = -errno;
	}
	settle(m);
	put_use(m);
	if (n > 0)
		rfs_regwin_changed(&m->win, mm, off, (uint64_t)n);
	return n;
}

static int region_resize(struct rfs_mapping *mm, uint64_t size)
{
	struct region *m = to_region(mm);
	struct stat st = {0};
	int err;

	if (size > RFS_REGION_MAX)
		return -EFBIG;
	err = get_use(m);
	if (err)
		return err;
	/* Exclusive: a reply copying from the cut-off range would fault. */
	pthread_rwlock_wrlock(&m->lock);
	fstat(m->fd, &st);
	if (ftruncate(m->fd, (off_t)size) < 0)
		err = -errno;
	pthread_rwlock_unlock(&m->lock);
	settle(m);
	put_use(m);
	/* Windows over the bytes cut off or added. */
	if (!err && (uint64_t)st.st_size < size)
		rfs_regwin_changed(&m->win, mm, (uint64_t)st.st_size, size - (uint64_t)st.st_size);
	else if (!err)
		rfs_regwin_changed(&m->win, mm, size, (uint64_t)st.st_size - size);
	return err;
}

static int region_fallocate(struct rfs_mapping *mm, int mode, uint64_t off, uint64_t len)
{
	struct region *m = to_region(mm);
	int err;

	if (off + len > RFS_REGION_MAX)
		return -EFBIG;
	err = get_use(m);
	if (err)
		return err;
	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		err = may_take(m, off, len);
	pthread_rwlock_wrlock(&m->lock);
	if (!err && fallocate(m->fd, mode, (off_t)off, (off_t)len) < 0)
		err = -errno;
	pthread_rwlock_unlock(&m->lock);
	settle(m);
	put_use(m);
	/* A punched hole reads as zeros; an allocation may bring back bytes
	 * a shrink took from a window. */
	if (!err)
		rfs_regwin_changed(&m->win, mm, off, len);
	return err;
}

static off_t region_seek(struct rfs_mapping *mm, off_t off, int whence)
{
	struct region *m = to_region(mm);
	off_t r;
	int err = get_use(m);

	if (err)
		return err;
	r = lseek(m->fd, off, whence);
	if (r < 0)
		r = -errno;
	put_use(m);
	return r;
}

static int region_sync(struct rfs_mapping *mm, bool durable)
{
	(void)mm;
	(void)durable;
	return 0; /* memory is the backing store */
}

static struct rfs_regwin *region_regwin(struct rfs_mapping *mm)
{
	return &to_region(mm)->win;
}

static const struct rfs_mapping_ops region_ops = {
	.size = region_size,
	.allocated = region_allocated,
	.stat = region_stat,
	.open = region_open,
	.close = region_close,
	.backing_fd = region_backing_fd,
	.set_times = region_set_times,
	.set_noatime = region_set_noatime,
	.read_begin = region_read_begin,
	.read_end = region_read_end,
	.read_into = region_read_into,
	.changing = region_changing,
	.write = region_write,
	.resize = region_resize,
	.fallocate = region_fallocate,
	.seek = region_seek,
	.sync = region_sync,
	.regwin = region_regwin,
	.file = region_file,
	.free = region_free,
};
