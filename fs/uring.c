/*
 * FUSE over io_uring (-o io_uring; Linux 6.14+ with fuse.enable_uring=Y).
 *
 * Why: over /dev/fuse every request costs the daemon two system calls
 * (read, writev) and two wake-ups, and the scheduler wakes the daemon's
 * thread on whichever CPU is idle. On this project's VMs (halt polling
 * off) waking an idle vCPU is a VM exit, so one synchronous 4 KiB client
 * gets ~60k requests/s, and ~200k when client and daemon share a CPU. With
 * io_uring the kernel queues a request on the queue of the CPU its client
 * runs on and completes it to a worker of that queue, and a reply plus the
 * wait for the next request is one io_uring_enter: one synchronous 4 KiB
 * client 55k -> 130k requests/s, two 220k -> 285k.
 *
 * libfuse 3.14 predates the protocol, so this file works under it through
 * the custom I/O layer (fs/wire.c): FUSE_OVER_IO_URING goes into the INIT
 * reply when the kernel offers it, then this file registers one ring entry per
 * worker, CPU by CPU. A request fetched from a ring is laid out as /dev/fuse
 * would have delivered it and handed to fuse_session_process_buf; the
 * reply libfuse then writes is caught in the layer's writev and committed to the ring
 * with the fetch of the next request. /dev/fuse keeps INIT, FORGET,
 * INTERRUPT and notifications; everything else moves to the rings once
 * every CPU's queue has an entry.
 *
 * Cost: a read's bytes are copied into the entry's buffer and then by the
 * kernel, where writev let the kernel copy from the mapping once. Reads
 * therefore fill the entry's buffer themselves (rfs_uring_reply_space): a
 * region with pread from its store file, which beats copying from the
 * daemon's mapping, whose first touch of each page is a costly fault on
 * this project's VMs (0.2-0.5 GB/s for 1 MiB reads of a freshly opened
 * region, against 2.5+ GB/s with pread).
 */
#include "fs/uring.h"

#include <errno.h>
#include <liburing.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/wire.h"
#include "lib/guard.h"
#include "fs/log.h"

/* The protocol (include/uapi/linux/fuse.h, 7.42), for older headers. */
#ifndef FUSE_URING_IN_OUT_HEADER_SZ
#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ	    128
struct fuse_uring_ent_in_out {
	uint64_t flags;
	uint64_t commit_id; /* names the entry in its commit */
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};
struct fuse_uring_req_header {
	char in_out[FUSE_URING_IN_OUT_HEADER_SZ]; /* fuse_in_header, fuse_out_header */
	char op_in[FUSE_URING_OP_IN_OUT_SZ];	  /* the opcode's fixed argument */
	struct fuse_uring_ent_in_out ring_ent_in_out;
};
enum { FUSE_IO_URING_CMD_REGISTER = 1, FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2 };
struct fuse_uring_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};
#endif
#ifndef FUSE_OVER_IO_URING
#define FUSE_OVER_IO_URING (1ULL << 41)
#endif

/*
 * Workers per CPU queue, each with one entry: a request always lands on an
 * idle worker, so one slow request (an fsync) never holds up the next one
 * from the same CPU.
 */
#define WORKERS_PER_CPU 4
/* Room before the payload for the in header and the opcode's argument. */
#define HEADROOM 256
/* Bytes of an SQE128 from the command field to its end. */
#define CMD_AREA 80
/* How often a waiting worker looks at the stop flag. */
#define STOP_POLL_NS 200000000

struct worker {
	struct rfs_uring *u;
	unsigned int qid;
	pthread_t thread; /* running for the first u->nworkers workers */
	struct io_uring ring;
	struct fuse_uring_req_header hdr;
	struct iovec iov[2];
	char *buf;	 /* HEADROOM, then the payload */
	uint64_t unique; /* of the request being served */
	bool replied;
};

struct rfs_uring {
	struct rfs_daemon *d; /* whose session it serves; fixed */
	struct fuse_session *se;
	int fd; /* the session's /dev/fuse */
	size_t payload_max;
	unsigned int nalloc;   /* workers allocated */
	unsigned int nworkers; /* workers started, the first ones */
	struct worker *workers;
	atomic_bool stop;
	_Atomic uint64_t requests;
};

/* The entry whose request this thread is serving: where a reply goes. */
static __thread struct worker *serving;

/* CPUs the kernel may ever run a client on: one queue each. */
static unsigned int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned int lo, hi = 0;
	int n = 0;

	if (f) {
		n = fscanf(f, "%u-%u", &lo, &hi);
		fclose(f);
	}
	if (n == 1)
		hi = lo;
	return n >= 1 ? hi + 1 : (unsigned int)sysconf(_SC_NPROCESSORS_CONF);
}

static int queue_cmd(struct worker *w, uint32_t cmd, uint64_t commit_id)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	struct fuse_uring_cmd_req req = {.commit_id = commit_id, .qid = (uint16_t)w->qid};

	/* A worker has one command in flight, so the ring always has room. */
	if (!sqe)
		return -EBUSY;
	/* With SQE128 the command area runs on 80 bytes past the sqe. */
	memset(sqe, 0, sizeof(*sqe));
	memset(sqe->cmd, 0, CMD_AREA);
	memcpy(sqe->cmd, &req, sizeof(req));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = w->u->fd;
	sqe->cmd_op = cmd;
	sqe->addr = (uintptr_t)w->iov;
	sqe->len = 2;
	io_uring_sqe_set_data(sqe, w);
	return 0;
}

/* Lay the fetched request out as /dev/fuse delivers it, serve it, and
 * queue the commit of the reply. */
static int serve(struct worker *w)
{
	struct fuse_in_header ih;
	uint32_t payload = w->hdr.ring_ent_in_out.payload_sz;
	uint64_t commit_id = w->hdr.ring_ent_in_out.commit_id;
	struct fuse_out_header oh;
	size_t op;
	char *start;

	memcpy(&ih, w->hdr.in_out, sizeof(ih));
	op = ih.len - sizeof(ih) - payload;
	w->unique = ih.unique;
	w->replied = false;
	if (ih.len >= sizeof(ih) + payload && op <= FUSE_URING_OP_IN_OUT_SZ &&
	    payload <= w->u->payload_max) {
		start = w->buf + HEADROOM - op - sizeof(ih);
		memcpy(start, &ih, sizeof(ih));
		memcpy(start + sizeof(ih), w->hdr.op_in, op);
		serving = w;
		rfs_wire_inspect(w->u->d, start, ih.len);
		fuse_session_process_buf(w->u->se,
					 &(struct fuse_buf){.mem = start, .size = ih.len});
		serving = NULL;
		atomic_fetch_add_explicit(&w->u->requests, 1, memory_order_relaxed);
	}
	if (!w->replied) {
		/* Malformed, or libfuse could not send its reply: fail it. */
		oh = (struct fuse_out_header){
			.len = sizeof(oh), .error = -EIO, .unique = ih.unique};
		memcpy(w->hdr.in_out, &oh, sizeof(oh));
		w->hdr.ring_ent_in_out.payload_sz = 0;
	}
	return queue_cmd(w, FUSE_IO_URING_CMD_COMMIT_AND_FETCH, commit_id);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rfs_uring *u = w->u;
	int err;

	/*
	 * Not pinned to its queue's CPU: measured on 2 vCPUs, one synchronous
	 * 4 KiB client got 44-51k requests/s with pinned workers (the
	 * scheduler then wakes the client on the other, idle CPU, and every
	 * request crosses CPUs), 126-138k unpinned. Pinned workers at
	 * SCHED_IDLE reached 185k, but would starve behind any busy task.
	 */
	err = queue_cmd(w, FUSE_IO_URING_CMD_REGISTER, 0);
	while (!err && !atomic_load_explicit(&u->stop, memory_order_relaxed)) {
		struct __kernel_timespec ts = {.tv_nsec = STOP_POLL_NS};
		struct io_uring_cqe *cqe = NULL;
		int res;

		/* Submits the pending commit (if any) and waits: one syscall. */
		err = io_uring_submit_and_wait_timeout(&w->ring, &cqe, 1, &ts, NULL);
		if (err == -ETIME || err == -EINTR || (err >= 0 && !cqe)) {
			err = 0;
			continue;
		}
		if (err < 0)
			break;
		err = 0;
		res = cqe->res;
		io_uring_cqe_seen(&w->ring, cqe);
		if (res < 0) {
			/* -ENOTCONN and -ECANCELED: the connection is going away. */
			if (res != -ENOTCONN && res != -ECANCELED && res != -ENODEV)
				rfs_log(RFS_LOG_WARN, "io_uring queue %u: %s", w->qid,
					strerror(-res));
			break;
		}
		err = serve(w);
	}
	if (err)
		rfs_log(RFS_LOG_WARN, "io_uring worker on CPU %u: %s", w->qid, strerror(-err));
	return NULL;
}

static int start_workers(struct rfs_uring *u, size_t max_write)
{
	unsigned int ncpu = possible_cpus();

	u->payload_max = (max_write > 8192 ? max_write : 8192) + 4096;
	u->workers = calloc((size_t)ncpu * WORKERS_PER_CPU, sizeof(*u->workers));
	if (!u->workers)
		return -ENOMEM;
	u->nalloc = ncpu * WORKERS_PER_CPU;
	for (unsigned int i = 0; i < ncpu * WORKERS_PER_CPU; i++) {
		struct worker *w = &u->workers[i];
		int err;

		w->u = u;
		w->qid = i / WORKERS_PER_CPU;
		w->buf = malloc(HEADROOM + u->payload_max);
		if (!w->buf)
			return -ENOMEM;
		w->iov[0] = (struct iovec){&w->hdr, sizeof(w->hdr)};
		w->iov[1] = (struct iovec){w->buf + HEADROOM, u->payload_max};
		err = io_uring_queue_init(4, &w->ring, IORING_SETUP_SQE128);
		if (err)
			return err;
		err = -pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			io_uring_queue_exit(&w->ring);
			return err;
		}
		u->nworkers = i + 1;
	}
	return 0;
}

bool rfs_uring_offered(const struct fuse_init_in *in)
{
	return in->flags & FUSE_INIT_EXT && in->flags2 & (uint32_t)(FUSE_OVER_IO_URING >> 32);
}

void rfs_uring_accept(struct fuse_init_out *out)
{
	out->flags |= FUSE_INIT_EXT;
	out->flags2 |= (uint32_t)(FUSE_OVER_IO_URING >> 32);
}

void rfs_uring_start(struct rfs_uring *u, size_t max_write)
{
	int err = start_workers(u, max_write);

	if (err)
		rfs_log(RFS_LOG_WARN, "io_uring: cannot start the rings (%s): /dev/fuse serves",
			strerror(-err));
}

bool rfs_uring_capture(struct iovec *iov, int count, ssize_t *ret)
{
	struct worker *w = serving;
	const struct fuse_out_header *oh = iov[0].iov_base;
	size_t len = 0;

	if (!w || oh->unique != w->unique)
		return false;
	*ret = -1;
	for (int i = 1; i < count; i++) {
		if (len + iov[i].iov_len > w->u->payload_max) {
			errno = EINVAL;
			return true;
		}
		/* In place already (rfs_uring_reply_space), or mapped memory,
		 * which can fault. */
		if (iov[i].iov_base != w->buf + HEADROOM + len &&
		    rfs_guarded_copy(w->buf + HEADROOM + len, iov[i].iov_base, iov[i].iov_len,
				     iov[i].iov_base, iov[i].iov_len)) {
			errno = EFAULT;
			return true;
		}
		len += iov[i].iov_len;
	}
	memcpy(w->hdr.in_out, oh, sizeof(*oh));
	w->hdr.ring_ent_in_out.payload_sz = (uint32_t)len;
	w->replied = true;
	*ret = (ssize_t)(sizeof(*oh) + len);
	return true;
}

void *rfs_uring_reply_space(size_t *cap)
{
	struct worker *w = serving;

	if (!w)
		return NULL;
	*cap = w->u->payload_max;
	return w->buf + HEADROOM;
}

struct rfs_uring *rfs_uring_new(struct rfs_daemon *d)
{
	struct rfs_uring *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->d = d;
	u->se = d->se;
	u->fd = fuse_session_fd(d->se);
	return u;
}

uint64_t rfs_uring_requests(const struct rfs_uring *u)
{
	return u ? atomic_load_explicit(&u->requests, memory_order_relaxed) : 0;
}

void rfs_uring_stop(struct rfs_uring *u)
{
	if (!u)
		return;
	atomic_store(&u->stop, true);
	for (unsigned int i = 0; i < u->nworkers; i++) {
		pthread_join(u->workers[i].thread, NULL);
		io_uring_queue_exit(&u->workers[i].ring);
	}
	for (unsigned int i = 0; i < u->nalloc; i++)
		free(u->workers[i].buf);
	free(u->workers);
	free(u);
}
