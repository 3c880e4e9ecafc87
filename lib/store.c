#include "lib/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The new mount API, for C libraries that predate it (glibc < 2.36). */
#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_FLAG	 0
#define FSCONFIG_SET_STRING	 1
#define FSCONFIG_CMD_CREATE	 6
#define FSCONFIG_CMD_RECONFIGURE 7
#define FSPICK_CLOEXEC		 0x00000001
#define FSPICK_EMPTY_PATH	 0x00000008
#define FSOPEN_CLOEXEC		 0x00000001
#define FSMOUNT_CLOEXEC		 0x00000001
#define MOUNT_ATTR_NOSUID	 0x00000002
#define MOUNT_ATTR_NODEV	 0x00000004
#define MOUNT_ATTR_NOEXEC	 0x00000008
#endif
#ifndef MOUNT_ATTR_NOATIME
#define MOUNT_ATTR_NOATIME     0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#endif

struct rfs_store {
	enum rfs_store_kind kind;
	int dir; /* tmpfs: the instance's root (a detached mount); -1 for memfds */
	_Atomic uint64_t next_id;
	_Atomic uint64_t files;	    /* live files, for the memfd store's file limit */
	uint64_t max_files;	    /* fixed */
	uint64_t page;		    /* fixed */
	int reconf;		    /* tmpfs: a reconfiguration context of the instance, or -1 */
	bool noswap;		    /* tmpfs made with noswap; fixed */
	char *huge;		    /* tmpfs huge= mode or NULL, for budgets made from it; fixed */
	enum rfs_store_atime atime; /* the same; fixed */
	_Atomic unsigned int refs;
	atomic_bool keep_files; /* rfs_store_keep_files */
	/* The mount's store: rfs_store_inherit, until rfs_store_inherited;
	 * rfs_store_replay (its budgets look here too). */
	atomic_bool inheriting, replaying;
	/* A budget: the store its cap is carved from (reserved there while it
	 * lives), referenced. Changed by rfs_store_move, whose callers
	 * serialize it with every other use of the budget (the namespace's lock). */
	struct rfs_store *parent;
	struct rfs_store *root; /* a budget: the mount's store, whatever nests; fixed */
	uint64_t id;		/* a budget's number (rfs_store_budget_id); fixed */
	/* The mount's store: its live budgets in the order they were made (a
	 * live upgrade hands their instances on in it), the instances an
	 * earlier process left, which the budgets of their numbers take, and
	 * the next budget's number. Protected by lock. */
	struct rfs_store **budgets;
	size_t n_budgets;
	struct rfs_store_kept *kept;
	size_t n_kept;
	uint64_t next_budget;
	struct rfs_store_hooks hooks; /* the mount's store; set before serving */
	/* Guards the charges against the cap (and reconf's use), and the
	 * mount's store's lists of budgets. A tmpfs counts its regions' bytes
	 * itself; a memfd store counts them here. Never held while another
	 * store's is taken. */
	pthread_mutex_t lock;
	/* The instance's size=, shared by regions and cow views' private
	 * pages: the one place the cap is kept. Protected by lock; only a
	 * budget's changes (rfs_store_resize). */
	uint64_t cap;
	uint64_t memfd_bytes; /* memfd store: bytes its files allocated; protected by lock */
	uint64_t reserved;    /* taken by rfs_store_reserve; protected by lock */
};

static int sys_fsopen(const char *fs, unsigned int flags)
{
	return (int)syscall(SYS_fsopen, fs, flags);
}

static int sys_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
	return (int)syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}

static int sys_fspick(int dfd, const char *path, unsigned int flags)
{
	return (int)syscall(SYS_fspick, dfd, path, flags);
}

static int sys_fsmount(int fd, unsigned int flags, unsigned int attrs)
{
	return (int)syscall(SYS_fsmount, fd, flags, attrs);
}

/* A tmpfs of cap bytes and max_files inodes attached to no path: its root. */
static int make_tmpfs(uint64_t cap, uint64_t max_files, const struct rfs_store_tune *tune)
{
	char size[32], inodes[32];
	int fs, mnt, err = 0;

	snprintf(size, sizeof(size), "%" PRIu64, cap);
	snprintf(inodes, sizeof(inodes), "%" PRIu64, max_files);
	fs = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    (tune->huge && sys_fsconfig(fs, FSCONFIG_SET_STRING, "huge", tune->huge, 0) < 0) ||
	    (tune->noswap && sys_fsconfig(fs, FSCONFIG_SET_FLAG, "noswap", NULL, 0) < 0) ||
	    sys_fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", inodes, 0) < 0 ||
	    sys_fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
	    sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		err = -errno;
	mnt = err ? -1
		  : sys_fsmount(fs, FSMOUNT_CLOEXEC,
				MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
					(tune->atime == RFS_STORE_NOATIME ? MOUNT_ATTR_NOATIME
					 : tune->atime == RFS_STORE_STRICTATIME
						 ? MOUNT_ATTR_STRICTATIME
						 : 0));
	if (!err && mnt < 0)
		err = -errno;
	close(fs);
	return err ? err : mnt;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/*
 * Without CAP_SYS_ADMIN: a child makes the tmpfs inside a new user
 * namespace that maps only our own ids (so files we create there are ours)
 * and hands its root back over a socket. Descriptors work across
 * namespaces, so the daemon uses the instance as if it had mounted it.
 */
static int make_tmpfs_in_userns(uint64_t cap, uint64_t max_files, const struct rfs_store_tune *tune)
{
	char map[64];
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	char byte = 0;
	struct iovec iov = {&byte, 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	int sv[2], status, fd = -1;
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		int mnt = -1;

		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 &&
		    write_file("/proc/self/setgroups", "deny") == 0 &&
		    snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid) > 0 &&
		    write_file("/proc/self/uid_map", map) == 0 &&
		    snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid) > 0 &&
		    write_file("/proc/self/gid_map", map) == 0)
			mnt = make_tmpfs(cap, max_files, tune);
		if (mnt >= 0) {
			msg.msg_control = ctl.buf;
			msg.msg_controllen = sizeof(ctl.buf);
			CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
			CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
			CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &mnt, sizeof(int));
		}
		_exit(sendmsg(sv[1], &msg, 0) == 1 && mnt >= 0 ? 0 : 1);
	}
	close(sv[1]);
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	if (recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC) == 1 && CMSG_FIRSTHDR(&msg) &&
	    CMSG_FIRSTHDR(&msg)->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return fd >= 0 ? fd : -EPERM;
}

/*
 * The floor: one allocated page in a file no region uses, so the instance
 * is one page larger than the cap. Reserving the whole cap then shrinks it
 * to that page, full, instead of to size 0, which tmpfs reads as no limit.
 */
#define FLOOR_NAME "floor"

static int make_floor(int dir, uint64_t page)
{
	int fd = openat(dir, FLOOR_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fallocate(fd, 0, 0, (off_t)page) < 0)
		err = -errno;
	close(fd);
	return err;
}

int rfs_store_new(uint64_t cap, uint64_t max_files, enum rfs_store_kind want,
		  struct rfs_store **out)
{
	return rfs_store_new_tuned(cap, max_files, want, NULL, out);
}

/* A store with nothing made yet: memfds until it gets an instance. */
static struct rfs_store *store_alloc(uint64_t cap, uint64_t max_files,
				     const struct rfs_store_tune *tune)
{
	struct rfs_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kind = RFS_STORE_MEMFD;
	s->dir = -1;
	s->reconf = -1;
	s->cap = cap;
	atomic_init(&s->refs, 1);
	s->atime = tune->atime;
	if (tune->huge && !(s->huge = strdup(tune->huge))) {
		free(s);
		return NULL;
	}
	s->page = (uint64_t)sysconf(_SC_PAGESIZE);
	pthread_mutex_init(&s->lock, NULL);
	s->max_files = max_files;
	atomic_init(&s->next_id, 1);
	s->next_budget = 1;
	return s;
}

static void store_dealloc(struct rfs_store *s)
{
	for (size_t i = 0; i < s->n_kept; i++)
		close(s->kept[i].dir);
	free(s->kept);
	free(s->budgets);
	pthread_mutex_destroy(&s->lock);
	free(s->huge);
	free(s);
}

/* s keeps its files in the tmpfs instance whose root is dir. */
static void store_in_tmpfs(struct rfs_store *s, int dir, bool noswap)
{
	s->dir = dir;
	s->kind = RFS_STORE_TMPFS;
	s->noswap = noswap;
	/* Where the instance cannot be resized (no CAP_SYS_ADMIN), reserve
	 * checks against what it reports instead. */
	s->reconf = sys_fspick(s->dir, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC);
}

int rfs_store_new_tuned(uint64_t cap, uint64_t max_files, enum rfs_store_kind want,
			const struct rfs_store_tune *tune, struct rfs_store **out)
{
	static const struct rfs_store_tune defaults;
	struct rfs_store *s;

	if (!tune)
		tune = &defaults;
	if (tune->noswap && want != RFS_STORE_TMPFS)
		return -EOPNOTSUPP;
	s = store_alloc(cap, max_files, tune);
	if (!s)
		return -ENOMEM;
	if (want == RFS_STORE_TMPFS) {
		int dir = make_tmpfs(cap + s->page, max_files + 1, tune);

		/* The kernel refuses noswap inside a user namespace. */
		if (dir == -EPERM && !tune->noswap)
			dir = make_tmpfs_in_userns(cap + s->page, max_files + 1, tune);
		if (dir >= 0 && make_floor(dir, s->page)) {
			close(dir);
			dir = -ENOSPC;
		}
		if (dir >= 0) {
			store_in_tmpfs(s, dir, tune->noswap);
		} else if (tune->noswap) {
			/* Memfds would swap: better no store than a silent one. */
			store_dealloc(s);
			return dir;
		}
	}
	*out = s;
	return 0;
}

int rfs_store_inherit(int dir, const struct rfs_store_kept *budgets, size_t n_budgets, uint64_t cap,
		      uint64_t max_files, const struct rfs_store_tune *tune, struct rfs_store **out)
{
	static const struct rfs_store_tune defaults;
	struct rfs_store *s = store_alloc(cap, max_files, tune ? tune : &defaults);
	int mine = -1, err = 0;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; !err && i < n_budgets; i++) {
		int d = fcntl(budgets[i].dir, F_DUPFD_CLOEXEC, 0);

		err = d < 0 ? -errno : rfs_store_keep_budget(s, budgets[i].id, d);
	}
	if (!err && (mine = fcntl(dir, F_DUPFD_CLOEXEC, 0)) < 0)
		err = -errno;
	if (err) {
		store_dealloc(s);
		return err;
	}
	store_in_tmpfs(s, mine, tune && tune->noswap);
	atomic_store(&s->inheriting, true);
	*out = s;
	return 0;
}

int rfs_store_keep_budget(struct rfs_store *s, uint64_t id, int dir)
{
	struct rfs_store_kept *more;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	more = realloc(s->kept, (s->n_kept + 1) * sizeof(*more));
	if (more) {
		s->kept = more;
		s->kept[s->n_kept++] = (struct rfs_store_kept){id, dir};
	} else {
		close(dir);
		err = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Tell the mount's store root's hooks instance id is let go; root->lock held. */
static void gone_locked(struct rfs_store *root, uint64_t id)
{
	if (root->hooks.gone)
		root->hooks.gone(root->hooks.ctx, id);
}

/* Let the instances kept and not taken go; s->lock held. */
static void let_kept_go(struct rfs_store *s)
{
	for (size_t i = 0; i < s->n_kept; i++) {
		close(s->kept[i].dir);
		gone_locked(s, s->kept[i].id);
	}
	free(s->kept);
	s->kept = NULL;
	s->n_kept = 0;
}

void rfs_store_inherited(struct rfs_store *s)
{
	atomic_store(&s->inheriting, false);
	pthread_mutex_lock(&s->lock);
	let_kept_go(s);
	pthread_mutex_unlock(&s->lock);
}

/* Is s's tree being inherited (a budget asks the mount's store)? */
static bool inheriting(const struct rfs_store *s)
{
	return atomic_load(&(s->root ? s->root : s)->inheriting);
}

/* Are s's tree's changes a journal's, made again? */
static bool replaying(const struct rfs_store *s)
{
	return atomic_load(&(s->root ? s->root : s)->replaying);
}

static int resize_instance(struct rfs_store *s, uint64_t cap, uint64_t reserved);

int rfs_store_replay(struct rfs_store *s, bool on)
{
	int err = 0;

	atomic_store(&s->replaying, on);
	if (on)
		return 0;
	pthread_mutex_lock(&s->lock);
	let_kept_go(s);
	pthread_mutex_unlock(&s->lock);
	/* The sizes the replay's reservations skipped, now that they fit
	 * (they did in the process that made them). Budgets are not taken
	 * from here on: the list holds. */
	for (size_t i = 0; i <= s->n_budgets; i++) {
		struct rfs_store *b = i < s->n_budgets ? s->budgets[i] : s;
		int e;

		pthread_mutex_lock(&b->lock);
		e = resize_instance(b, b->cap, b->reserved);
		pthread_mutex_unlock(&b->lock);
		if (e && !err)
			err = e;
	}
	return err;
}

void rfs_store_on_budgets(struct rfs_store *s, const struct rfs_store_hooks *hooks)
{
	pthread_mutex_lock(&s->lock);
	s->hooks = *hooks;
	pthread_mutex_unlock(&s->lock);
}

size_t rfs_store_budget_roots(struct rfs_store *s, struct rfs_store_kept *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->n_budgets;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = (struct rfs_store_kept){s->budgets[i]->id, s->budgets[i]->dir};
	pthread_mutex_unlock(&s->lock);
	return n;
}

uint64_t rfs_store_budget_id(const struct rfs_store *s)
{
	return s->id;
}

/* Budget b of the mount's store root is made, or goes. */
static int count_budget(struct rfs_store *root, struct rfs_store *b, bool made)
{
	struct rfs_store **more;
	int err = 0;

	pthread_mutex_lock(&root->lock);
	if (made && (more = realloc(root->budgets, (root->n_budgets + 1) * sizeof(*more)))) {
		root->budgets = more;
		root->budgets[root->n_budgets++] = b;
		if (root->next_budget <= b->id)
			root->next_budget = b->id + 1;
	} else if (made) {
		err = -ENOMEM;
	}
	for (size_t i = 0; !made && i < root->n_budgets; i++)
		if (root->budgets[i] == b) {
			memmove(&root->budgets[i], &root->budgets[i + 1],
				(root->n_budgets - i - 1) * sizeof(*root->budgets));
			root->n_budgets--;
			gone_locked(root, b->id);
			break;
		}
	pthread_mutex_unlock(&root->lock);
	return err;
}

/* Number a budget of the mount's store root (id, or the next if 0: a
 * number is used once the budget is made, count_budget; budgets are made
 * one at a time, under the namespace's lock), and take the instance kept
 * under it, if any: its root, or -1. */
static int number_budget(struct rfs_store *root, uint64_t *id)
{
	int dir = -1;

	pthread_mutex_lock(&root->lock);
	if (!*id)
		*id = root->next_budget;
	for (size_t i = 0; i < root->n_kept; i++)
		if (root->kept[i].id == *id) {
			dir = root->kept[i].dir;
			root->kept[i] = root->kept[--root->n_kept];
			break;
		}
	pthread_mutex_unlock(&root->lock);
	return dir;
}

/* Tell the hooks an instance made is let go before its budget was. */
static void tell_gone(struct rfs_store *root, uint64_t id)
{
	pthread_mutex_lock(&root->lock);
	gone_locked(root, id);
	pthread_mutex_unlock(&root->lock);
}

/* Tell the hooks of an instance made; an error fails the budget b. */
static int tell_made(struct rfs_store *root, struct rfs_store *b)
{
	struct rfs_store_hooks h;

	pthread_mutex_lock(&root->lock);
	h = root->hooks;
	pthread_mutex_unlock(&root->lock);
	return h.made && b->dir >= 0 ? h.made(h.ctx, b->id, b->dir) : 0;
}

int rfs_store_root(const struct rfs_store *s)
{
	return s->dir;
}

int rfs_store_new_budget(struct rfs_store *parent, uint64_t cap, struct rfs_store **out)
{
	return rfs_store_new_budget_as(parent, cap, 0, out);
}

int rfs_store_new_budget_as(struct rfs_store *parent, uint64_t cap, uint64_t id,
			    struct rfs_store **out)
{
	struct rfs_store_tune tune = {
		.huge = parent->huge, .noswap = parent->noswap, .atime = parent->atime};
	struct rfs_store *root = parent->root ? parent->root : parent;
	int dir, err;

	*out = NULL;
	if (cap == 0)
		return -EINVAL;
	/* An instance an earlier process made under this number, its files
	 * as they are (a new one would be empty where the old one held
	 * regions). Inherited at mount, each budget must find its own. */
	dir = number_budget(root, &id);
	if (dir < 0 && inheriting(root))
		return -EOPNOTSUPP;
	err = rfs_store_reserve(parent, (int64_t)cap);
	if (err) {
		if (dir >= 0)
			close(dir);
		return err;
	}
	if (dir >= 0) {
		if (!(*out = store_alloc(cap, parent->max_files, &tune))) {
			close(dir);
			err = -ENOMEM;
		} else {
			store_in_tmpfs(*out, dir, parent->noswap);
		}
	} else {
		err = rfs_store_new_tuned(cap, parent->max_files, parent->kind, &tune, out);
	}
	if (!err) {
		(*out)->id = id;
		if (dir < 0)
			err = tell_made(root, *out);
		if (!err && (err = count_budget(root, *out, true)) && dir < 0)
			tell_gone(root, id);
		if (err)
			rfs_store_free(*out); /* before it holds its parent */
	}
	if (err) {
		rfs_store_reserve(parent, -(int64_t)cap);
		return err;
	}
	rfs_store_hold(parent);
	(*out)->parent = parent;
	(*out)->root = root;
	return 0;
}

void rfs_store_hold(struct rfs_store *s)
{
	atomic_fetch_add(&s->refs, 1);
}

void rfs_store_free(struct rfs_store *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	/* A detached mount goes with its last reference: nothing to unlink. */
	if (s->dir >= 0)
		close(s->dir);
	if (s->reconf >= 0)
		close(s->reconf);
	/* Its files are gone (every region let go of it): the parent gets
	 * the carved bytes back. */
	if (s->parent) {
		count_budget(s->root, s, false);
		rfs_store_reserve(s->parent, -(int64_t)s->cap);
		rfs_store_free(s->parent);
	}
	store_dealloc(s);
}

/* Bytes the regions use now; called with s->lock held. */
static uint64_t regions_used(struct rfs_store *s)
{
	struct statvfs sv;

	if (s->kind == RFS_STORE_TMPFS && fstatvfs(s->dir, &sv) == 0)
		return (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize - s->page; /* the floor */
	return s->memfd_bytes;
}

/* Set the instance's size for cap and reserved; s->lock held. tmpfs
 * refuses a size below what its files use, checked by the kernel against
 * concurrent writers too: -EBUSY. */
static int resize_instance(struct rfs_store *s, uint64_t cap, uint64_t reserved)
{
	char size[32];

	if (s->reconf < 0)
		return 0;
	snprintf(size, sizeof(size), "%" PRIu64, cap - reserved + s->page);
	if (sys_fsconfig(s->reconf, FSCONFIG_SET_STRING, "size", size, 0) < 0 ||
	    sys_fsconfig(s->reconf, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
		return -EBUSY;
	return 0;
}

int rfs_store_resize(struct rfs_store *s, uint64_t cap)
{
	uint64_t old;
	int err = 0;

	if (!s->parent || cap == 0)
		return -EINVAL;
	old = rfs_store_cap(s);
	/* The parent gives the room first, and takes it back last. */
	if (cap > old && (err = rfs_store_reserve(s->parent, (int64_t)(cap - old))))
		return err;
	pthread_mutex_lock(&s->lock);
	if (s->reserved > cap)
		err = -EBUSY;
	else if (s->kind == RFS_STORE_TMPFS && s->reconf < 0)
		err = -EOPNOTSUPP; /* an instance we may not resize */
	else if (replaying(s))
		err = 0; /* sized at the replay's end (rfs_store_replay) */
	else if (regions_used(s) > cap - s->reserved)
		err = -EBUSY;
	else
		err = resize_instance(s, cap, s->reserved);
	if (!err)
		s->cap = cap;
	pthread_mutex_unlock(&s->lock);
	if (err ? cap > old : cap < old)
		rfs_store_reserve(s->parent, (int64_t)old - (int64_t)cap);
	return err;
}

int rfs_store_move(struct rfs_store *s, struct rfs_store *to)
{
	uint64_t cap = rfs_store_cap(s);
	int err;

	if (!s->parent)
		return -EINVAL;
	if (to == s->parent)
		return 0;
	err = rfs_store_reserve(to, (int64_t)cap);
	if (err)
		return err;
	rfs_store_reserve(s->parent, -(int64_t)cap);
	rfs_store_free(s->parent);
	rfs_store_hold(to);
	s->parent = to;
	return 0;
}

struct rfs_store *rfs_store_parent(const struct rfs_store *s)
{
	return s->parent;
}

uint64_t rfs_store_cap(struct rfs_store *s)
{
	uint64_t cap;

	pthread_mutex_lock(&s->lock);
	cap = s->cap;
	pthread_mutex_unlock(&s->lock);
	return cap;
}

enum rfs_store_kind rfs_store_kind(const struct rfs_store *s)
{
	return s->kind;
}

bool rfs_store_noswap(const struct rfs_store *s)
{
	return s->noswap;
}

const char *rfs_store_kind_name(const struct rfs_store *s)
{
	return s->kind == RFS_STORE_TMPFS ? "tmpfs" : "memfd";
}

static void file_name(uint64_t id, char name[static 24])
{
	snprintf(name, 24, "%" PRIx64, id);
}

int rfs_store_create(struct rfs_store *s, struct rfs_store_file *f)
{
	char name[24];
	int fd;

	f->id = atomic_fetch_add(&s->next_id, 1);
	f->fd = -1;
	f->kept = false;
	if (s->kind == RFS_STORE_MEMFD) {
		if (atomic_fetch_add(&s->files, 1) >= s->max_files) {
			atomic_fetch_sub(&s->files, 1);
			return -ENOSPC;
		}
		f->fd = memfd_create("regionfs", MFD_CLOEXEC);
		if (f->fd < 0) {
			atomic_fetch_sub(&s->files, 1);
			return -errno;
		}
		return 0;
	}
	/* A number may be taken by a file a killed process made and never
	 * recorded (-o restart): the next one, then. */
	for (;;) {
		file_name(f->id, name);
		fd = openat(s->dir, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
		if (inheriting(s)) {
			f->kept = true; /* the earlier program's file, as it left it */
			return 0;
		}
		f->id = atomic_fetch_add(&s->next_id, 1);
	}
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int rfs_store_adopt(struct rfs_store *s, uint64_t id, struct rfs_store_file *f)
{
	char name[24];
	struct stat st;

	if (s->kind == RFS_STORE_MEMFD)
		return -EOPNOTSUPP; /* a memfd lives only as long as its descriptor */
	file_name(id, name);
	if (fstatat(s->dir, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EUCLEAN;
	rfs_store_skip_ids(s, id); /* new files are numbered past every adopted one */
	f->id = id;
	f->fd = -1;
	f->kept = true;
	return 0;
}

void rfs_store_skip_ids(struct rfs_store *s, uint64_t id)
{
	uint64_t next = atomic_load(&s->next_id);

	while (next <= id && !atomic_compare_exchange_weak(&s->next_id, &next, id + 1))
		;
}

int rfs_store_open(struct rfs_store *s, const struct rfs_store_file *f)
{
	char name[24];
	int fd;

	if (s->kind == RFS_STORE_MEMFD)
		fd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
	else {
		file_name(f->id, name);
		fd = openat(s->dir, name, O_RDWR | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

int rfs_store_stat(struct rfs_store *s, const struct rfs_store_file *f, struct stat *st)
{
	char name[24];
	int r;

	if (s->kind == RFS_STORE_MEMFD)
		r = fstat(f->fd, st);
	else {
		file_name(f->id, name);
		r = fstatat(s->dir, name, st, 0);
	}
	return r < 0 ? -errno : 0;
}

int rfs_store_set_times(struct rfs_store *s, const struct rfs_store_file *f,
			const struct timespec times[2])
{
	char name[24];
	int r;

	if (s->kind == RFS_STORE_MEMFD)
		r = futimens(f->fd, times);
	else {
		file_name(f->id, name);
		r = utimensat(s->dir, name, times, 0);
	}
	return r < 0 ? -errno : 0;
}

int rfs_store_set_noatime(struct rfs_store *s, const struct rfs_store_file *f, bool on)
{
	char name[24];
	int fd = f->fd, flags, err = 0;

	if (s->kind != RFS_STORE_MEMFD) {
		file_name(f->id, name);
		fd = openat(s->dir, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
		if (fd < 0)
			return -errno;
	}
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		err = -errno;
	flags = on ? flags | FS_NOATIME_FL : flags & ~FS_NOATIME_FL;
	if (!err && ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		err = -errno;
	if (fd != f->fd)
		close(fd);
	return err;
}

void rfs_store_remove(struct rfs_store *s, struct rfs_store_file *f)
{
	char name[24];

	if (s->kind == RFS_STORE_MEMFD) {
		close(f->fd);
		f->fd = -1;
		atomic_fetch_sub(&s->files, 1);
		return;
	}
	if (atomic_load(&(s->root ? s->root : s)->keep_files))
		return; /* the mount's store says so for its budgets too */
	file_name(f->id, name);
	unlinkat(s->dir, name, 0);
}

void rfs_store_keep_files(struct rfs_store *s, bool keep)
{
	atomic_store(&s->keep_files, keep);
}

bool rfs_store_keeps_files(struct rfs_store *s)
{
	return atomic_load(&s->keep_files);
}

/* Can the kernel not hold regions to the cap? s->lock held. */
static bool daemon_checks(const struct rfs_store *s)
{
	return s->kind == RFS_STORE_MEMFD || (s->reconf < 0 && s->reserved);
}

bool rfs_store_daemon_checks(struct rfs_store *s)
{
	bool checks;

	pthread_mutex_lock(&s->lock);
	checks = daemon_checks(s);
	pthread_mutex_unlock(&s->lock);
	return checks;
}

int rfs_store_check(struct rfs_store *s, uint64_t bytes)
{
	uint64_t used = 0, cap;
	bool checks;

	pthread_mutex_lock(&s->lock);
	checks = daemon_checks(s);
	if (checks)
		used = regions_used(s) + s->reserved;
	cap = s->cap;
	pthread_mutex_unlock(&s->lock);
	return checks && (bytes > cap || used > cap - bytes) ? -ENOSPC : 0;
}

int rfs_store_reserve(struct rfs_store *s, int64_t bytes)
{
	uint64_t want;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	want = s->reserved + (uint64_t)bytes;
	/* A replay's files are as they end: its reservations fit then. */
	if (replaying(s)) {
		if (bytes > 0 && want > s->cap)
			err = -ENOSPC;
	} else if (bytes > 0 && (want > s->cap || regions_used(s) > s->cap - want)) {
		err = -ENOSPC;
	} else if (resize_instance(s, s->cap, want)) {
		err = -ENOSPC;
	}
	if (!err)
		s->reserved = want;
	pthread_mutex_unlock(&s->lock);
	return err;
}

void rfs_store_charge(struct rfs_store *s, int64_t delta)
{
	if (s->kind != RFS_STORE_MEMFD || delta == 0)
		return;
	pthread_mutex_lock(&s->lock);
	s->memfd_bytes += (uint64_t)delta; /* never below 0: what was charged goes */
	pthread_mutex_unlock(&s->lock);
}

void rfs_store_usage(struct rfs_store *s, struct rfs_store_usage *u)
{
	struct statvfs sv;

	pthread_mutex_lock(&s->lock);
	u->reserved = s->reserved;
	u->bytes_used = regions_used(s) + u->reserved;
	u->bytes_total = s->cap;
	pthread_mutex_unlock(&s->lock);
	if (s->kind == RFS_STORE_TMPFS && fstatvfs(s->dir, &sv) == 0) {
		u->files_total = sv.f_files - 1; /* the floor's inode is not for regions */
		u->files_used = sv.f_files - sv.f_ffree - 1;
		return;
	}
	u->files_total = s->max_files;
	u->files_used = atomic_load(&s->files);
}
