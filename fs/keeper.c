/* Budget instances the supervisor keeps for the serving process's successor (keeper.h). */
#include "fs/keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fs/log.h"
#include "lib/journal.h"

enum { KEEP = 1, DROP = 2 };

/* One message: KEEP carries the instance's root, DROP nothing. */
struct keep_msg {
	uint64_t id;
	uint32_t op;
	uint32_t zero;
};

struct rfs_keeper {
	int sock[2]; /* [0] the supervisor reads, [1] serving processes send */
	struct rfs_journal *journal;
	struct rfs_store_kept *kept;
	size_t n, room;
};

/* Keep dir (ours now) under id, replacing what a number reused would hold. */
static int keep(struct rfs_keeper *k, uint64_t id, int dir)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->kept[i].id == id) {
			close(k->kept[i].dir);
			k->kept[i].dir = dir;
			return 0;
		}
	if (k->n == k->room) {
		size_t room = k->room ? 2 * k->room : 16;
		struct rfs_store_kept *more = realloc(k->kept, room * sizeof(*more));

		if (!more) {
			close(dir);
			return -ENOMEM;
		}
		k->kept = more;
		k->room = room;
	}
	k->kept[k->n++] = (struct rfs_store_kept){id, dir};
	return 0;
}

static void drop(struct rfs_keeper *k, uint64_t id)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->kept[i].id == id) {
			close(k->kept[i].dir);
			k->kept[i] = k->kept[--k->n];
			return;
		}
}

int rfs_keeper_new(const struct rfs_store_kept *handed, size_t n, struct rfs_journal *journal,
		   struct rfs_keeper **out)
{
	struct rfs_keeper *k = calloc(1, sizeof(*k));
	int err = 0;

	if (!k)
		return -ENOMEM;
	k->journal = journal;
	/* Packets: one message each, never merged or split. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, k->sock)) {
		err = -errno;
		free(k);
		return err;
	}
	for (size_t i = 0; !err && i < n; i++) {
		int dir = fcntl(handed[i].dir, F_DUPFD_CLOEXEC, 0);

		err = dir < 0 ? -errno : keep(k, handed[i].id, dir);
	}
	if (err) {
		rfs_keeper_free(k);
		return err;
	}
	*out = k;
	return 0;
}

void rfs_keeper_listen(struct rfs_keeper *k)
{
	if (!k)
		return;
	fcntl(k->sock[0], F_SETOWN, getpid());
	fcntl(k->sock[0], F_SETFL, fcntl(k->sock[0], F_GETFL) | O_ASYNC | O_NONBLOCK);
}

/* The instance a KEEP carries, or -1; any other descriptor is closed. */
static int carried(struct msghdr *mh)
{
	int dir = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (dir < 0)
				dir = fd;
			else
				close(fd);
		}
	}
	return dir;
}

void rfs_keeper_drain(struct rfs_keeper *k)
{
	if (!k)
		return;
	for (;;) {
		union {
			char buf[CMSG_SPACE(2 * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct keep_msg m;
		struct iovec iov = {&m, sizeof(m)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t got = recvmsg(k->sock[0], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int dir;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return; /* EAGAIN: all taken */
		dir = carried(&mh);
		if (got == sizeof(m) && m.op == DROP)
			drop(k, m.id);
		if (got != sizeof(m) || m.op != KEEP || dir < 0) {
			if (dir >= 0)
				close(dir);
			continue;
		}
		if (keep(k, m.id, dir)) {
			rfs_log(RFS_LOG_ERR, "budget %llu's instance cannot be kept: out of memory",
				(unsigned long long)m.id);
			rfs_journal_break(k->journal,
					  "the supervisor could not keep a budget's instance");
		}
	}
}

size_t rfs_keeper_list(const struct rfs_keeper *k, struct rfs_store_kept *out, size_t max)
{
	if (!k)
		return 0;
	for (size_t i = 0; i < k->n && i < max; i++)
		out[i] = k->kept[i];
	return k->n;
}

static int send_msg(struct rfs_keeper *k, uint64_t id, uint32_t op, int dir)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct keep_msg m = {.id = id, .op = op};
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (dir >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &dir, sizeof(int));
	}
	/* Queued is kept: the socket holds the descriptor until the
	 * supervisor reads it, whatever becomes of this process. */
	while (sendmsg(k->sock[1], &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int made(void *ctx, uint64_t id, int dir)
{
	int err = send_msg(ctx, id, KEEP, dir);

	if (err)
		rfs_log(RFS_LOG_ERR, "budget %llu: the supervisor cannot keep its instance: %s",
			(unsigned long long)id, strerror(-err));
	return err;
}

static void gone(void *ctx, uint64_t id)
{
	send_msg(ctx, id, DROP, -1); /* else the supervisor holds an empty instance */
}

void rfs_keeper_free(struct rfs_keeper *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		close(k->kept[i].dir);
	free(k->kept);
	for (int i = 0; i < 2; i++)
		if (k->sock[i] >= 0)
			close(k->sock[i]);
	free(k);
}

int rfs_keeper_serve(struct rfs_keeper *k, struct rfs_store *store)
{
	const struct rfs_store_hooks hooks = {.made = made, .gone = gone, .ctx = k};
	int err = 0;

	close(k->sock[0]);
	k->sock[0] = -1;
	/* This process's copies, the store's from here on. */
	for (size_t i = 0; i < k->n; i++) {
		int e = rfs_store_keep_budget(store, k->kept[i].id, k->kept[i].dir);

		if (e && !err)
			err = e;
	}
	k->n = 0;
	rfs_store_on_budgets(store, &hooks);
	return err;
}
