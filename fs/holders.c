/* Who holds each file open: see fs/holders.h. */
#include "fs/holders.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/hash.h"

/* The opens of one node, found by node. */
struct node_opens {
	struct rfs_hash_link link;
	struct rfs_node *node;
	struct rfs_open *first;
};

struct rfs_holders {
	pthread_mutex_t lock; /* guards nodes and every rfs_open's prev/next */
	struct rfs_hash nodes;
};

static bool same_node(const struct rfs_hash_link *l, const void *key)
{
	return rfs_hash_entry(l, struct node_opens, link)->node == key;
}

static struct node_opens *find(struct rfs_holders *h, const struct rfs_node *node)
{
	struct rfs_hash_link *l = rfs_hash_find(&h->nodes, rfs_hash_ptr(node), same_node, node);

	return l ? rfs_hash_entry(l, struct node_opens, link) : NULL;
}

int rfs_holders_new(struct rfs_holders **out)
{
	struct rfs_holders *h = calloc(1, sizeof(*h));

	*out = h;
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	rfs_hash_init(&h->nodes);
	return 0;
}

void rfs_holders_free(struct rfs_holders *h)
{
	struct rfs_hash_link *l, *next;

	if (!h)
		return;
	for (l = rfs_hash_next(&h->nodes, NULL); l; l = next) {
		struct node_opens *n = rfs_hash_entry(l, struct node_opens, link);

		next = rfs_hash_next(&h->nodes, l);
		while (n->first) {
			struct rfs_open *o = n->first;

			n->first = o->next;
			free(o);
		}
		rfs_hash_remove(&h->nodes, l);
		free(n);
	}
	rfs_hash_destroy(&h->nodes);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Would an open like o break node's seals? -EPERM, -EAGAIN or 0 (holders.h). */
static int seals_refuse(const struct rfs_open *o)
{
	struct rfs_mapping *m = rfs_node_mapping(o->node);
	unsigned int seals = m ? rfs_mapping_seals(m) : 0;

	if (o->accmode == O_RDONLY || !seals)
		return 0;
	if (seals & RFS_SEALS_AGAINST_WRITES)
		return -EPERM;
	return o->kernel && (seals & RFS_SEAL_GROW) ? -EAGAIN : 0;
}

int rfs_holders_add(struct rfs_holders *h, const struct rfs_open *like, struct rfs_open **out)
{
	struct rfs_open *o = malloc(sizeof(*o));
	struct node_opens *n;
	int err;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	*o = *like;
	pthread_mutex_lock(&h->lock);
	err = seals_refuse(o);
	if (err) {
		pthread_mutex_unlock(&h->lock);
		free(o);
		return err;
	}
	n = find(h, o->node);
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (n)
			n->node = o->node;
		if (n && rfs_hash_insert(&h->nodes, &n->link, rfs_hash_ptr(o->node))) {
			free(n);
			n = NULL;
		}
		if (!n) {
			pthread_mutex_unlock(&h->lock);
			free(o);
			return -ENOMEM;
		}
	}
	o->prev = NULL;
	o->next = n->first;
	if (n->first)
		n->first->prev = o;
	n->first = o;
	pthread_mutex_unlock(&h->lock);
	*out = o;
	return 0;
}

int rfs_holders_seal(struct rfs_holders *h, struct rfs_node *node, unsigned int seals,
		     unsigned int *writers)
{
	unsigned int all = 0, kernel = 0;
	struct node_opens *n;
	int err = 0;

	pthread_mutex_lock(&h->lock);
	n = find(h, node);
	for (struct rfs_open *o = n ? n->first : NULL; o; o = o->next) {
		all += o->accmode != O_RDONLY;
		kernel += o->accmode != O_RDONLY && o->kernel;
	}
	*writers = all;
	if (((seals & RFS_SEAL_WRITE) && all) ||
	    ((seals & (RFS_SEAL_FUTURE_WRITE | RFS_SEAL_GROW)) && kernel))
		err = -EBUSY;
	else
		err = rfs_mapping_seal(rfs_node_mapping(node), seals);
	pthread_mutex_unlock(&h->lock);
	return err;
}

void rfs_holders_remove(struct rfs_holders *h, struct rfs_open *o)
{
	struct node_opens *n;

	pthread_mutex_lock(&h->lock);
	n = find(h, o->node);
	if (o->prev)
		o->prev->next = o->next;
	else if (n)
		n->first = o->next;
	if (o->next)
		o->next->prev = o->prev;
	if (n && !n->first) {
		rfs_hash_remove(&h->nodes, &n->link);
		free(n);
	}
	pthread_mutex_unlock(&h->lock);
	free(o);
}

bool rfs_holders_kernel_writer(struct rfs_holders *h, struct rfs_node *node)
{
	struct node_opens *n;
	bool found = false;

	pthread_mutex_lock(&h->lock);
	n = find(h, node);
	for (struct rfs_open *o = n ? n->first : NULL; o && !found; o = o->next)
		found = o->kernel && o->accmode != O_RDONLY;
	pthread_mutex_unlock(&h->lock);
	return found;
}

/* A holder as the walk saw it, resolved to a process after the walk. */
struct seen {
	char *path;
	pid_t tid;
	uid_t uid;
	int accmode;
	bool kernel;
};

struct collect {
	struct rfs_holders *h;
	struct seen *v;
	size_t n, cap;
	bool failed;
};

static int collect_node(void *ctx, const char *path, struct rfs_node *node)
{
	struct collect *c = ctx;
	struct node_opens *n;

	pthread_mutex_lock(&c->h->lock);
	n = find(c->h, node);
	for (struct rfs_open *o = n ? n->first : NULL; o && !c->failed; o = o->next) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 16;
			struct seen *v = realloc(c->v, cap * sizeof(*v));

			if (!v) {
				c->failed = true;
				break;
			}
			c->v = v;
			c->cap = cap;
		}
		c->v[c->n] = (struct seen){strdup(path), o->tid, o->uid, o->accmode, o->kernel};
		if (!c->v[c->n].path)
			c->failed = true;
		else
			c->n++;
	}
	pthread_mutex_unlock(&c->h->lock);
	return c->failed ? -ENOMEM : 0;
}

/* Read a small /proc file into buf, NUL-terminated; its length or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* The process of thread tid and its command; false if it is gone. */
static bool process_of(pid_t tid, pid_t *pid, char *comm, size_t commlen)
{
	char path[64], buf[1024], *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_proc(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nTgid:")))
		return false;
	*pid = (pid_t)strtol(p + 6, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)*pid);
	n = read_proc(path, comm, commlen);
	if (n <= 0)
		return false;
	if (comm[n - 1] == '\n')
		comm[n - 1] = '\0';
	return true;
}

static const char *access_word(int accmode)
{
	return accmode == O_RDWR ? "rw" : accmode == O_WRONLY ? "w" : "r";
}

void rfs_holders_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	struct collect c = {.h = d->holders};

	rfs_ns_walk_as(d->ns, who, collect_node, &c);
	if (c.failed)
		t->failed = true; /* the reader gets ENOMEM, not a short list */
	rfs_text_printf(t, "name pid command uid access served\n");
	for (size_t i = 0; i < c.n; i++) {
		struct seen *s = &c.v[i];
		char comm[64];
		pid_t pid = s->tid;
		bool alive = process_of(s->tid, &pid, comm, sizeof(comm));

		rfs_text_put_quoted(t, s->path);
		rfs_text_printf(t, " %d ", (int)pid);
		rfs_text_put_quoted(t, alive ? comm : "(exited)");
		rfs_text_printf(t, " %u %s %s\n", (unsigned)s->uid, access_word(s->accmode),
				s->kernel ? "kernel" : "daemon");
		free(s->path);
	}
	free(c.v);
}
