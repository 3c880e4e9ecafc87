#include "fs/inval.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A notice's off for the attributes alone (no page is at that offset). */
#define ATTR_ONLY UINT64_MAX

struct notice {
	struct notice *next;
	fuse_ino_t ino;
	uint64_t off, len;
	char *name;	  /* an entry notice: the name in directory ino */
	fuse_ino_t child; /* with name: the inode that name no longer has, or 0 */
};

struct rfs_inval {
	struct fuse_session *se; /* set by rfs_inval_start */
	_Atomic int32_t *tid;	 /* the same: where the worker says its thread id */
	pthread_t thread;
	pthread_mutex_t lock; /* guards everything below */
	bool running;	      /* the worker runs: notices are queued, not dropped */
	pthread_cond_t wake;  /* the worker: work or stop */
	pthread_cond_t done;  /* waiters: sent advanced */
	struct notice *head, **tail;
	uint64_t posted, sent;
	bool stopping;
};

static void *worker(void *arg)
{
	struct rfs_inval *q = arg;

	if (q->tid)
		atomic_store(q->tid, (int32_t)gettid());
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct notice *n = q->head;

		if (!n) {
			if (q->stopping)
				break;
			pthread_cond_wait(&q->wake, &q->lock);
			continue;
		}
		q->head = n->next;
		if (!q->head)
			q->tail = &q->head;
		pthread_mutex_unlock(&q->lock);
		/* -ENOENT: the kernel has forgotten the inode; nothing to drop. */
		if (n->name && n->child) {
			/* Also marks the kernel's inode unlinked (st_nlink 0). */
			fuse_lowlevel_notify_delete(q->se, n->ino, n->child, n->name,
						    strlen(n->name));
			fuse_lowlevel_notify_inval_inode(q->se, n->ino, -1, 0);
		} else if (n->name) {
			fuse_lowlevel_notify_inval_entry(q->se, n->ino, n->name, strlen(n->name));
			/* The directory's size and times changed too. */
			fuse_lowlevel_notify_inval_inode(q->se, n->ino, -1, 0);
		} else if (n->off == ATTR_ONLY) {
			fuse_lowlevel_notify_inval_inode(q->se, n->ino, -1, 0);
		} else
			fuse_lowlevel_notify_inval_inode(q->se, n->ino, (off_t)n->off,
							 (off_t)n->len);
		free(n->name);
		free(n);
		pthread_mutex_lock(&q->lock);
		q->sent++;
		pthread_cond_broadcast(&q->done);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct rfs_inval *rfs_inval_new(void)
{
	struct rfs_inval *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;

	if (!q)
		return NULL;
	q->tail = &q->head;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->done, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

int rfs_inval_start(struct rfs_inval *q, struct fuse_session *se, _Atomic int32_t *tid)
{
	int err;

	q->se = se;
	q->tid = tid;
	pthread_mutex_lock(&q->lock);
	err = pthread_create(&q->thread, NULL, worker, q);
	q->running = err == 0;
	pthread_mutex_unlock(&q->lock);
	return -err;
}

void rfs_inval_stop(struct rfs_inval *q)
{
	bool running;

	pthread_mutex_lock(&q->lock);
	running = q->running;
	q->stopping = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	if (!running)
		return;
	pthread_join(q->thread, NULL);
	pthread_mutex_lock(&q->lock);
	q->running = false;
	pthread_mutex_unlock(&q->lock);
}

void rfs_inval_free(struct rfs_inval *q)
{
	if (!q)
		return;
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->done);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* Before the worker starts and after it stops no kernel caches anything
 * of the mount that the daemon could change: the notice is dropped. */
static void enqueue(struct rfs_inval *q, struct notice *n)
{
	pthread_mutex_lock(&q->lock);
	if (!q->running || q->stopping) {
		pthread_mutex_unlock(&q->lock);
		free(n->name);
		free(n);
		return;
	}
	*q->tail = n;
	q->tail = &n->next;
	q->posted++;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

void rfs_inval_post(struct rfs_inval *q, fuse_ino_t ino, uint64_t off, uint64_t len)
{
	struct notice *n = calloc(1, sizeof(*n));

	if (!n)
		return; /* the reader may see stale cache until its next open */
	n->ino = ino;
	n->off = off;
	n->len = len;
	enqueue(q, n);
}

void rfs_inval_post_attr(struct rfs_inval *q, fuse_ino_t ino)
{
	rfs_inval_post(q, ino, ATTR_ONLY, 0);
}

void rfs_inval_post_entry(struct rfs_inval *q, fuse_ino_t parent, const char *name)
{
	rfs_inval_post_delete(q, parent, 0, name);
}

void rfs_inval_post_delete(struct rfs_inval *q, fuse_ino_t parent, fuse_ino_t child,
			   const char *name)
{
	struct notice *n = calloc(1, sizeof(*n));

	if (n)
		n->name = strdup(name);
	if (!n || !n->name) {
		free(n);
		return; /* the name's cached lookup lasts until it expires */
	}
	n->ino = parent;
	n->child = child;
	enqueue(q, n);
}

void rfs_inval_entry(struct rfs_daemon *d, struct rfs_node *dir, const char *name)
{
	rfs_inval_post_entry(d->inval, rfs_ino(d, dir), name);
}

uint64_t rfs_inval_ticket(struct rfs_inval *q)
{
	uint64_t t;

	pthread_mutex_lock(&q->lock);
	t = q->posted;
	pthread_mutex_unlock(&q->lock);
	return t;
}

void rfs_inval_wait(struct rfs_inval *q, uint64_t ticket, int timeout_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&q->lock);
	while (q->sent < ticket && !q->stopping)
		if (pthread_cond_timedwait(&q->done, &q->lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&q->lock);
}

uint64_t rfs_inval_settle(struct rfs_inval *q, uint64_t before, int timeout_ms)
{
	uint64_t after = rfs_inval_ticket(q);

	if (after != before)
		rfs_inval_wait(q, after, timeout_ms);
	return after;
}

uint64_t rfs_inval_before_change(struct rfs_daemon *d, struct rfs_mapping *m, uint64_t off,
				 uint64_t len)
{
	uint64_t before = rfs_inval_ticket(d->inval);

	rfs_mapping_changing(m, off, len);
	return rfs_inval_settle(d->inval, before, RFS_INVAL_WAIT_MS);
}
