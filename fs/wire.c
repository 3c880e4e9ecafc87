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

/* INIT as the kernel offered it: read by one thread, answered maybe by another. */
struct rfs_wire {
	_Atomic uint64_t unique; /* of the INIT request, until it is answered */
	atomic_bool passthrough, uring;
};

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
		atomic_store(&init->unique, ih->unique);
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
