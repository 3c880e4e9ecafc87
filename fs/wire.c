/* The custom I/O layer under libfuse: see fs/wire.h. */
#include "fs/wire.h"

#include <errno.h>
#include <linux/fuse.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/passthrough.h"
#include "fs/uring.h"
#include "fs/log.h"

#ifndef FUSE_HANDLE_KILLPRIV_V2
#define FUSE_HANDLE_KILLPRIV_V2 (1u << 28)
#endif
#ifndef FUSE_WRITE_KILL_SUIDGID
#define FUSE_WRITE_KILL_SUIDGID (1u << 2)
#endif
#ifndef FUSE_OPEN_KILL_SUIDGID
#define FUSE_OPEN_KILL_SUIDGID (1u << 0)
#endif
#ifndef FATTR_KILL_SUIDGID
#define FATTR_KILL_SUIDGID (1u << 11)
#endif

/* INIT as the kernel offered it: read by one thread, answered maybe by another. */
struct rfs_wire {
	_Atomic uint64_t unique; /* of the INIT request, until it is answered */
	atomic_bool passthrough, uring, killpriv;
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
	if (!asks_kill(ih, len))
		return;
	/* Before the request itself, as the kernel drops them before writing. */
	rfs_ns_kill_priv(d->ns, rfs_node(d, ih->nodeid));
}

static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct rfs_daemon *d = userdata;
	const struct fuse_in_header *ih = buf;
	ssize_t n = read(fd, buf, len);

	if (n >= (ssize_t)(sizeof(*ih) + sizeof(struct fuse_init_in)) && ih->opcode == FUSE_INIT) {
		const struct fuse_init_in *in = (const void *)(ih + 1);
		struct rfs_wire *init = d->wire;

		atomic_store(&init->passthrough,
			     rfs_passthrough_offered(in, (size_t)n - sizeof(*ih)));
		atomic_store(&init->uring, rfs_uring_offered(in));
		atomic_store(&init->killpriv, in->flags & FUSE_HANDLE_KILLPRIV_V2);
		atomic_store(&init->unique, ih->unique);
	} else if (n > 0) {
		rfs_wire_inspect(d, buf, (size_t)n);
	}
	return n;
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
	if (uring)
		rfs_uring_accept(out);
	else if (d->uring)
		rfs_log(RFS_LOG_WARN, "io_uring: the kernel does not offer FUSE over io_uring "
				      "(Linux 6.14+, fuse.enable_uring=Y): /dev/fuse serves");
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
	if (rfs_uring_capture(iov, count, &n))
		return n;
	if (init && oh->unique == init)
		return write_init_reply(d, fd, iov, count);
	return writev(fd, iov, count);
}

int rfs_wire_attach(struct rfs_daemon *d)
{
	static const struct fuse_custom_io io = {.read = io_read, .writev = io_writev};
	struct rfs_wire *init = calloc(1, sizeof(*init));

	if (!init)
		return -ENOMEM;
	d->wire = init;
	if (fuse_session_custom_io(d->se, &io, fuse_session_fd(d->se))) {
		d->wire = NULL;
		free(init);
		return -EINVAL;
	}
	return 0;
}

void rfs_wire_detach(struct rfs_daemon *d)
{
	free(d->wire);
	d->wire = NULL;
}
