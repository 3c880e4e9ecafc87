/*
 * Views: windows [offset, offset + length) of backing files, or of a
 * region's store file (a window of a region, lib/regwin.h).
 *
 * rw and ro views read and write the file's own pages through shared
 * chunks (windows.h), so every view of the same bytes, and every other
 * process using the file, sees a write at once; views of the daemon's other
 * inodes are told through the windows' change notices so the kernel can
 * drop what it cached for them. A cow view maps its whole window shared
 * read-only and keeps its writes in private pages of a shadow file of the
 * region store (cow.h), counted against the cap and outliving the serving
 * process, until commit writes them to the file or discard drops them.
 *
 * Dirty tracking is one range per view, the union of writes since the last
 * flush; a flush writes it back with sync_file_range, the equivalent of
 * msync(MS_SYNC) for a shared mapping, which needs no live mapping of the
 * range. fsync adds fdatasync, committing the file's metadata too.
 */
#include "lib/mapping_i.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/cow.h"
#include "lib/guard.h"
#include "lib/regwin.h"
#include "lib/windows.h"

struct view {
	struct rfs_mapping hdr; /* first: a view is a mapping */
	struct rfs_windows *w;
	struct rfs_backing *b;
	uint64_t offset, length; /* fixed */
	enum rfs_view_access access;
	struct rfs_cow *cow;	    /* cow: the private window; fixed */
	struct rfs_mapping *region; /* a window of this region (held), or NULL; fixed */
	char *label;		    /* with region: its backing as stats shows it; fixed */

	pthread_mutex_t lock;	     /* guards the fields below */
	uint64_t dirty_lo, dirty_hi; /* view offsets written since the last flush */
	struct timespec seen_mtime;  /* the file as of the last stale check */
	off_t seen_size;	     /* or of our own last change (own_change_end) */
	int64_t last_flush_ns;

	atomic_bool deleted_seen; /* a caller was told the backing file is gone */
};

static struct view *to_view(const struct rfs_mapping *m)
{
	return (struct view *)m;
}

static uint64_t view_size(const struct rfs_mapping *m)
{
	return to_view(m)->length;
}

static uint64_t view_allocated(const struct rfs_mapping *m)
{
	struct view *v = to_view(m);
	struct stat st;
	uint64_t file;

	if (fstat(rfs_backing_fd(v->b), &st) < 0)
		return 0;
	/* The file's allocation, at most the window: what a sparse file holds is
	 * not known per range without walking it. */
	file = (uint64_t)st.st_blocks * 512;
	return file < v->length ? file : v->length;
}

/* Clip [off, off + len) to the window; the bytes that remain. */
static size_t clip(const struct view *v, uint64_t off, size_t len)
{
	if (off >= v->length)
		return 0;
	return len < v->length - off ? len : (size_t)(v->length - off);
}

static void unpin_all(struct view *v, struct rfs_io *io)
{
	for (int i = 0; i < RFS_IO_SEGS; i++)
		if (io->pins[i])
			rfs_chunk_unpin(v->w, io->pins[i]);
}

/* Resolve view bytes [off, off + len) to memory segments in io. */
static int resolve(struct view *v, uint64_t off, size_t len, struct rfs_io *io)
{
	uint64_t pos = v->offset + off;

	io->len = 0;
	while (len && io->n < RFS_IO_SEGS) {
		struct rfs_chunk *c;
		char *addr;
		uint64_t in = pos % RFS_CHUNK;
		size_t take = len < RFS_CHUNK - in ? len : (size_t)(RFS_CHUNK - in);
		int err = rfs_chunk_pin(v->w, v->b, pos, &c, &addr);

		if (err) {
			unpin_all(v, io);
			memset(io, 0, sizeof(*io));
			return err;
		}
		io->pins[io->n] = c;
		io->iov[io->n].iov_base = addr + in;
		io->iov[io->n].iov_len = take;
		io->n++;
		io->len += take;
		pos += take;
		len -= take;
	}
	return 0;
}

static int fault_errno(const struct view *v, uint64_t off);

static int view_read_begin(struct rfs_mapping *m, uint64_t off, size_t len, struct rfs_io *io)
{
	struct view *v = to_view(m);

	len = clip(v, off, len);
	if (v->cow) {
		/* Held to read_end: commit and discard wait for the reply. At
		 * or past the end no address is formed (off may be anything). */
		int err = rfs_cow_read_begin(v->cow, len ? off : 0, len, io);

		return err == -EIO ? fault_errno(v, off) : err;
	}
	return resolve(v, off, len, io);
}

static void view_read_end(struct rfs_mapping *m, struct rfs_io *io)
{
	struct view *v = to_view(m);

	if (v->cow)
		rfs_cow_read_end(v->cow, io);
	else
		unpin_all(v, io);
}

/*
 * The errno for a fault at view offset off: the file (or region) shrunk
 * under the window, a full disk (or store) behind a hole, an I/O error.
 */
static int fault_errno(const struct view *v, uint64_t off)
{
	int fd = rfs_backing_fd(v->b);
	struct statvfs sv;
	struct stat st;

	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size <= v->offset + off)
		return -EIO; /* the bytes are gone: no space would bring them back */
	if (fstatvfs(fd, &sv) == 0 && sv.f_bavail == 0)
		return -ENOSPC;
	return -EIO;
}

/* The file is as the last stale check or own change left it; under v->lock. */
static bool as_seen(const struct view *v, const struct stat *st)
{
	return st->st_size == v->seen_size && st->st_mtim.tv_sec == v->seen_mtime.tv_sec &&
	       st->st_mtim.tv_nsec == v->seen_mtime.tv_nsec;
}

/*
 * Bracket a change the daemon makes to the file through this view (a write,
 * a punched hole, a commit). It moves the file's mtime, which the next open
 * would take for a change from outside and drop the kernel's cache of the
 * view, although that cache went through the change itself (write-through,
 * or dropped for the range by the kernel: punch). Dropping it costs a round
 * trip per page on the next read and refills the cache with whatever pages
 * are free, often scattered ones that copy slower (README, Performance).
 * So when the file was as seen before the change, the file after it is
 * taken as seen. A change from outside before ours still shows at the next
 * open; only one racing with ours, between the two fstat calls, does not.
 * Other views of the file are left alone: they drop their cache at their
 * next open, as before.
 */
static bool own_change_begin(struct view *v)
{
	struct stat st;
	bool seen;

	if (fstat(rfs_backing_fd(v->b), &st) < 0)
		return false;
	pthread_mutex_lock(&v->lock);
	seen = as_seen(v, &st);
	pthread_mutex_unlock(&v->lock);
	return seen;
}

static void own_change_end(struct view *v, bool seen)
{
	struct stat st;

	if (!seen || fstat(rfs_backing_fd(v->b), &st) < 0)
		return;
	pthread_mutex_lock(&v->lock);
	v->seen_size = st.st_size;
	v->seen_mtime = st.st_mtim;
	pthread_mutex_unlock(&v->lock);
}

static void mark_dirty(struct view *v, uint64_t off, uint64_t len)
{
	pthread_mutex_lock(&v->lock);
	if (v->dirty_lo == v->dirty_hi) {
		v->dirty_lo = off;
		v->dirty_hi = off + len;
	} else {
		if (off < v->dirty_lo)
			v->dirty_lo = off;
		if (off + len > v->dirty_hi)
			v->dirty_hi = off + len;
	}
	pthread_mutex_unlock(&v->lock);
}

static ssize_t view_write(struct rfs_mapping *m, const void *buf, size_t len, uint64_t off)
{
	struct view *v = to_view(m);
	struct rfs_io io = {0};
	size_t n = clip(v, off, len), done = 0;
	bool seen;
	int err;

	if (v->access == RFS_VIEW_RO)
		return -EROFS;
	if (n == 0)
		return -EFBIG; /* a view's size is fixed */
	if (v->cow) {
		ssize_t r = rfs_cow_write(v->cow, buf, n, off);

		return r == -EIO ? fault_errno(v, off) : r;
	}
	err = resolve(v, off, n, &io);
	if (err)
		return err;
	seen = own_change_begin(v);
	for (int i = 0; i < io.n && !err; i++) {
		struct iovec *s = &io.iov[i];

		err = rfs_guarded_copy(s->iov_base, (const char *)buf + done, s->iov_len,
				       s->iov_base, s->iov_len);
		if (!err)
			done += s->iov_len;
	}
	unpin_all(v, &io);
	/* A fault is the file shrinking under us: a change from outside. */
	own_change_end(v, seen && !err);
	if (err)
		err = fault_errno(v, off + done);
	if (done && v->access == RFS_VIEW_RW) {
		mark_dirty(v, off, done);
		rfs_backing_changed(v->w, v->b, m, v->offset + off, done);
	}
	return done ? (ssize_t)done : err;
}

static void view_changing(struct rfs_mapping *m, uint64_t off, uint64_t len)
{
	struct view *v = to_view(m);
	size_t n = clip(v, off, len > SIZE_MAX ? SIZE_MAX : (size_t)len);

	if (n)
		rfs_backing_changed(v->w, v->b, m, v->offset + off, n);
}

static int view_resize(struct rfs_mapping *m, uint64_t size)
{
	const struct view *v = to_view(m);

	if (size == v->length)
		return 0;
	/* A ro view refuses every write as EACCES, open(O_TRUNC) included. */
	return v->access == RFS_VIEW_RO ? -EACCES : -EPERM;
}

static int view_fallocate(struct rfs_mapping *m, int mode, uint64_t off, uint64_t len)
{
	struct view *v = to_view(m);
	int fd = rfs_backing_fd(v->b);
	bool seen;

	if (v->access != RFS_VIEW_RW)
		return v->access == RFS_VIEW_RO ? -EROFS : -EOPNOTSUPP;
	if (off + len > v->length)
		return -EFBIG;
	if (mode != 0 && mode != FALLOC_FL_KEEP_SIZE &&
	    mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return -EOPNOTSUPP;
	/* The window already exists in the file: allocation never changes its size. */
	seen = own_change_begin(v);
	if (fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)(v->offset + off), (off_t)len) < 0)
		return -errno;
	own_change_end(v, seen);
	if (mode & FALLOC_FL_PUNCH_HOLE)
		rfs_backing_changed(v->w, v->b, m, v->offset + off, len);
	return 0;
}

static off_t view_seek(struct rfs_mapping *m, off_t off, int whence)
{
	struct view *v = to_view(m);
	off_t r;

	if ((uint64_t)off >= v->length)
		return -ENXIO;
	r = lseek(rfs_backing_fd(v->b), (off_t)v->offset + off, whence);
	if (r < 0)
		return errno == ENXIO && whence == SEEK_HOLE ? (off_t)v->length : -errno;
	if ((uint64_t)r >= v->offset + v->length)
		return whence == SEEK_HOLE ? (off_t)v->length : -ENXIO;
	return r - (off_t)v->offset;
}

static int view_sync(struct rfs_mapping *m, bool durable)
{
	struct view *v = to_view(m);
	int fd = rfs_backing_fd(v->b);
	uint64_t lo, hi;
	int err = 0;

	if (v->access != RFS_VIEW_RW)
		return 0;
	pthread_mutex_lock(&v->lock);
	lo = v->dirty_lo;
	hi = v->dirty_hi;
	v->dirty_lo = v->dirty_hi = 0;
	pthread_mutex_unlock(&v->lock);

	if (lo < hi && sync_file_range(fd, (off_t)(v->offset + lo), (off_t)(hi - lo),
				       SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					       SYNC_FILE_RANGE_WAIT_AFTER) < 0)
		err = -errno;
	if (!err && durable && fdatasync(fd) < 0)
		err = -errno;
	if (err) {
		/* Still dirty: a later flush tries again and reports again. */
		if (lo < hi)
			mark_dirty(v, lo, hi - lo);
		return err;
	}
	pthread_mutex_lock(&v->lock);
	v->last_flush_ns = rfs_now_ns();
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static bool view_stale(struct rfs_mapping *m)
{
	struct view *v = to_view(m);
	struct stat st;
	bool changed;

	if (fstat(rfs_backing_fd(v->b), &st) < 0)
		return true;
	pthread_mutex_lock(&v->lock);
	changed = !as_seen(v, &st);
	v->seen_size = st.st_size;
	v->seen_mtime = st.st_mtim;
	pthread_mutex_unlock(&v->lock);
	return changed;
}

static int view_commit(struct rfs_mapping *m)
{
	struct view *v = to_view(m);
	uint64_t lo, hi;
	bool seen;
	int err;

	if (!rfs_backing_writable(v->b))
		return -EACCES;
	seen = own_change_begin(v);
	err = rfs_cow_commit(v->cow, &lo, &hi);
	own_change_end(v, seen);
	/* Even a failed commit may have written some runs: tell the other
	 * views of those bytes. This view's bytes did not change. */
	if (lo < hi)
		rfs_backing_changed(v->w, v->b, m, v->offset + lo, hi - lo);
	if (err)
		return err;
	pthread_mutex_lock(&v->lock);
	v->last_flush_ns = rfs_now_ns();
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static int view_discard(struct rfs_mapping *m)
{
	return rfs_cow_discard(to_view(m)->cow);
}

#ifndef SYS_cachestat
#define SYS_cachestat 451 /* the same on every architecture */
#endif

/* Bytes of the window in the page cache (cachestat, Linux 6.5+); 0 if unknown. */
static uint64_t resident(const struct view *v)
{
	struct {
		uint64_t off, len;
	} range = {v->offset, v->length};
	struct {
		uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
	} cs;

	if (syscall(SYS_cachestat, rfs_backing_fd(v->b), &range, &cs, 0) < 0)
		return 0;
	return cs.nr_cache * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Unlinked: no name reaches the file any more, only our descriptor. A
 * region's store file is no backing file a user could delete (a memfd has
 * no link at all). */
static bool unlinked(const struct view *v)
{
	struct stat st;

	return !v->region && fstat(rfs_backing_fd(v->b), &st) == 0 && st.st_nlink == 0;
}

static bool view_backing_deleted(struct rfs_mapping *m, bool *first)
{
	struct view *v = to_view(m);

	if (!unlinked(v))
		return false;
	*first = !atomic_exchange(&v->deleted_seen, true);
	return true;
}

static void view_describe(const struct rfs_mapping *m, struct rfs_mapping_info *info)
{
	struct view *v = to_view(m);

	info->backing_deleted = unlinked(v);
	info->backing = v->label ? v->label : rfs_backing_path(v->b);
	info->resident = resident(v);
	info->offset = v->offset;
	info->access = v->access;
	info->private_bytes = v->cow ? rfs_cow_private(v->cow) : 0;
	pthread_mutex_lock(&v->lock);
	info->dirty = v->dirty_hi - v->dirty_lo;
	info->last_flush_ns = v->last_flush_ns;
	pthread_mutex_unlock(&v->lock);
}

static uint64_t view_file(const struct rfs_mapping *m)
{
	const struct view *v = to_view(m);

	return v->cow ? rfs_cow_file(v->cow) : 0;
}

static void view_free(struct rfs_mapping *m)
{
	struct view *v = to_view(m);

	view_sync(m, false);
	rfs_backing_detach(v->w, v->b, m);
	/* Before the backing goes: the region is registered on it. */
	if (v->region)
		rfs_regwin_detach(v->region);
	rfs_cow_free(v->cow);
	rfs_backing_put(v->w, v->b);
	pthread_mutex_destroy(&v->lock);
	free(v->label);
	free(v);
}

static const struct rfs_mapping_ops view_ops = {
	.size = view_size,
	.allocated = view_allocated,
	.read_begin = view_read_begin,
	.read_end = view_read_end,
	.write = view_write,
	.changing = view_changing,
	.resize = view_resize,
	.fallocate = view_fallocate,
	.seek = view_seek,
	.sync = view_sync,
	.commit = view_commit,
	.discard = view_discard,
	.stale = view_stale,
	.backing_deleted = view_backing_deleted,
	.describe = view_describe,
	.file = view_file,
	.free = view_free,
};

/* Settle the window against the file: length, growth of a rw file. */
static int fit_window(struct view *v, const struct rfs_view_spec *spec)
{
	int fd = rfs_backing_fd(v->b);
	struct stat st;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	v->length = spec->length;
	if (!v->length) {
		if (spec->offset >= (uint64_t)st.st_size)
			return -ENXIO; /* nothing to the end of the file */
		v->length = (uint64_t)st.st_size - spec->offset;
	}
	if (v->offset + v->length < v->offset || v->offset + v->length > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (v->offset + v->length > (uint64_t)st.st_size) {
		/* The region's size is its own: ftruncate says what it is. */
		if (spec->access != RFS_VIEW_RW || spec->region)
			return -ENXIO;
		if (!rfs_backing_writable(v->b))
			return -EACCES;
		err = posix_fallocate(fd, st.st_size, (off_t)(v->offset + v->length) - st.st_size);
		if (err)
			return -err;
		fstat(fd, &st);
	}
	v->seen_size = st.st_size;
	v->seen_mtime = st.st_mtim;
	return 0;
}

/*
 * A window of a region: a descriptor of its store file in *fd, and the
 * label stats shows. The backing registry knows the store file by its
 * inode like any file, so a region's windows share one backing.
 */
static int region_backing(struct view *v, const struct rfs_view_spec *spec, int *fd)
{
	if (rfs_mapping_kind(spec->region) != RFS_KIND_REGION)
		return -EINVAL;
	v->label = strdup(spec->file);
	if (!v->label)
		return -ENOMEM;
	*fd = rfs_mapping_backing_fd(spec->region);
	return *fd < 0 ? *fd : 0;
}

int rfs_view_new(struct rfs_windows *w, const struct rfs_view_spec *spec, struct rfs_mapping **out)
{
	struct view *v = calloc(1, sizeof(*v));
	int fd = spec->fd, err;

	if (!v) {
		if (spec->fd >= 0)
			close(spec->fd);
		return -ENOMEM;
	}
	rfs_mapping_init(&v->hdr, &view_ops, RFS_KIND_VIEW);
	v->hdr.read_only = spec->access == RFS_VIEW_RO;
	v->hdr.cow = spec->access == RFS_VIEW_COW;
	v->w = w;
	v->offset = spec->offset;
	v->access = spec->access;
	err = spec->region ? region_backing(v, spec, &fd) : 0;
	if (!err)
		err = rfs_backing_get(w, spec->file, fd, &v->b);
	if (err)
		goto out_free;
	if (spec->access == RFS_VIEW_RW && !rfs_backing_writable(v->b)) {
		err = -EACCES;
		goto out_put;
	}
	err = fit_window(v, spec);
	if (!err && spec->access == RFS_VIEW_COW)
		err = rfs_cow_new(rfs_backing_fd(v->b), v->offset, v->length, spec->store,
				  spec->shadow, &v->cow);
	/* Last: from here the region's opens are served by the daemon. */
	if (!err && spec->region)
		err = rfs_regwin_attach(spec->region, w, v->b);
	if (err)
		goto out_cow;
	v->region = spec->region;
	pthread_mutex_init(&v->lock, NULL);
	rfs_backing_attach(w, v->b, &v->hdr, v->offset, v->length);
	*out = &v->hdr;
	return 0;
out_cow:
	rfs_cow_free(v->cow);
out_put:
	rfs_backing_put(w, v->b);
out_free:
	free(v->label);
	free(v);
	return err;
}
