/* FUSE passthrough for regions: see fs/passthrough.h. */
#include "fs/passthrough.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/hash.h"
#include "fs/log.h"

/* The protocol (include/uapi/linux/fuse.h, 7.40), for older headers. */
#define PT_INIT_FLAG2	      (1u << 5)	 /* FUSE_PASSTHROUGH >> 32 */
#define PT_FOPEN	      (1u << 7)	 /* FOPEN_PASSTHROUGH */
#define PT_STACK_DEPTH_OFFSET 36	 /* fuse_init_out.max_stack_depth (3.14: unused[0]) */
#define PT_BACKING_ID_OFFSET  12	 /* fuse_open_out.backing_id (3.14: padding) */
#define PT_IOC_BACKING_OPEN   0x4010e501 /* _IOW(229, 1, struct fuse_backing_map) */
#define PT_IOC_BACKING_CLOSE  0x4004e502 /* _IOW(229, 2, uint32_t) */
#define PT_INIT_OUT_MIN	      40	 /* fuse_init_out up to max_stack_depth */

struct backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

/* The initial user namespace's inode number (PROC_USER_INIT_INO). */
#define INIT_USER_NS "user:[4026531837]"

struct backing {
	struct rfs_hash_link link; /* in p->backings, keyed by the region */
	const struct rfs_mapping *key;
	int id;
	unsigned int opens;
};

struct rfs_passthrough {
	int fd; /* the session's /dev/fuse; fixed */
	pthread_mutex_t lock;
	struct rfs_hash backings; /* struct backing; protected by lock */
};

/* The backing id for the reply this thread is about to send, or -1. */
static __thread int reply_id = -1;

struct rfs_passthrough *rfs_passthrough_new(int fd)
{
	struct rfs_passthrough *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->fd = fd;
	rfs_hash_init(&p->backings);
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void rfs_passthrough_free(struct rfs_passthrough *p)
{
	struct rfs_hash_link *l, *next;

	if (!p)
		return;
	for (l = rfs_hash_next(&p->backings, NULL); l; l = next) {
		next = rfs_hash_next(&p->backings, l);
		free(rfs_hash_entry(l, struct backing, link));
	}
	rfs_hash_destroy(&p->backings);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

bool rfs_passthrough_offered(const void *init_in, size_t len)
{
	const struct fuse_init_in *in = init_in;

	return len >= sizeof(*in) && in->flags & FUSE_INIT_EXT && in->flags2 & PT_INIT_FLAG2;
}

void rfs_passthrough_accept(void *init_out, size_t len)
{
	struct fuse_init_out *out = init_out;
	uint16_t depth = 1; /* the store is a plain tmpfs: one level below us */

	if (len < PT_INIT_OUT_MIN)
		return;
	out->flags |= FUSE_INIT_EXT;
	out->flags2 |= PT_INIT_FLAG2;
	memcpy((char *)init_out + PT_STACK_DEPTH_OFFSET, &depth, sizeof(depth));
}

bool rfs_passthrough_permitted(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	char ns[64];
	ssize_t n;

	if (syscall(SYS_capget, &hdr, data) < 0 || !(data[0].effective & (1u << CAP_SYS_ADMIN)))
		return false;
	/* The kernel asks for the capability in the initial user namespace. */
	n = readlink("/proc/self/ns/user", ns, sizeof(ns) - 1);
	if (n < 0)
		return true; /* no /proc: let BACKING_OPEN decide */
	ns[n] = '\0';
	return strcmp(ns, INIT_USER_NS) == 0;
}

static bool backing_eq(const struct rfs_hash_link *l, const void *m)
{
	return rfs_hash_entry(l, struct backing, link)->key == m;
}

/* The backing of region m, or NULL. p->lock held. */
static struct backing *find(struct rfs_passthrough *p, const struct rfs_mapping *m)
{
	struct rfs_hash_link *l = rfs_hash_find(&p->backings, rfs_hash_ptr(m), backing_eq, m);

	return l ? rfs_hash_entry(l, struct backing, link) : NULL;
}

int rfs_passthrough_open(struct rfs_passthrough *p, struct rfs_mapping *m)
{
	struct backing *b, *nb;
	struct backing_map map = {0};
	int id, err;

	pthread_mutex_lock(&p->lock);
	b = find(p, m);
	if (b) {
		b->opens++;
		id = b->id;
		goto out;
	}
	nb = calloc(1, sizeof(*nb));
	map.fd = nb ? rfs_mapping_backing_fd(m) : -ENOMEM;
	if (map.fd < 0) {
		free(nb);
		id = map.fd;
		goto out;
	}
	id = ioctl(p->fd, PT_IOC_BACKING_OPEN, &map);
	if (id < 0)
		id = -errno;
	close(map.fd); /* the kernel holds the file now */
	if (id < 0) {
		free(nb);
		goto out;
	}
	*nb = (struct backing){.key = m, .id = id, .opens = 1};
	err = rfs_hash_insert(&p->backings, &nb->link, rfs_hash_ptr(m));
	if (err) {
		ioctl(p->fd, PT_IOC_BACKING_CLOSE, &(uint32_t){(uint32_t)id});
		free(nb);
		id = err;
	}
out:
	pthread_mutex_unlock(&p->lock);
	return id;
}

int rfs_passthrough_adopt(struct rfs_passthrough *p, struct rfs_mapping *m, int id)
{
	struct backing *b, *nb;
	int err = 0;

	if (id < 0)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	b = find(p, m);
	if (b && b->id != id) {
		err = -EUCLEAN; /* one inode, one backing file */
	} else if (b) {
		b->opens++;
	} else if (!(nb = calloc(1, sizeof(*nb)))) {
		err = -ENOMEM;
	} else {
		*nb = (struct backing){.key = m, .id = id, .opens = 1};
		err = rfs_hash_insert(&p->backings, &nb->link, rfs_hash_ptr(m));
		if (err)
			free(nb);
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}

void rfs_passthrough_release(struct rfs_passthrough *p, struct rfs_mapping *m)
{
	struct backing *b, *gone = NULL;

	pthread_mutex_lock(&p->lock);
	b = find(p, m);
	if (b && --b->opens == 0) {
		gone = b;
		rfs_hash_remove(&p->backings, &b->link);
		/* Opens still in the kernel keep their file: only the id goes. */
		ioctl(p->fd, PT_IOC_BACKING_CLOSE, &(uint32_t){(uint32_t)gone->id});
	}
	pthread_mutex_unlock(&p->lock);
	free(gone);
}

int rfs_passthrough_reply_open(fuse_req_t req, const struct fuse_file_info *fi, int id)
{
	int err;

	reply_id = id;
	err = fuse_reply_open(req, fi);
	reply_id = -1;
	return err;
}

int rfs_passthrough_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
				 const struct fuse_file_info *fi, int id)
{
	int err;

	reply_id = id;
	err = fuse_reply_create(req, e, fi);
	reply_id = -1;
	return err;
}

void rfs_passthrough_rewrite(struct iovec *iov, int count)
{
	const struct fuse_out_header *oh = iov[0].iov_base;
	struct fuse_open_out *out;
	uint32_t id = (uint32_t)reply_id;

	/* libfuse sends an open or create reply as its header and one buffer
	 * that ends with fuse_open_out. */
	if (reply_id < 0 || count != 2 || oh->error || iov[1].iov_len < sizeof(*out))
		return;
	out = (struct fuse_open_out *)((char *)iov[1].iov_base + iov[1].iov_len - sizeof(*out));
	out->open_flags |= PT_FOPEN;
	memcpy((char *)out + PT_BACKING_ID_OFFSET, &id, sizeof(id));
}

void rfs_data_path_decide(struct rfs_daemon *d, bool offered)
{
	const char *why = NULL;

	if (d->no_passthrough)
		why = "-o passthrough=off";
	else if (d->writeback)
		why = "-o writeback (the kernel refuses passthrough with it)";
	else if (rfs_store_kind(d->store) == RFS_STORE_MEMFD)
		why = "a memfd store, whose cap only the daemon can check";
	else if (!offered)
		why = "the kernel does not offer FUSE passthrough (Linux 6.9+)";
	else if (!rfs_passthrough_permitted())
		why = "no CAP_SYS_ADMIN in the initial user namespace";
	else if (!d->pt)
		why = "out of memory";
	if (why)
		snprintf(d->data_path_init, sizeof(d->data_path_init), "daemon (%s)", why);
	else
		snprintf(d->data_path_init, sizeof(d->data_path_init), "kernel (passthrough)");
	atomic_store(&d->data_path, d->data_path_init);
	atomic_store(&d->passthrough, why == NULL);
	rfs_log(RFS_LOG_INFO, "regions: %s store, served by the %s", rfs_store_kind_name(d->store),
		d->data_path_init);
}
