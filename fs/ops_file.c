/*
 * File data operations. Every regular file is a mapping (lib/mapping.h);
 * these handlers only translate requests.
 *
 * Regions with passthrough on (fs/passthrough.h): an open is answered with
 * the region's store file as backing file, and the kernel serves read,
 * write and mmap from that file's pages, which every client and the daemon
 * share; none of those requests reach these handlers. A region with
 * windows is the exception (lib/regwin.h): the daemon serves its opens, so
 * its windows hear of every write.
 *
 * Everything else (views, and regions without passthrough) is opened with
 * the kernel page cache on and kept across opens (keep_cache). A client's
 * mmap(MAP_SHARED) of a FUSE file maps the page cache, and read()/write()
 * go through that same page cache, so all local clients see each other's
 * bytes at once; writes are write-through (no writeback cache), so the
 * daemon's memory holds every byte a write() returned for, and mmap stores
 * reach it when the kernel writes the dirty pages back (msync, munmap,
 * close or reclaim). direct_io would bypass the page cache and break
 * coherence with clients' mappings. Because every change to a region goes
 * through this mount, the cache never goes stale; the daemon invalidates it
 * itself when it changes bytes by another route.
 */
#include "fs/ops_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h> /* SEEK_DATA, SEEK_HOLE */

#include "fs/control.h"
#include "fs/handles.h"
#include "fs/holders.h"
#include "fs/inval.h"
#include "fs/passthrough.h"
#include "fs/restart.h"
#include "fs/uring.h"
#include "fs/views.h"
#include "fs/wire.h"
#include "fs/bdi.h"
#include "fs/lifetime.h"
#include "fs/log.h"
#include "fs/ops_inode.h"

/* How an open of a regular file is served (its struct rfs_open says which). */
enum { FH_DAEMON, FH_KERNEL };

/* The kernel refused a backing file: serve regions here from now on. */
static void passthrough_refused(struct rfs_daemon *d, int err)
{
	if (!atomic_exchange(&d->passthrough, false))
		return;
	snprintf(d->data_path_refused, sizeof(d->data_path_refused),
		 "daemon (the kernel refused a backing file: %s)", strerror(-err));
	atomic_store(&d->data_path, d->data_path_refused);
	rfs_log(RFS_LOG_WARN, "regions: served by the %s", d->data_path_refused);
}

/*
 * Take the open of m that reply_opened answers (by the kernel only if
 * kernel_ok); FH_* or -errno. *fresh:
 * a daemon open of a region the kernel served meanwhile, whose FUSE page
 * cache the kernel's writes went around.
 */
static int take_open(struct rfs_daemon *d, struct rfs_mapping *m, bool kernel_ok, int *id,
		     bool *fresh)
{
	int err;

	*id = -1;
	if (rfs_region_serve_open(m, kernel_ok && atomic_load(&d->passthrough), fresh)) {
		*id = rfs_passthrough_open(d->pt, m);
		if (*id >= 0)
			return FH_KERNEL;
		rfs_region_serve_close(m, true);
		if (*id != -EPERM)
			return *id;
		passthrough_refused(d, *id);
		*id = -1;
		rfs_region_serve_open(m, false, fresh);
	}
	err = rfs_mapping_open(m);
	if (err)
		rfs_region_serve_close(m, false);
	return err ? err : FH_DAEMON;
}

/* Let go of what take_open took, at release or when the reply failed. */
static void drop_open(struct rfs_daemon *d, struct rfs_mapping *m, bool kernel)
{
	if (kernel)
		rfs_passthrough_release(d->pt, m);
	else
		rfs_mapping_close(m);
	rfs_region_serve_close(m, kernel);
}

/* The open of fi is over: what take_open took goes, and its record. */
static void end_open(struct rfs_daemon *d, struct rfs_node *node, struct fuse_file_info *fi)
{
	struct rfs_open *o = rfs_handle_get(d, fi, RFS_HANDLE_FILE);

	if (!o)
		return; /* not an open this process made */
	drop_open(d, rfs_node_mapping(node), o->kernel);
	rfs_holders_remove(d->holders, o);
	rfs_file_closed(d, node);
	/* Last: a process killed before this left the slot, which its
	 * successor takes over and a resent release ends again, close
	 * lifetime and all. */
	rfs_handle_remove(d, fi);
}

void *rfs_file_adopt(struct rfs_daemon *d, const struct rfs_handle *h)
{
	struct rfs_node *node = rfs_ns_node(d->ns, h->ino);
	struct rfs_mapping *m = node ? rfs_node_mapping(node) : NULL;
	struct rfs_open like = {.node = node,
				.tid = h->tid,
				.uid = h->uid,
				.accmode = h->accmode,
				.kernel = h->kernel};
	struct rfs_open *o;
	bool fresh;

	if (!m)
		return NULL;
	/* Served as before: the kernel keeps the backing file it was given. */
	if (rfs_region_serve_open(m, like.kernel, &fresh) != like.kernel) {
		rfs_region_serve_close(m, !like.kernel);
		return NULL;
	}
	if (like.kernel ? rfs_passthrough_adopt(d->pt, m, h->backing) : rfs_mapping_open(m)) {
		rfs_region_serve_close(m, like.kernel);
		return NULL;
	}
	if (rfs_holders_add(d->holders, &like, &o)) {
		drop_open(d, m, like.kernel);
		return NULL;
	}
	rfs_node_opened(node);
	return o;
}

void rfs_file_forsake(struct rfs_daemon *d, uint64_t fh)
{
	struct fuse_file_info fi = {.fh = fh};
	struct rfs_open *o = rfs_handle_get(d, &fi, RFS_HANDLE_FILE);

	if (o)
		end_open(d, o->node, &fi);
	else
		rfs_handle_remove(d, &fi);
}

/*
 * Answer an open (e NULL) or a create of node. A region open is served by
 * the kernel when passthrough is on; otherwise the page cache is kept
 * across opens (see the top of this file).
 */
static void reply_opened(fuse_req_t req, struct rfs_node *node, struct fuse_file_info *fi,
			 struct fuse_entry_param *e)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_mapping *m = rfs_node_mapping(node);
	bool region = rfs_mapping_kind(m) == RFS_KIND_REGION, fresh;
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct rfs_cred cred = rfs_req_cred(req);
	struct rfs_open like = {
		.node = node, .tid = ctx->pid, .uid = cred.uid, .accmode = fi->flags & O_ACCMODE};
	/* A writer of a region sealed grow: the daemon refuses writes past its
	 * end; of a region whose owner has a budget: the daemon counts; of a
	 * set-user-ID file (or one with capabilities) not root: the daemon
	 * drops them at its first write (FUSE_WRITE_KILL_SUIDGID), which the
	 * kernel would not ask of a backing file. */
	bool kernel_ok = like.accmode == O_RDONLY ||
			 (!(rfs_mapping_seals(m) & RFS_SEAL_GROW) && !rfs_region_counted(m) &&
			  (cred.uid == 0 || !rfs_ns_holds_priv(d->ns, node)));
	struct rfs_open *o = NULL;
	int id, fh, err;

	rfs_bdi_tune(d);
	for (;;) {
		fh = take_open(d, m, kernel_ok, &id, &fresh);
		if (fh < 0)
			break;
		like.kernel = fh == FH_KERNEL;
		err = rfs_holders_add(d->holders, &like, &o);
		if (!err)
			break;
		drop_open(d, m, like.kernel);
		fh = err;
		/* Sealed grow since kernel_ok was read: once more, by the daemon. */
		if (err != -EAGAIN || !kernel_ok)
			break;
		kernel_ok = false;
	}
	if (fh >= 0 && (err = rfs_handle_add(d,
					     &(struct rfs_handle){.kind = RFS_HANDLE_FILE,
								  .ino = rfs_ino(d, node),
								  .tid = like.tid,
								  .uid = like.uid,
								  .accmode = like.accmode,
								  .kernel = like.kernel,
								  .backing = like.kernel ? id : -1},
					     o, fi))) {
		rfs_holders_remove(d->holders, o);
		drop_open(d, m, like.kernel);
		fh = err;
	}
	if (fh < 0) {
		fuse_reply_err(req, -fh);
		return;
	}
	/* Passthrough allows no cache flags; a region has nothing to flush. */
	fi->keep_cache = fh == FH_DAEMON && !fresh;
	fi->noflush = region;
	/* Changed outside the mount: start this open from a clean cache. */
	if (!region && rfs_mapping_stale(m))
		fi->keep_cache = 0;
	if (!region)
		rfs_view_check_deleted(m, NULL);
	/* A store of huge pages may allocate a cow view's private page as
	 * part of a huge one, which a successor would take for 512 private
	 * pages, reading zeros where the file's bytes were (lib/cow.h). */
	if (!region && like.accmode != O_RDONLY && d->journal && rfs_mapping_cow(m) &&
	    d->cfg.huge && (!strcmp(d->cfg.huge, "always") || !strcmp(d->cfg.huge, "within_size")))
		rfs_restart_lost(d, "a cow view was opened for writing under huge=always or "
				    "within_size: huge pages hide its private pages");
	rfs_node_opened(node);
	/* The attributes the kernel cached before (with a long timeout) would
	 * hide this writer's mapped stores: ask for them again. */
	if (fh == FH_KERNEL && like.accmode != O_RDONLY) {
		if (e)
			e->attr_timeout = 0;
		else
			rfs_inval_post_attr(d->inval, rfs_ino(d, node));
	}
	if (fh == FH_KERNEL)
		err = e ? rfs_passthrough_reply_create(req, e, fi, id)
			: rfs_passthrough_reply_open(req, fi, id);
	else
		err = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	if (err) /* the opener was interrupted */
		end_open(d, node, fi);
}

/* Finish an open of a regular file with a mapping. */
static void open_mapping(fuse_req_t req, struct rfs_node *node, struct fuse_file_info *fi)
{
	struct rfs_mapping *m = rfs_node_mapping(node);

	/* Root passes mode checks; a ro view refuses writers whoever they are. */
	if (rfs_mapping_read_only(m) && (fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	reply_opened(req, node, fi, NULL);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	int err;

	rfs_count(d, RFS_OP_open);
	if (rfs_is_control(node)) {
		rfs_control_open(req, node, fi);
		return;
	}
	/* A writer of a region sealed against writes: refused before O_TRUNC
	 * could change it (rfs_holders_add checks again, under its lock). */
	if ((fi->flags & O_ACCMODE) != O_RDONLY && rfs_node_mapping(node) &&
	    rfs_mapping_refuses_writers(rfs_node_mapping(node))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	/* chattr +i, +a; then libfuse's atomic O_TRUNC: the open itself truncates. */
	err = rfs_ns_may_open(node, fi->flags);
	if (!err && fi->flags & O_TRUNC)
		err = rfs_ns_setattr(d->ns, node, RFS_SET_SIZE, &(struct stat){.st_size = 0});
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	open_mapping(req, node, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_new what = {.mode = S_IFREG | (mode & 07777),
			       .cred = rfs_req_cred(req),
			       .umask = fuse_req_ctx(req)->umask};
	struct rfs_node *dir = rfs_node(d, parent), *node;
	struct fuse_entry_param e;
	int err;

	rfs_count(d, RFS_OP_create);
	/* "/": an O_TMPFILE open (fs/wire.c), a file with no name yet. */
	if (strcmp(name, "/") == 0)
		name = NULL;
	err = rfs_ns_create(d->ns, dir, name, &what, &node);
	/* Lost a race with another creator: open what it made, unless O_EXCL;
	 * if that went meanwhile (a close region's last user left), create. */
	while (name && err == -EEXIST && !(fi->flags & O_EXCL)) {
		err = rfs_ns_lookup(d->ns, dir, name, &node);
		if (err == -ENOENT)
			err = rfs_ns_create(d->ns, dir, name, &what, &node);
	}
	if (!err && (rfs_node_type(node) != S_IFREG || rfs_is_control(node))) {
		rfs_ns_forget(d->ns, node, 1);
		err = -EISDIR;
	}
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	rfs_fill_entry(d, node, &e);
	reply_opened(req, node, fi, &e);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	struct rfs_mapping *m = rfs_node_mapping(node);
	struct rfs_io io;
	size_t cap;
	void *space;
	int err;

	rfs_count(d, RFS_OP_read);
	if (!m) {
		rfs_control_read(req, size, off, fi);
		return;
	}
	/* Over io_uring the reply is a copy anyway: make it straight into the ring. */
	space = rfs_uring_reply_space(&cap);
	if (space && size <= cap) {
		ssize_t n = rfs_mapping_read_into(m, space, size, (uint64_t)off);

		if (n < 0) {
			if (n == -EIO)
				rfs_add(&d->counters->faults, 1);
			fuse_reply_err(req, (int)-n);
			return;
		}
		/* Counted before the reply: a reader that got its bytes sees them counted. */
		rfs_add(&d->counters->bytes_read, (uint64_t)n);
		if (fuse_reply_buf(req, space, (size_t)n) != 0)
			rfs_add(&d->counters->bytes_read, -(uint64_t)n);
		return;
	}
	err = rfs_mapping_read_begin(m, (uint64_t)off, size, &io);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	/*
	 * Reply straight from the mapping, still holding it shared: the
	 * kernel copies the bytes out during the reply, and a concurrent
	 * shrink must wait until it has. The exclusive holder never waits on
	 * the kernel, so this cannot deadlock. The read also holds the mapping
	 * alive: once the reply is out the file may be closed and freed. A
	 * fault in the kernel's copy (a view's file truncated) fails the
	 * reply, and the kernel answers the reader EIO.
	 */
	rfs_add(&d->counters->bytes_read, io.len); /* before the reply, as above */
	if (io.n == 0) {
		err = fuse_reply_buf(req, NULL, 0);
	} else {
		rfs_wire_prefault(d, io.iov, io.n);
		err = fuse_reply_iov(req, io.iov, io.n);
	}
	if (err)
		rfs_add(&d->counters->bytes_read, -(uint64_t)io.len);
	if (err == -EFAULT)
		rfs_add(&d->counters->faults, 1);
	rfs_mapping_read_end(m, &io);
}

/*
 * The kernel's write-back of a client's mmap stores was refused (over the
 * cap, a full disk): those bytes are lost once the kernel drops its pages,
 * and only the client's msync, fsync or close hears of it. The daemon
 * cannot refuse the store itself (FUSE does not ask it at fault time), so
 * the operator is told: once in the log, every time in metrics.
 */
static void writeback_refused(struct rfs_daemon *d, int err)
{
	if (atomic_fetch_add_explicit(&d->counters->writeback_errors, 1, memory_order_relaxed) == 0)
		rfs_log(RFS_LOG_WARN,
			"a client's mmap stores were refused at write-back (%s) and are lost; "
			"its msync, fsync or close reports it; "
			"regionfs_writeback_errors_total counts them",
			strerror(err));
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	struct rfs_mapping *m = rfs_node_mapping(node);
	bool view;
	uint64_t before;
	ssize_t n;

	rfs_count(d, RFS_OP_write);
	if (!m) {
		rfs_control_write(req, buf, size, fi);
		return;
	}
	view = rfs_mapping_kind(m) == RFS_KIND_VIEW;
	/*
	 * Other mappings of these bytes first write back their dirty pages,
	 * so those land under this write, not over it. Not for a write-back
	 * itself: the kernel may be sending it to let go of a page we asked
	 * it to drop, while our notice waits.
	 */
	before = fi->writepage ? rfs_inval_ticket(d->inval)
			       : rfs_inval_before_change(d, m, (uint64_t)off, size);
	n = fi->writepage ? rfs_mapping_write_back(m, buf, size, (uint64_t)off)
			  : rfs_mapping_write(m, buf, size, (uint64_t)off);
	if (n < 0) {
		if (view && (n == -EIO || n == -ENOSPC))
			rfs_add(&d->counters->faults, 1);
		if (fi->writepage)
			writeback_refused(d, (int)-n);
		fuse_reply_err(req, (int)-n);
		return;
	}
	rfs_touched(d, node);
	rfs_add(&d->counters->bytes_written, (uint64_t)n);
	/* Other views of the bytes, a region's windows: seen once we reply. */
	rfs_inval_settle(d->inval, before, RFS_INVAL_WAIT_MS);
	fuse_reply_write(req, (size_t)n);
}

/* Write a view's dirty bytes back (flush, release, fsync); 0 for others. */
static int sync_node(struct rfs_daemon *d, struct rfs_node *node, bool durable)
{
	struct rfs_mapping *m = rfs_node_mapping(node);
	int err;

	if (!m || rfs_mapping_kind(m) != RFS_KIND_VIEW)
		return 0;
	err = rfs_view_flush(d, m, NULL, durable);
	if (err)
		rfs_log(RFS_LOG_WARN, "flush of a view failed: %s", strerror(-err));
	return err;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);

	rfs_count(d, RFS_OP_flush);
	if (rfs_is_control(node)) {
		rfs_control_flush(req, fi);
		return;
	}
	fuse_reply_err(req, -sync_node(d, node, false));
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	int err;

	rfs_count(d, RFS_OP_release);
	if (rfs_is_control(node)) {
		rfs_control_release(req, fi);
		return;
	}
	/* After client munmap: catch bytes written back since the last flush. */
	err = sync_node(d, node, false);
	end_open(d, node, fi);
	fuse_reply_err(req, -err);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);

	(void)datasync;
	(void)fi;
	rfs_count(d, RFS_OP_fsync);
	fuse_reply_err(req, -sync_node(d, rfs_node(d, ino), true));
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_node *node = rfs_node(d, ino);
	struct rfs_mapping *m = rfs_node_mapping(node);
	uint64_t before;
	int err;

	(void)fi;
	rfs_count(d, RFS_OP_fallocate);
	if (!m || off < 0 || len <= 0) {
		fuse_reply_err(req, m ? EINVAL : EOPNOTSUPP);
		return;
	}
	err = rfs_ns_may_fallocate(node, mode);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	before = rfs_inval_ticket(d->inval);
	err = rfs_mapping_fallocate(m, mode, (uint64_t)off, (uint64_t)len);
	if (!err)
		rfs_touched(d, node);
	rfs_inval_settle(d->inval, before, RFS_INVAL_WAIT_MS);
	fuse_reply_err(req, -err);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct rfs_daemon *d = rfs_daemon(req);
	struct rfs_mapping *m = rfs_node_mapping(rfs_node(d, ino));
	off_t r;

	(void)fi;
	rfs_count(d, RFS_OP_lseek);
	if (!m || (whence != SEEK_DATA && whence != SEEK_HOLE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	r = rfs_mapping_seek(m, off, whence);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_lseek(req, r);
}

void rfs_ops_file(struct fuse_lowlevel_ops *ops)
{
	ops->open = op_open;
	ops->create = op_create;
	ops->read = op_read;
	ops->write = op_write;
	ops->flush = op_flush;
	ops->release = op_release;
	ops->fsync = op_fsync;
	ops->fallocate = op_fallocate;
	ops->lseek = op_lseek;
}
