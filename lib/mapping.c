/* The kind-independent face of mappings: dispatch to the kind's operations. */
#include "lib/mapping_i.h"

#include "lib/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>

static void put(struct rfs_mapping *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		m->ops->free(m);
}

void rfs_mapping_init(struct rfs_mapping *m, const struct rfs_mapping_ops *ops, enum rfs_kind kind)
{
	m->ops = ops;
	m->kind = kind;
	atomic_init(&m->refs, 1);
}

void rfs_mapping_hold(struct rfs_mapping *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
}

void rfs_mapping_free(struct rfs_mapping *m)
{
	if (m)
		put(m);
}

enum rfs_kind rfs_mapping_kind(const struct rfs_mapping *m)
{
	return m->kind;
}

bool rfs_mapping_read_only(const struct rfs_mapping *m)
{
	return m->read_only;
}

bool rfs_mapping_cow(const struct rfs_mapping *m)
{
	return m->cow;
}

void rfs_mapping_set_owner(struct rfs_mapping *m, void *owner)
{
	m->owner = owner;
}

void *rfs_mapping_owner(const struct rfs_mapping *m)
{
	return m->owner;
}

uint64_t rfs_mapping_size(const struct rfs_mapping *m)
{
	return m->ops->size(m);
}

uint64_t rfs_mapping_allocated(const struct rfs_mapping *m)
{
	return m->ops->allocated(m);
}

void rfs_mapping_describe(const struct rfs_mapping *m, struct rfs_mapping_info *info)
{
	memset(info, 0, sizeof(*info));
	info->kind = m->kind;
	if (m->ops->stat) {
		/* One stat of a region's store file answers both. */
		struct stat st;

		if (m->ops->stat(m, &st) == 0) {
			info->size = (uint64_t)st.st_size;
			info->allocated = (uint64_t)st.st_blocks * 512;
		}
	} else {
		info->size = m->ops->size(m);
		info->allocated = m->ops->allocated(m);
	}
	info->resident = info->allocated;
	if (m->ops->describe)
		m->ops->describe(m, info);
}

int rfs_mapping_read_begin(struct rfs_mapping *m, uint64_t off, size_t len, struct rfs_io *io)
{
	int err;

	memset(io, 0, sizeof(*io));
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	err = m->ops->read_begin(m, off, len, io);
	if (err)
		put(m);
	return err;
}

void rfs_mapping_read_end(struct rfs_mapping *m, struct rfs_io *io)
{
	m->ops->read_end(m, io);
	put(m);
}

void rfs_mapping_changing(struct rfs_mapping *m, uint64_t off, uint64_t len)
{
	if (m->ops->changing && len && off + len > off)
		m->ops->changing(m, off, len);
}

uint64_t rfs_mapping_file(const struct rfs_mapping *m)
{
	return m->ops->file ? m->ops->file(m) : 0;
}

ssize_t rfs_mapping_read_into(struct rfs_mapping *m, void *buf, size_t len, uint64_t off)
{
	struct rfs_io io;
	size_t done = 0;
	int err;

	if (m->ops->read_into)
		return m->ops->read_into(m, buf, len, off);
	err = rfs_mapping_read_begin(m, off, len, &io);
	if (err)
		return err;
	for (int i = 0; i < io.n && !err; i++) {
		err = rfs_guarded_copy((char *)buf + done, io.iov[i].iov_base, io.iov[i].iov_len,
				       io.iov[i].iov_base, io.iov[i].iov_len);
		done += io.iov[i].iov_len;
	}
	rfs_mapping_read_end(m, &io);
	return err ? err : (ssize_t)done;
}

int rfs_mapping_seal(struct rfs_mapping *m, unsigned int seals)
{
	if (m->kind != RFS_KIND_REGION || (seals & ~(unsigned)RFS_SEALS_ALL))
		return -EINVAL;
	atomic_fetch_or(&m->seals, seals);
	return 0;
}

unsigned int rfs_mapping_seals(const struct rfs_mapping *m)
{
	return atomic_load_explicit(&m->seals, memory_order_acquire);
}

bool rfs_mapping_refuses_writers(const struct rfs_mapping *m)
{
	return rfs_mapping_seals(m) & RFS_SEALS_AGAINST_WRITES;
}

/* May [off, off + len) be written, given the seals that apply (refuse)? */
static int seals_allow_write(const struct rfs_mapping *m, unsigned int refuse, uint64_t off,
			     uint64_t len)
{
	unsigned int seals = rfs_mapping_seals(m);

	if (seals & refuse)
		return -EPERM;
	if ((seals & RFS_SEAL_GROW) && off + len > rfs_mapping_size(m))
		return -EPERM;
	return 0;
}

static ssize_t write_sealed(struct rfs_mapping *m, unsigned int refuse, const void *buf, size_t len,
			    uint64_t off)
{
	int err;

	if (len == 0)
		return 0;
	if (off + len < off)
		return -EFBIG;
	err = seals_allow_write(m, refuse, off, len);
	return err ? err : m->ops->write(m, buf, len, off);
}

ssize_t rfs_mapping_write(struct rfs_mapping *m, const void *buf, size_t len, uint64_t off)
{
	return write_sealed(m, RFS_SEALS_AGAINST_WRITES, buf, len, off);
}

ssize_t rfs_mapping_write_back(struct rfs_mapping *m, const void *buf, size_t len, uint64_t off)
{
	return write_sealed(m, RFS_SEAL_WRITE, buf, len, off);
}

int rfs_mapping_resize(struct rfs_mapping *m, uint64_t size)
{
	unsigned int seals = rfs_mapping_seals(m);
	uint64_t now = seals ? rfs_mapping_size(m) : 0;

	if (((seals & RFS_SEAL_GROW) && size > now) || ((seals & RFS_SEAL_SHRINK) && size < now))
		return -EPERM;
	return m->ops->resize(m, size);
}

int rfs_mapping_fallocate(struct rfs_mapping *m, int mode, uint64_t off, uint64_t len)
{
	unsigned int seals = rfs_mapping_seals(m);

	if (len == 0)
		return -EINVAL;
	if (off + len < off)
		return -EFBIG;
	/* As shmem: a punch is a write; allocating past the end grows. */
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (seals & RFS_SEALS_AGAINST_WRITES)
			return -EPERM;
	} else if ((seals & RFS_SEAL_GROW) && off + len > rfs_mapping_size(m)) {
		return -EPERM;
	}
	return m->ops->fallocate(m, mode, off, len);
}

off_t rfs_mapping_seek(struct rfs_mapping *m, off_t off, int whence)
{
	if (off < 0)
		return -ENXIO;
	return m->ops->seek(m, off, whence);
}

int rfs_mapping_sync(struct rfs_mapping *m, bool durable)
{
	return m->ops->sync(m, durable);
}

bool rfs_mapping_backing_deleted(struct rfs_mapping *m, bool *first)
{
	*first = false;
	return m->ops->backing_deleted ? m->ops->backing_deleted(m, first) : false;
}

int rfs_mapping_commit(struct rfs_mapping *m)
{
	return m->cow ? m->ops->commit(m) : -EINVAL;
}

int rfs_mapping_discard(struct rfs_mapping *m)
{
	return m->cow ? m->ops->discard(m) : -EINVAL;
}

bool rfs_mapping_stale(struct rfs_mapping *m)
{
	return m->ops->stale ? m->ops->stale(m) : false;
}

int rfs_mapping_stat(const struct rfs_mapping *m, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	if (m->ops->stat)
		return m->ops->stat(m, st);
	st->st_size = (off_t)m->ops->size(m);
	st->st_blocks = (blkcnt_t)(m->ops->allocated(m) / 512);
	return 0;
}

int rfs_mapping_set_times(struct rfs_mapping *m, const struct timespec times[2])
{
	return m->ops->set_times ? m->ops->set_times(m, times) : 0;
}

int rfs_mapping_set_noatime(struct rfs_mapping *m, bool on)
{
	return m->ops->set_noatime ? m->ops->set_noatime(m, on) : 0;
}

int rfs_mapping_open(struct rfs_mapping *m)
{
	return m->ops->open ? m->ops->open(m) : 0;
}

void rfs_mapping_close(struct rfs_mapping *m)
{
	if (m->ops->close)
		m->ops->close(m);
}

int rfs_mapping_backing_fd(struct rfs_mapping *m)
{
	return m->ops->backing_fd ? m->ops->backing_fd(m) : -EOPNOTSUPP;
}
