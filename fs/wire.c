/* The custom I/O layer under libfuse: see fs/wire.h. */
#include "fs/wire.h"

#include <errno.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/passthrough.h"
#include "fs/uring.h"
#include "fs/log.h"
#include "fs/resend.h"
#include "fs/restart.h"
#include "fs/supervise.h"
#include "lib/clock.h"
#include "lib/journal.h"

#ifndef FUSE_HANDLE_KILLPRIV_V2
#define FUSE_HANDLE_KILLPRIV_V2 (1u << 28)
#endif
#define ALLOW_IDMAP_FLAG2 (1u << 8) /* FUSE_ALLOW_IDMAP >> 32 (Linux 6.12+) */
#ifndef FUSE_WRITE_KILL_SUIDGID
#define FUSE_WRITE_KILL_SUIDGID (1u << 2)
#endif
#ifndef FUSE_OPEN_KILL_SUIDGID
#define FUSE_OPEN_KILL_SUIDGID (1u << 0)
#endif
#ifndef FATTR_KILL_SUIDGID
#define FATTR_KILL_SUIDGID (1u << 11)
#endif

/*
 * FUSE_STATX (Linux 6.6+), which libfuse 3.14 answers ENOSYS: its argument
 * begins as GETATTR's, so it is served as a GETATTR whose reply becomes
 * a statx reply with the birth time. The thread that reads a request also
 * serves it and, for GETATTR, replies at once: the request's unique and
 * its node's birth time wait here for that reply.
 */
#define OP_STATX 52

#define NOTIFY_RESEND 7		   /* FUSE_NOTIFY_RESEND (Linux 6.9+) */
#define RESENT	      (1ULL << 63) /* FUSE_UNIQUE_RESEND: in a resent request's unique */

struct sx_time {
	int64_t sec;
	uint32_t nsec;
	int32_t reserved;
};

struct statx_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec;
	uint32_t flags;
	uint64_t spare[2];
	struct {
		uint32_t mask, blksize;
		uint64_t attributes;
		uint32_t nlink, uid, gid;
		uint16_t mode, spare0;
		uint64_t ino, size, blocks, attributes_mask;
		struct sx_time atime, btime, ctime, mtime;
		uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
		uint64_t spare2[14];
	} stat;
};
_Static_assert(sizeof(struct statx_out) == 288, "struct fuse_statx_out of the FUSE protocol");

static __thread struct {
	uint64_t unique; /* of the STATX request this thread serves, or 0 */
	int64_t btime;	 /* its node's */
	struct fuse_out_header oh;
	struct statx_out out;
} pending_statx;

static struct sx_time sx_time(uint64_t sec, uint32_t nsec)
{
	return (struct sx_time){.sec = (int64_t)sec, .nsec = nsec};
}

/* The GETATTR reply in iov as the STATX reply the kernel asked for, in statx. */
static void statx_reply(struct iovec *iov, int count)
{
	const struct fuse_attr_out *in = iov[1].iov_base;
	const struct fuse_attr *a = &in->attr;
	struct statx_out *o = &pending_statx.out;

	if (count != 2 || iov[1].iov_len < sizeof(*in))
		return;
	memset(o, 0, sizeof(*o));
	o->attr_valid = in->attr_valid;
	o->attr_valid_nsec = in->attr_valid_nsec;
	o->stat.mask = STATX_BASIC_STATS | STATX_BTIME;
	o->stat.blksize = a->blksize;
	o->stat.nlink = a->nlink;
	o->stat.uid = a->uid;
	o->stat.gid = a->gid;
	o->stat.mode = (uint16_t)a->mode;
	o->stat.ino = a->ino;
	o->stat.size = a->size;
	o->stat.blocks = a->blocks;
	o->stat.atime = sx_time(a->atime, a->atimensec);
	o->stat.mtime = sx_time(a->mtime, a->mtimensec);
	o->stat.ctime = sx_time(a->ctime, a->ctimensec);
	o->stat.btime = (struct sx_time){.sec = pending_statx.btime / RFS_NS_PER_SEC,
					 .nsec = (uint32_t)(pending_statx.btime % RFS_NS_PER_SEC)};
	o->stat.rdev_major = major(a->rdev);
	o->stat.rdev_minor = minor(a->rdev);
	pending_statx.oh = *(const struct fuse_out_header *)iov[0].iov_base;
	pending_statx.oh.len = (uint32_t)(sizeof(pending_statx.oh) + sizeof(*o));
	iov[0] = (struct iovec){.iov_base = &pending_statx.oh, .iov_len = sizeof(pending_statx.oh)};
	iov[1] = (struct iovec){.iov_base = o, .iov_len = sizeof(*o)};
}

/* INIT as the kernel offered it: read by one thread, answered maybe by another. */
struct rfs_wire {
	_Atomic uint64_t unique; /* of the INIT request, until it is answered */
	atomic_bool passthrough, uring, killpriv, idmap;
	/*
	 * A serving process after the first (-o restart): libfuse must take
	 * the kernel's INIT again, which the first saved, and the kernel must
	 * resend what the dead process had read before this one reads any
	 * request, or a request would be served twice. Until then (handover
	 * set), readers but the one that hands libfuse the INIT wait.
	 */
	atomic_bool handover, replayed_init;
	pthread_mutex_t lock;
	pthread_cond_t served;
};

/* Does req (len bytes from /dev/fuse or a ring) ask the daemon to drop
 * set-user-ID and capabilities (FUSE_HANDLE_KILLPRIV_V2)? libfuse 3.14
 * does not pass the flags on. */
static bool asks_kill(const struct fuse_in_header *ih, size_t len)
{
	const void *arg = ih + 1;

	len -= sizeof(*ih);
	switch (ih->opcode) {
	case FUSE_WRITE:
		return len >= sizeof(struct fuse_write_in) &&
		       ((const struct fuse_write_in *)arg)->write_flags & FUSE_WRITE_KILL_SUIDGID;
	case FUSE_OPEN:
		return len >= sizeof(struct fuse_open_in) &&
		       ((const struct fuse_open_in *)arg)->open_flags & FUSE_OPEN_KILL_SUIDGID;
	case FUSE_SETATTR:
		return len >= sizeof(struct fuse_setattr_in) &&
		       ((const struct fuse_setattr_in *)arg)->valid & FATTR_KILL_SUIDGID;
	default:
		return false;
	}
}

void rfs_wire_inspect(struct rfs_daemon *d, void *req, size_t len)
{
	struct fuse_in_header *ih = req;

	if (len < sizeof(*ih))
		return;
	/* O_TMPFILE comes as a create of the name "/", which no file can
	 * have (ops_file.c): the request and its reply are a create's. */
	if (ih->opcode == FUSE_TMPFILE)
		ih->opcode = FUSE_CREATE;
	if (ih->opcode == OP_STATX && len >= sizeof(*ih) + sizeof(struct fuse_getattr_in)) {
		ih->opcode = FUSE_GETATTR;
		pending_statx.unique = ih->unique;
		pending_statx.btime = rfs_node_btime(rfs_node(d, ih->nodeid));
	}
	if (!asks_kill(ih, len))
		return;
	/* Before the request itself, as the kernel drops them before writing. */
	rfs_ns_kill_priv(d->ns, rfs_node(d, ih->nodeid));
}

/* INIT as the kernel offered it (n bytes at ih): what the reply will take. */
static void take_init(struct rfs_daemon *d, const struct fuse_in_header *ih, ssize_t n)
{
	const struct fuse_init_in *in = (const void *)(ih + 1);
	struct rfs_wire *init = d->wire;

	atomic_store(&init->passthrough, rfs_passthrough_offered(in, (size_t)n - sizeof(*ih)));
	atomic_store(&init->uring, rfs_uring_offered(in));
	atomic_store(&init->killpriv, in->flags & FUSE_HANDLE_KILLPRIV_V2);
	atomic_store(&init->idmap, (size_t)n - sizeof(*ih) >= sizeof(*in) &&
					   in->flags & FUSE_INIT_EXT &&
					   in->flags2 & ALLOW_IDMAP_FLAG2);
	atomic_store(&init->unique, ih->unique);
}

static void unlock(void *mutex)
{
	pthread_mutex_unlock(mutex);
}

/* A successor's first read: the INIT the first process saved. Later
 * readers wait for the resend (hand_over). */
static ssize_t replay_init(struct rfs_daemon *d, void *buf, size_t len)
{
	struct rfs_wire *w = d->wire;
	uint32_t n = atomic_load(&d->restart->init_len);

	pthread_mutex_lock(&w->lock);
	if (!atomic_load(&w->replayed_init)) {
		atomic_store(&w->replayed_init, true);
		pthread_mutex_unlock(&w->lock);
		if (n > len)
			return -EIO;
		memcpy(buf, d->restart->init, n);
		take_init(d, buf, n);
		return n;
	}
	/* libfuse cancels its readers when the session ends, and a wait is a
	 * cancellation point: one cancelled here lets the lock go. */
	pthread_cleanup_push(unlock, &w->lock);
	while (atomic_load(&w->handover))
		pthread_cond_wait(&w->served, &w->lock);
	pthread_cleanup_pop(1);
	return 0; /* read for real */
}

/*
 * The kernel copies a request into the reader's buffer; a page of it not
 * yet in memory faults, and a fault with a fatal signal pending (the
 * serving process killed, -o restart) fails the copy, which the kernel
 * answers EIO to the client instead of keeping the request to resend. So
 * under -o restart each buffer is made resident before its first read:
 * locked where allowed, else touched.
 */
static _Thread_local struct {
	void *buf;
	size_t len;
} resident;

static void make_resident(void *buf, size_t len)
{
	long page = sysconf(_SC_PAGESIZE);

	if (buf == resident.buf && len <= resident.len)
		return;
	/* The system call itself: the sanitizers' mlock does nothing and
	 * says it succeeded. Touched too, so the pages are there even
	 * when the lock is refused (or a future runtime ignores it). */
	(void)syscall(SYS_mlock, buf, len);
	for (size_t off = 0; off < len; off += (size_t)page)
		((volatile char *)buf)[off] = 0;
	resident.buf = buf;
	resident.len = len;
}

/*
 * The same holds for the memory a reply is copied from: a page not mapped
 * in this process (a region's or a view's window after a restart: the
 * successor maps the files anew; one reclaimed or migrated) sends the
 * kernel's copy to its slow path, which stops on a fatal signal, and the
 * kernel ends the request with EIO instead of leaving it to be resent. So
 * the pages are mapped first, by MADV_POPULATE_READ (the kernel's fault-in:
 * a fault taken from user space costs more than the copy): a process
 * killed there dies before its reply, and its successor gets the request
 * again. The window left is a page unmapped again between the populate and
 * the write. An error (EFAULT: a view's file shrunk) is ignored: the reply
 * then fails as it would have.
 */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

void rfs_wire_prefault(struct rfs_daemon *d, const struct iovec *iov, int count)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (!d->restart)
		return;
	for (int i = 0; i < count; i++) {
		uintptr_t lo = (uintptr_t)iov[i].iov_base & ~(page - 1);
		uintptr_t hi =
			((uintptr_t)iov[i].iov_base + iov[i].iov_len + page - 1) & ~(page - 1);

		if (iov[i].iov_len)
			(void)madvise((void *)lo, hi - lo, MADV_POPULATE_READ);
	}
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct rfs_daemon *d = userdata;
	const struct fuse_in_header *ih = buf;
	ssize_t n;

	if (d->restart)
		make_resident(buf, len);
	if (atomic_load(&d->wire->handover) && (n = replay_init(d, buf, len)) != 0)
		return n;
	for (;;) {
		int cancel;
		bool answered = false;

		n = read(fd, buf, len);
		/* libfuse lets the session's end cancel its readers, here: not
		 * while the request is looked at, under the namespace's locks. */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
		if (n >= (ssize_t)(sizeof(*ih) + sizeof(struct fuse_init_in)) &&
		    ih->opcode == FUSE_INIT) {
			take_init(d, ih, n);
			/* Kept for the serving processes after this one. */
			if (d->restart && (size_t)n <= sizeof(d->restart->init)) {
				memcpy(d->restart->init, buf, (size_t)n);
				atomic_store(&d->restart->init_len, (uint32_t)n);
			}
		} else if (n > 0) {
			rfs_journal_set_unique(ih->unique);
			answered = ih->unique & RESENT && rfs_resent(d, fd, buf, &n);
			if (!answered)
				rfs_wire_inspect(d, buf, (size_t)n);
		}
		pthread_setcancelstate(cancel, NULL);
		if (!answered)
			return n;
	}
}

/*
 * libfuse took the INIT again: its reply is not for the kernel, which has
 * one. Have the kernel resend what the dead process had read, then let
 * the readers read.
 */
static ssize_t hand_over(struct rfs_daemon *d, int fd, struct iovec *iov, int count)
{
	struct fuse_out_header resend = {.len = sizeof(resend), .error = NOTIFY_RESEND};
	struct rfs_wire *w = d->wire;
	ssize_t len = 0;
	int64_t took;

	for (int i = 0; i < count; i++)
		len += (ssize_t)iov[i].iov_len;
	if (write(fd, &resend, sizeof(resend)) != (ssize_t)sizeof(resend))
		rfs_log(RFS_LOG_ERR, "restart: the kernel refused to resend requests: %s",
			strerror(errno));
	took = rfs_now_ns() - atomic_load(&d->restart->died_ns);
	atomic_store(&d->restart->restart_ns, took);
	rfs_log(RFS_LOG_INFO,
		"%s: serving again (process %d, restart %llu) %.1f ms after the last one died",
		d->mountpoint, (int)getpid(),
		(unsigned long long)atomic_load(&d->restart->restarts), (double)took / 1e6);
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->handover, false);
	pthread_cond_broadcast(&w->served);
	pthread_mutex_unlock(&w->lock);
	rfs_restart_served(d);
	return len;
}

/* libfuse's INIT reply: take the offers we want, then start what needs it. */
static ssize_t write_init_reply(struct rfs_daemon *d, int fd, struct iovec *iov, int count)
{
	struct rfs_wire *init = d->wire;
	const struct fuse_out_header *oh = iov[0].iov_base;
	struct fuse_init_out *out = count > 1 ? iov[1].iov_base : NULL;
	bool ok = oh->error == 0 && out &&
		  iov[1].iov_len >= offsetof(struct fuse_init_out, flags2) + sizeof(out->flags2);
	bool uring = ok && d->uring && atomic_load(&init->uring);
	ssize_t n;

	atomic_store(&init->unique, 0);
	rfs_data_path_decide(d, ok && atomic_load(&init->passthrough));
	if (atomic_load(&d->passthrough))
		rfs_passthrough_accept(out, iov[1].iov_len);
	/* The daemon drops set-user-ID on write (rfs_wire_inspect), so the
	 * kernel need not ask for security.capability before every write. */
	if (ok && atomic_load(&init->killpriv))
		out->flags |= FUSE_HANDLE_KILLPRIV_V2;
	/* -o idmap: the kernel maps the ids of what is created and checks
	 * permissions itself (default_permissions); other requests then come
	 * without the caller's ids (rfs_req_cred finds them). */
	if (ok && d->idmap && atomic_load(&init->idmap)) {
		out->flags |= FUSE_INIT_EXT;
		out->flags2 |= ALLOW_IDMAP_FLAG2;
	}
	if (uring)
		rfs_uring_accept(out);
	else if (d->uring)
		rfs_log(RFS_LOG_WARN, "io_uring: the kernel does not offer FUSE over io_uring "
				      "(Linux 6.14+, fuse.enable_uring=Y): /dev/fuse serves");
	if (atomic_load(&init->handover))
		return hand_over(d, fd, iov, count);
	n = writev(fd, iov, count);
	/* The kernel has applied the reply: the rings may register now. */
	if (n >= 0 && uring)
		rfs_uring_start(d->uring, out->max_write);
	return n;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct rfs_daemon *d = userdata;
	const struct fuse_out_header *oh = iov[0].iov_base;
	uint64_t init = atomic_load_explicit(&d->wire->unique, memory_order_relaxed);
	ssize_t n;

	/* EMFILE would tell the client its own descriptor table is full; the
	 * daemon's is (a store file or a backing file could not be opened). */
	if (oh->error == -EMFILE)
		((struct fuse_out_header *)iov[0].iov_base)->error = -ENFILE;
	rfs_passthrough_rewrite(iov, count);
	if (pending_statx.unique && oh->unique == pending_statx.unique) {
		pending_statx.unique = 0;
		if (oh->error == 0)
			statx_reply(iov, count);
	}
	if (rfs_uring_capture(iov, count, &n))
		return n;
	if (init && oh->unique == init)
		return write_init_reply(d, fd, iov, count);
	rfs_restart_replied(d->restart);
	n = writev(fd, iov, count);
	if (oh->unique & RESENT)
		rfs_resent_replied(d, oh->unique);
	return n;
}

int rfs_wire_attach(struct rfs_daemon *d)
{
	static const struct fuse_custom_io io = {.read = io_read, .writev = io_writev};
	struct rfs_wire *init = calloc(1, sizeof(*init));

	if (!init)
		return -ENOMEM;
	pthread_mutex_init(&init->lock, NULL);
	pthread_cond_init(&init->served, NULL);
	d->wire = init;
	if (fuse_session_custom_io(d->se, &io, fuse_session_fd(d->se))) {
		d->wire = NULL;
		free(init);
		return -EINVAL;
	}
	return 0;
}

void rfs_wire_handover(struct rfs_daemon *d)
{
	atomic_store(&d->wire->handover, true);
}

void rfs_wire_detach(struct rfs_daemon *d)
{
	if (d->wire) {
		pthread_mutex_destroy(&d->wire->lock);
		pthread_cond_destroy(&d->wire->served);
	}
	free(d->wire);
	d->wire = NULL;
}
