/* Attributes: stat, setattr and times (see ns_i.h). */
#include "lib/ns_i.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"

static void later(struct timespec *t, struct timespec other)
{
	if (rfs_ts_to_ns(other) > rfs_ts_to_ns(*t))
		*t = other;
}

void rfs_ns_stat_locked(struct rfs_node *n, struct stat *st)
{
	struct stat bytes = {0};

	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_blksize = 4096;
	if (S_ISDIR(n->mode)) {
		st->st_nlink = n->nlink ? 2 + n->dir.subdirs : 0;
		st->st_size = (off_t)(rfs_dir_count(&n->dir) + 2) * BOGO_DIRENT_SIZE;
	} else if (S_ISREG(n->mode)) {
		st->st_nlink = n->nlink;
		if (n->map) {
			rfs_mapping_stat(n->map, &bytes);
			st->st_size = bytes.st_size;
			st->st_blocks = bytes.st_blocks;
		}
	} else if (S_ISLNK(n->mode)) {
		st->st_nlink = n->nlink;
		st->st_size = (off_t)strlen(n->target);
	} else {
		st->st_nlink = n->nlink;
		if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
			st->st_rdev = n->rdev;
	}
	st->st_atim = rfs_ns_to_ts(atomic_load(&n->atime));
	st->st_mtim = rfs_ns_to_ts(atomic_load(&n->mtime));
	st->st_ctim = rfs_ns_to_ts(atomic_load(&n->ctime));
	/* A region's bytes change without us when the kernel serves them:
	 * the later of their times and ours (setattr sets both). */
	later(&st->st_atim, bytes.st_atim);
	later(&st->st_mtim, bytes.st_mtim);
	later(&st->st_ctim, bytes.st_mtim);
}

void rfs_ns_stat(struct rfs_ns *ns, struct rfs_node *node, struct stat *st)
{
	pthread_rwlock_rdlock(&ns->lock);
	rfs_ns_stat_locked(node, st);
	pthread_rwlock_unlock(&ns->lock);
}

/* A time utimensat takes as such: tv_nsec in range (UTIME_NOW and UTIME_OMIT are not times). */
static bool valid_ts(struct timespec ts)
{
	return ts.tv_nsec >= 0 && ts.tv_nsec < RFS_NS_PER_SEC;
}

/*
 * Can every change which asks for be made? Checked before any is applied.
 * Of what remains, only the resize (ENOSPC, EFBIG, ...) and a region file's
 * utimensat, with its times checked here, can fail; see rfs_ns_setattr.
 */
static int setattr_check(const struct rfs_node *n, unsigned int which, const struct stat *st)
{
	unsigned int given = which & (RFS_SET_ATIME | RFS_SET_MTIME) && !(which & RFS_SET_TOUCH)
				     ? RFS_SET_ATIME | RFS_SET_MTIME
				     : 0;

	if (n->sealed && which & (RFS_SET_MODE | RFS_SET_UID | RFS_SET_GID | RFS_SET_SIZE))
		return -EPERM;
	/* As the kernel's notify_change and truncate for S_IMMUTABLE and S_APPEND. */
	if (immutable(n) && which & ~RFS_SET_CTIME)
		return -EPERM;
	if (rfs_ns_iflags(n) & FS_APPEND_FL &&
	    which & (RFS_SET_MODE | RFS_SET_UID | RFS_SET_GID | RFS_SET_SIZE | given))
		return -EPERM;
	if (which & RFS_SET_SIZE && !S_ISREG(n->mode))
		return S_ISDIR(n->mode) ? -EISDIR : -EINVAL;
	/* A region's file would refuse them (utimensat), after the resize. */
	if (S_ISREG(n->mode) && n->map && rfs_mapping_kind(n->map) == RFS_KIND_REGION &&
	    ((which & RFS_SET_ATIME && !valid_ts(st->st_atim)) ||
	     (which & RFS_SET_MTIME && !valid_ts(st->st_mtim))))
		return -EINVAL;
	return 0;
}

/* Set a region's own file times (the later of them and ours is shown). */
static int set_mapping_times(struct rfs_node *n, unsigned int which, const struct stat *st)
{
	struct timespec omit = {.tv_nsec = UTIME_OMIT};
	struct timespec times[2] = {
		which & RFS_SET_ATIME ? st->st_atim : omit,
		which & RFS_SET_MTIME ? st->st_mtim : omit,
	};

	if (!(which & (RFS_SET_ATIME | RFS_SET_MTIME)) || !S_ISREG(n->mode) || !n->map)
		return 0;
	return rfs_mapping_set_times(n->map, times);
}

static int set_attr(struct rfs_ns *ns, struct rfs_node *n, unsigned int which,
		    const struct stat *st)
{
	int64_t t = op_now();
	int err = setattr_check(n, which, st);

	if (err)
		return err;
	/* The steps that can still fail come first, the size before the
	 * times (a resize stamps the store file's mtime). A replay leaves
	 * the region's file as it is: it holds the latest of both. */
	if (which & RFS_SET_SIZE && !ns->replaying) {
		err = rfs_mapping_resize(n->map, (uint64_t)st->st_size);
		if (err)
			return err;
	}
	err = ns->replaying ? 0 : set_mapping_times(n, which, st);
	if (err)
		return err;
	if (which & RFS_SET_SIZE)
		atomic_store(&n->mtime, t);
	pthread_rwlock_wrlock(&ns->lock);
	/* A region's bytes go to its new owners' budgets, if they have room. */
	if (which & (RFS_SET_UID | RFS_SET_GID) && S_ISREG(n->mode) && n->map &&
	    (err = rfs_region_set_owner(n->map, ns->ledger,
					which & RFS_SET_UID ? st->st_uid : n->uid,
					which & RFS_SET_GID ? st->st_gid : n->gid))) {
		pthread_rwlock_unlock(&ns->lock);
		return err;
	}
	if (which & RFS_SET_MODE) {
		n->mode = (n->mode & S_IFMT) | (st->st_mode & 07777);
		rfs_ns_acl_chmod(n);
	}
	if (which & RFS_SET_UID)
		n->uid = st->st_uid;
	if (which & RFS_SET_GID)
		n->gid = st->st_gid;
	rfs_nsj_setattr(ns, n, which, st);
	pthread_rwlock_unlock(&ns->lock);
	if (which & RFS_SET_ATIME)
		atomic_store(&n->atime, rfs_ts_to_ns(st->st_atim));
	if (which & RFS_SET_MTIME)
		atomic_store(&n->mtime, rfs_ts_to_ns(st->st_mtim));
	atomic_store(&n->ctime, which & RFS_SET_CTIME ? rfs_ts_to_ns(st->st_ctim) : t);
	return 0;
}

int64_t rfs_node_btime(const struct rfs_node *node)
{
	return node->btime;
}

unsigned int rfs_ns_iflags(const struct rfs_node *node)
{
	return atomic_load_explicit(&node->iflags, memory_order_relaxed);
}

static int set_iflags(struct rfs_ns *ns, struct rfs_node *n, unsigned int flags)
{
	int err;

	if (flags & ~RFS_NS_IFLAGS)
		return -EOPNOTSUPP;
	if (n->sealed)
		return -EPERM;
	/* A region's own file serves reads too (the kernel's, the daemon's). */
	if (S_ISREG(n->mode) && n->map && !ns->replaying &&
	    (flags ^ rfs_ns_iflags(n)) & FS_NOATIME_FL &&
	    (err = rfs_mapping_set_noatime(n->map, flags & FS_NOATIME_FL)))
		return err;
	pthread_rwlock_wrlock(&ns->lock);
	atomic_store_explicit(&n->iflags, flags, memory_order_relaxed);
	rfs_nsj_iflags(ns, n, flags);
	pthread_rwlock_unlock(&ns->lock);
	atomic_store(&n->ctime, op_now());
	return 0;
}

int rfs_ns_setattr(struct rfs_ns *ns, struct rfs_node *n, unsigned int which, const struct stat *st)
{
	int err;

	rfs_op_begin();
	err = set_attr(ns, n, which, st);
	rfs_op_end();
	return err;
}

int rfs_ns_set_iflags(struct rfs_ns *ns, struct rfs_node *n, unsigned int flags)
{
	int err;

	rfs_op_begin();
	err = set_iflags(ns, n, flags);
	rfs_op_end();
	return err;
}

int rfs_ns_may_open(const struct rfs_node *n, int flags)
{
	unsigned int f = rfs_ns_iflags(n);

	if ((flags & O_ACCMODE) == O_RDONLY && !(flags & O_TRUNC))
		return 0;
	if (f & FS_IMMUTABLE_FL || (f & FS_APPEND_FL && (flags & O_TRUNC || !(flags & O_APPEND))))
		return -EPERM;
	return 0;
}

int rfs_ns_may_fallocate(const struct rfs_node *n, int mode)
{
	unsigned int f = rfs_ns_iflags(n);

	if (f & FS_IMMUTABLE_FL || (f & FS_APPEND_FL && mode & ~FALLOC_FL_KEEP_SIZE))
		return -EPERM;
	return 0;
}

int64_t rfs_ns_touch(struct rfs_node *node)
{
	int64_t t = op_now();

	atomic_store_explicit(&node->mtime, t, memory_order_relaxed);
	atomic_store_explicit(&node->ctime, t, memory_order_relaxed);
	return t;
}

void rfs_ns_touch_at(struct rfs_node *node, int64_t t)
{
	if (atomic_load(&node->mtime) < t)
		atomic_store(&node->mtime, t);
	if (atomic_load(&node->ctime) < t)
		atomic_store(&node->ctime, t);
}
