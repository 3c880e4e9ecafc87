#include "lib/ns.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/rwlock.h"

#define NAME_MAX_BYTES	 255
#define COOKIE_DOT	 1
#define COOKIE_DOTDOT	 2
#define COOKIE_FIRST	 3
#define BOGO_DIRENT_SIZE 20 /* what tmpfs reports per entry as a directory's size */

/* A name in a directory. */
struct entry {
	struct entry *hnext;	   /* hash chain */
	struct entry *prev, *next; /* in cookie order */
	uint64_t cookie;	   /* readdir position; grows with each insertion */
	uint32_t hash;
	struct rfs_node *node;
	char name[];
};

struct dir {
	struct entry **buckets;
	size_t nbuckets;
	size_t count;
	struct entry *head, *tail;
	uint64_t next_cookie;
	struct rfs_node *parent; /* the root is its own parent */
	size_t subdirs;
};

struct rfs_node {
	uint64_t ino;
	mode_t mode; /* type and permission bits */
	uid_t uid;
	gid_t gid;
	nlink_t nlink; /* names; a directory has at most one */
	bool sealed;   /* special: its name and, for a directory, its entries are fixed */
	void *tag;     /* the caller's mark on a special node; fixed */
	_Atomic uint64_t refs;
	_Atomic uint32_t opens;
	atomic_bool used; /* opened at least once */
	/* enum rfs_lifetime: fixed for a file; a directory's default changes under lock */
	_Atomic int lifetime;
	/* The directory and entry of the node's first name (a close region's only
	 * one), NULL once that name is gone. */
	struct rfs_node *home;
	struct entry *home_entry;
	_Atomic int64_t atime, mtime, ctime; /* ns since the epoch */
	struct rfs_node *all_prev, *all_next;
	union {
		struct dir dir;		 /* S_IFDIR */
		struct rfs_mapping *map; /* S_IFREG */
		char *target;		 /* S_IFLNK */
		dev_t rdev;		 /* S_IFCHR, S_IFBLK */
	};
};

/* All fields protected by lock unless marked otherwise. */
struct rfs_ns {
	pthread_rwlock_t lock;
	struct rfs_store *store; /* regions' bytes; fixed */
	struct rfs_node *root;	 /* fixed */
	struct rfs_node all;	 /* list head of every node; only all_prev/all_next used */
	uint64_t next_ino;
	uint64_t nodes;
};

static struct timespec to_ts(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};

	if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}

static int64_t from_ts(struct timespec ts)
{
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static bool is_dir(const struct rfs_node *n)
{
	return S_ISDIR(n->mode);
}

static struct entry *dir_find(const struct dir *d, const char *name)
{
	uint32_t h = name_hash(name);
	struct entry *e;

	if (!d->nbuckets)
		return NULL;
	for (e = d->buckets[h & (d->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static int dir_grow(struct dir *d)
{
	size_t nb = d->nbuckets ? d->nbuckets * 2 : 8;
	struct entry **b = calloc(nb, sizeof(*b));
	struct entry *e;

	if (!b)
		return -ENOMEM;
	for (e = d->head; e; e = e->next) {
		e->hnext = b[e->hash & (nb - 1)];
		b[e->hash & (nb - 1)] = e;
	}
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = nb;
	return 0;
}

static int dir_insert(struct dir *d, const char *name, struct rfs_node *node)
{
	size_t len = strlen(name);
	struct entry *e;

	if (d->count + 1 > d->nbuckets && dir_grow(d))
		return -ENOMEM;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->name, name, len + 1);
	e->hash = name_hash(name);
	e->node = node;
	e->cookie = d->next_cookie++;
	e->hnext = d->buckets[e->hash & (d->nbuckets - 1)];
	d->buckets[e->hash & (d->nbuckets - 1)] = e;
	e->prev = d->tail;
	e->next = NULL;
	if (d->tail)
		d->tail->next = e;
	else
		d->head = e;
	d->tail = e;
	d->count++;
	return 0;
}

/* n now has the name e (just inserted) in dir. */
static void set_home(struct rfs_node *n, struct rfs_node *dir, struct entry *e)
{
	if (!is_dir(n)) {
		n->home = dir;
		n->home_entry = e;
	}
}

static void dir_erase(struct dir *d, struct entry *e)
{
	struct entry **pp = &d->buckets[e->hash & (d->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		d->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		d->tail = e->prev;
	d->count--;
	free(e);
}

static void node_free(struct rfs_node *n)
{
	if (S_ISREG(n->mode)) {
		/* A window may hold the mapping on: its notices name no node now. */
		if (n->map)
			rfs_mapping_set_owner(n->map, NULL);
		rfs_mapping_free(n->map);
	} else if (S_ISDIR(n->mode)) {
		while (n->dir.head)
			dir_erase(&n->dir, n->dir.head);
		free(n->dir.buckets);
	} else if (S_ISLNK(n->mode)) {
		free(n->target);
	}
	free(n);
}

/* Free n if nothing holds it any more. ns->lock held exclusive. */
static void maybe_free(struct rfs_ns *ns, struct rfs_node *n)
{
	if (n->nlink || atomic_load(&n->refs) || n == ns->root)
		return;
	n->all_prev->all_next = n->all_next;
	n->all_next->all_prev = n->all_prev;
	ns->nodes--;
	node_free(n);
}

static struct rfs_node *node_new(struct rfs_ns *ns, mode_t mode, struct rfs_cred cred,
				 struct rfs_mapping *map)
{
	struct rfs_node *n = calloc(1, sizeof(*n));
	int64_t t = rfs_now_ns();

	if (!n)
		return NULL;
	n->mode = mode;
	n->uid = cred.uid;
	n->gid = cred.gid;
	atomic_init(&n->refs, 0);
	atomic_init(&n->atime, t);
	atomic_init(&n->mtime, t);
	atomic_init(&n->ctime, t);
	if (S_ISREG(mode)) {
		n->map = map ? map : rfs_region_new(ns->store);
		if (!n->map) {
			free(n);
			return NULL;
		}
		rfs_mapping_set_owner(n->map, n);
	} else if (S_ISDIR(mode)) {
		n->dir.next_cookie = COOKIE_FIRST;
	}
	return n;
}

/* Link a new node into the node list. ns->lock held exclusive. */
static void node_publish(struct rfs_ns *ns, struct rfs_node *n)
{
	n->ino = ns->next_ino++;
	n->all_next = &ns->all;
	n->all_prev = ns->all.all_prev;
	ns->all.all_prev->all_next = n;
	ns->all.all_prev = n;
	ns->nodes++;
}

/* Give a new node its first name, in dir, and the caller's reference. ns->lock exclusive. */
static int attach_new(struct rfs_ns *ns, struct rfs_node *dir, const char *name, struct rfs_node *n)
{
	int err = dir_insert(&dir->dir, name, n);

	if (err)
		return err;
	n->nlink = 1;
	if (is_dir(n)) {
		n->dir.parent = dir;
		dir->dir.subdirs++;
	}
	set_home(n, dir, dir->dir.tail);
	atomic_store(&n->refs, 1);
	node_publish(ns, n);
	return 0;
}

static void stamp_dir(struct rfs_node *d)
{
	int64_t t = rfs_now_ns();

	atomic_store(&d->mtime, t);
	atomic_store(&d->ctime, t);
}

struct rfs_ns *rfs_ns_new(struct rfs_store *store, mode_t root_mode, struct rfs_cred owner)
{
	struct rfs_ns *ns = calloc(1, sizeof(*ns));

	if (!ns)
		return NULL;
	ns->store = store;
	ns->next_ino = 1;
	ns->all.all_next = ns->all.all_prev = &ns->all;
	ns->root = node_new(ns, S_IFDIR | (root_mode & 07777), owner, NULL);
	if (!ns->root) {
		free(ns);
		return NULL;
	}
	ns->root->nlink = 1;
	ns->root->dir.parent = ns->root;
	atomic_init(&ns->root->lifetime, RFS_LIFETIME_PERSIST);
	node_publish(ns, ns->root);
	rfs_rwlock_init(&ns->lock); /* nothing takes it shared twice in one thread */
	return ns;
}

void rfs_ns_free(struct rfs_ns *ns)
{
	struct rfs_node *n, *next;

	if (!ns)
		return;
	for (n = ns->all.all_next; n != &ns->all; n = next) {
		next = n->all_next;
		node_free(n);
	}
	pthread_rwlock_destroy(&ns->lock);
	free(ns);
}

struct rfs_node *rfs_ns_root(struct rfs_ns *ns)
{
	return ns->root;
}

void rfs_ns_ref(struct rfs_ns *ns, struct rfs_node *node)
{
	(void)ns;
	atomic_fetch_add(&node->refs, 1);
}

void rfs_ns_forget(struct rfs_ns *ns, struct rfs_node *node, uint64_t n)
{
	/* Under the exclusive lock, so that the last reference and the last
	 * name cannot both believe the other one frees the node. */
	pthread_rwlock_wrlock(&ns->lock);
	atomic_fetch_sub(&node->refs, n);
	maybe_free(ns, node);
	pthread_rwlock_unlock(&ns->lock);
}

/* May dir get an entry called name? */
static int check_name(const struct rfs_ns *ns, const struct rfs_node *dir, const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return -EINVAL;
	if (len > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	if (dir == ns->root && strcmp(name, RFS_NS_RESERVED) == 0)
		return -EPERM;
	return 0;
}

int rfs_ns_lookup(struct rfs_ns *ns, struct rfs_node *dir, const char *name, struct rfs_node **out)
{
	struct rfs_node *found = NULL;
	int err = 0;

	if (strlen(name) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	pthread_rwlock_rdlock(&ns->lock);
	if (!is_dir(dir)) {
		err = -ENOTDIR;
	} else if (strcmp(name, ".") == 0) {
		found = dir;
	} else if (strcmp(name, "..") == 0) {
		found = dir->dir.parent;
	} else {
		struct entry *e = dir_find(&dir->dir, name);

		if (e)
			found = e->node;
		else
			err = -ENOENT;
	}
	if (found)
		atomic_fetch_add(&found->refs, 1);
	pthread_rwlock_unlock(&ns->lock);
	*out = found;
	return err;
}

/* The lifetime of n, made in dir as what says. ns->lock held. */
static enum rfs_lifetime new_lifetime(const struct rfs_node *dir, const struct rfs_new *what,
				      const struct rfs_node *n)
{
	bool region = S_ISREG(n->mode) && rfs_mapping_kind(n->map) == RFS_KIND_REGION;

	if (!region && !is_dir(n))
		return RFS_LIFETIME_PERSIST;
	if (what->lifetime != RFS_LIFETIME_INHERIT)
		return what->lifetime;
	return (enum rfs_lifetime)atomic_load(&dir->lifetime);
}

int rfs_ns_create(struct rfs_ns *ns, struct rfs_node *dir, const char *name,
		  const struct rfs_new *what, struct rfs_node **out)
{
	struct rfs_cred cred = what->cred;
	mode_t mode = what->mode;
	struct rfs_node *n;
	int err = check_name(ns, dir, name);

	if (err)
		return err;
	if (S_ISLNK(mode) && !what->target)
		return -EINVAL;
	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(dir) || dir->nlink == 0) {
		err = is_dir(dir) ? -ENOENT : -ENOTDIR;
		goto out_unlock;
	}
	if (dir_find(&dir->dir, name)) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (dir->sealed) {
		err = -EPERM;
		goto out_unlock;
	}
	if (dir->mode & S_ISGID) {
		cred.gid = dir->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	n = node_new(ns, mode, cred, what->map);
	if (!n) {
		err = errno > 0 ? -errno : -ENOMEM;
		goto out_unlock;
	}
	if (S_ISLNK(mode)) {
		n->target = strdup(what->target);
		if (!n->target) {
			node_free(n);
			err = -ENOMEM;
			goto out_unlock;
		}
	}
	if (S_ISCHR(mode) || S_ISBLK(mode))
		n->rdev = what->rdev;
	atomic_init(&n->lifetime, new_lifetime(dir, what, n));
	err = attach_new(ns, dir, name, n);
	if (err) {
		if (what->map)
			n->map = NULL; /* still the caller's */
		node_free(n);
		goto out_unlock;
	}
	stamp_dir(dir);
	*out = n;
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

int rfs_ns_create_special(struct rfs_ns *ns, struct rfs_node *dir, const char *name, mode_t mode,
			  struct rfs_cred cred, void *tag, struct rfs_node **out)
{
	struct rfs_node *n;
	int err = 0;

	if (!S_ISDIR(mode) && !S_ISREG(mode))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->mode = mode;
	n->uid = cred.uid;
	n->gid = cred.gid;
	n->sealed = true;
	n->tag = tag;
	atomic_init(&n->lifetime, RFS_LIFETIME_PERSIST);
	atomic_init(&n->atime, rfs_now_ns());
	atomic_init(&n->mtime, atomic_load(&n->atime));
	atomic_init(&n->ctime, atomic_load(&n->atime));
	if (S_ISDIR(mode))
		n->dir.next_cookie = COOKIE_FIRST;
	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(dir) || dir_find(&dir->dir, name)) {
		err = is_dir(dir) ? -EEXIST : -ENOTDIR;
		goto out_unlock;
	}
	err = attach_new(ns, dir, name, n);
	if (err)
		goto out_unlock;
	*out = n;
	n = NULL;
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	free(n);
	return err;
}

void *rfs_node_tag(const struct rfs_node *node)
{
	return node->tag;
}

void rfs_node_opened(struct rfs_node *node)
{
	atomic_fetch_add(&node->opens, 1);
	atomic_store(&node->used, true);
}

enum rfs_lifetime rfs_node_lifetime(const struct rfs_node *node)
{
	return atomic_load(&node->lifetime) == RFS_LIFETIME_CLOSE ? RFS_LIFETIME_CLOSE
								  : RFS_LIFETIME_PERSIST;
}

int rfs_ns_set_lifetime(struct rfs_ns *ns, struct rfs_node *dir, enum rfs_lifetime lifetime)
{
	if (!is_dir(dir))
		return -ENOTDIR;
	if (lifetime != RFS_LIFETIME_PERSIST && lifetime != RFS_LIFETIME_CLOSE)
		return -EINVAL;
	pthread_rwlock_wrlock(&ns->lock);
	atomic_store(&dir->lifetime, lifetime);
	pthread_rwlock_unlock(&ns->lock);
	return 0;
}

unsigned int rfs_node_opens(const struct rfs_node *node)
{
	return atomic_load_explicit(&node->opens, memory_order_relaxed);
}

int rfs_ns_link(struct rfs_ns *ns, struct rfs_node *node, struct rfs_node *dir, const char *name)
{
	int err = check_name(ns, dir, name);

	if (err)
		return err;
	pthread_rwlock_wrlock(&ns->lock);
	if (is_dir(node) || node->sealed || dir->sealed)
		err = -EPERM;
	else if (atomic_load(&node->lifetime) == RFS_LIFETIME_CLOSE)
		err = -EMLINK; /* its last close removes its one name */
	else if (!is_dir(dir))
		err = -ENOTDIR;
	else if (dir->nlink == 0 || node->nlink == 0)
		err = -ENOENT;
	else if (dir_find(&dir->dir, name))
		err = -EEXIST;
	else
		err = dir_insert(&dir->dir, name, node);
	if (!err) {
		node->nlink++;
		atomic_fetch_add(&node->refs, 1);
		atomic_store(&node->ctime, rfs_now_ns());
		stamp_dir(dir);
	}
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

/* Take e's node out of dir d; the node loses a name. ns->lock exclusive. */
static void drop_entry(struct rfs_ns *ns, struct rfs_node *d, struct entry *e)
{
	struct rfs_node *n = e->node;

	if (n->home_entry == e) {
		n->home = NULL;
		n->home_entry = NULL;
	}
	dir_erase(&d->dir, e);
	if (is_dir(n)) {
		d->dir.subdirs--;
		n->nlink = 0;
		/* Its parent may go before it does: a removed directory is its own ".." */
		n->dir.parent = n;
	} else {
		n->nlink--;
	}
	atomic_store(&n->ctime, rfs_now_ns());
	maybe_free(ns, n);
}

int rfs_ns_remove(struct rfs_ns *ns, struct rfs_node *dir, const char *name, bool want_dir)
{
	struct entry *e;
	int err = 0;

	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(dir)) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	e = dir_find(&dir->dir, name);
	if (!e) {
		err = -ENOENT;
		goto out_unlock;
	}
	if (e->node->sealed)
		err = -EPERM;
	else if (want_dir && !is_dir(e->node))
		err = -ENOTDIR;
	else if (!want_dir && is_dir(e->node))
		err = -EISDIR;
	else if (want_dir && e->node->dir.count)
		err = -ENOTEMPTY;
	if (err)
		goto out_unlock;
	drop_entry(ns, dir, e);
	stamp_dir(dir);
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

bool rfs_ns_closed(struct rfs_ns *ns, struct rfs_node *node, struct rfs_gone *gone)
{
	bool removed = false;
	struct rfs_node *dir;

	if (atomic_load(&node->lifetime) != RFS_LIFETIME_CLOSE) {
		atomic_fetch_sub(&node->opens, 1);
		return false;
	}
	/* An opener racing this either counted itself before the decrement
	 * (the name stays) or opens a node that is already unnamed. */
	pthread_rwlock_wrlock(&ns->lock);
	if (atomic_fetch_sub(&node->opens, 1) == 1 && atomic_load(&node->used) && node->home) {
		dir = node->home;
		strcpy(gone->name, node->home_entry->name);
		gone->dir = dir;
		atomic_fetch_add(&dir->refs, 1);
		drop_entry(ns, dir, node->home_entry);
		stamp_dir(dir);
		removed = true;
	}
	pthread_rwlock_unlock(&ns->lock);
	return removed;
}

/* Is a inside the subtree of b (or b itself)? ns->lock held. */
static bool within(const struct rfs_node *a, const struct rfs_node *b)
{
	for (;;) {
		if (a == b)
			return true;
		if (a->dir.parent == a)
			return false;
		a = a->dir.parent;
	}
}

/* Re-file node under a new name in dir: parent links and subdir counts. */
static void set_parent(struct rfs_node *node, struct rfs_node *from, struct rfs_node *to)
{
	if (!is_dir(node) || from == to)
		return;
	from->dir.subdirs--;
	to->dir.subdirs++;
	node->dir.parent = to;
}

static int rename_exchange(struct entry *a, struct rfs_node *adir, struct entry *b,
			   struct rfs_node *bdir)
{
	struct rfs_node *an = a->node, *bn = b->node;

	if ((is_dir(an) && within(bdir, an)) || (is_dir(bn) && within(adir, bn)))
		return -EINVAL;
	a->node = bn;
	b->node = an;
	if (an->home_entry == a)
		set_home(an, bdir, b);
	if (bn->home_entry == b)
		set_home(bn, adir, a);
	set_parent(an, adir, bdir);
	set_parent(bn, bdir, adir);
	return 0;
}

int rfs_ns_rename(struct rfs_ns *ns, struct rfs_node *from_dir, const char *from,
		  struct rfs_node *to_dir, const char *to, unsigned int flags)
{
	struct entry *src, *dst;
	struct rfs_node *n;
	int err = check_name(ns, to_dir, to);

	if (err)
		return err;
	if (flags & ~(RFS_RENAME_NOREPLACE | RFS_RENAME_EXCHANGE) ||
	    (flags & RFS_RENAME_NOREPLACE && flags & RFS_RENAME_EXCHANGE))
		return -EINVAL;
	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(from_dir) || !is_dir(to_dir)) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	src = dir_find(&from_dir->dir, from);
	dst = dir_find(&to_dir->dir, to);
	if (!src || (!dst && flags & RFS_RENAME_EXCHANGE) || to_dir->nlink == 0) {
		err = -ENOENT;
		goto out_unlock;
	}
	n = src->node;
	if (n->sealed || from_dir->sealed || to_dir->sealed || (dst && dst->node->sealed)) {
		err = -EPERM;
		goto out_unlock;
	}
	if (flags & RFS_RENAME_EXCHANGE) {
		err = rename_exchange(src, from_dir, dst, to_dir);
		goto out_stamp;
	}
	if (dst && flags & RFS_RENAME_NOREPLACE) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (dst && dst->node == n)
		goto out_unlock; /* two names of one file: POSIX says do nothing */
	if (is_dir(n) && within(to_dir, n)) {
		err = -EINVAL;
		goto out_unlock;
	}
	if (dst) {
		if (is_dir(n) && !is_dir(dst->node))
			err = -ENOTDIR;
		else if (!is_dir(n) && is_dir(dst->node))
			err = -EISDIR;
		else if (is_dir(dst->node) && dst->node->dir.count)
			err = -ENOTEMPTY;
		if (err)
			goto out_unlock;
	}
	/* Insert before dropping anything, so a failed allocation changes nothing. */
	err = dir_insert(&to_dir->dir, to, n);
	if (err)
		goto out_unlock;
	if (n->home_entry == src)
		set_home(n, to_dir, to_dir->dir.tail); /* dir_insert appends */
	if (dst)
		drop_entry(ns, to_dir, dst);
	dir_erase(&from_dir->dir, src);
	set_parent(n, from_dir, to_dir);
out_stamp:
	if (!err) {
		atomic_store(&n->ctime, rfs_now_ns());
		stamp_dir(from_dir);
		stamp_dir(to_dir);
	}
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

static void later(struct timespec *t, struct timespec other)
{
	if (from_ts(other) > from_ts(*t))
		*t = other;
}

void rfs_ns_stat_locked(struct rfs_node *n, struct stat *st)
{
	struct stat bytes = {0};

	memset(st, 0, sizeof(*st));
	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_uid = n->uid;
	st->st_gid = n->gid;
	st->st_blksize = 4096;
	if (S_ISDIR(n->mode)) {
		st->st_nlink = n->nlink ? 2 + n->dir.subdirs : 0;
		st->st_size = (off_t)(n->dir.count + 2) * BOGO_DIRENT_SIZE;
	} else if (S_ISREG(n->mode)) {
		st->st_nlink = n->nlink;
		if (n->map) {
			rfs_mapping_stat(n->map, &bytes);
			st->st_size = bytes.st_size;
			st->st_blocks = bytes.st_blocks;
		}
	} else if (S_ISLNK(n->mode)) {
		st->st_nlink = n->nlink;
		st->st_size = (off_t)strlen(n->target);
	} else {
		st->st_nlink = n->nlink;
		if (S_ISCHR(n->mode) || S_ISBLK(n->mode))
			st->st_rdev = n->rdev;
	}
	st->st_atim = to_ts(atomic_load(&n->atime));
	st->st_mtim = to_ts(atomic_load(&n->mtime));
	st->st_ctim = to_ts(atomic_load(&n->ctime));
	/* A region's bytes change without us when the kernel serves them:
	 * the later of their times and ours (setattr sets both). */
	later(&st->st_atim, bytes.st_atim);
	later(&st->st_mtim, bytes.st_mtim);
	later(&st->st_ctim, bytes.st_mtim);
}

void rfs_ns_stat(struct rfs_ns *ns, struct rfs_node *node, struct stat *st)
{
	pthread_rwlock_rdlock(&ns->lock);
	rfs_ns_stat_locked(node, st);
	pthread_rwlock_unlock(&ns->lock);
}

int rfs_ns_setattr(struct rfs_ns *ns, struct rfs_node *n, unsigned int which, const struct stat *st)
{
	int64_t t = rfs_now_ns();
	int err = 0;

	if (n->sealed && which & (RFS_SET_MODE | RFS_SET_UID | RFS_SET_GID | RFS_SET_SIZE))
		return -EPERM;
	if (which & RFS_SET_SIZE) {
		if (!S_ISREG(n->mode))
			return S_ISDIR(n->mode) ? -EISDIR : -EINVAL;
		err = rfs_mapping_resize(n->map, (uint64_t)st->st_size);
		if (err)
			return err;
		atomic_store(&n->mtime, t);
	}
	pthread_rwlock_wrlock(&ns->lock);
	if (which & RFS_SET_MODE)
		n->mode = (n->mode & S_IFMT) | (st->st_mode & 07777);
	if (which & RFS_SET_UID)
		n->uid = st->st_uid;
	if (which & RFS_SET_GID)
		n->gid = st->st_gid;
	pthread_rwlock_unlock(&ns->lock);
	if (which & RFS_SET_ATIME)
		atomic_store(&n->atime, from_ts(st->st_atim));
	if (which & RFS_SET_MTIME)
		atomic_store(&n->mtime, from_ts(st->st_mtim));
	if (which & (RFS_SET_ATIME | RFS_SET_MTIME) && S_ISREG(n->mode) && n->map) {
		struct timespec times[2] = {
			which & RFS_SET_ATIME ? st->st_atim
					      : (struct timespec){.tv_nsec = UTIME_OMIT},
			which & RFS_SET_MTIME ? st->st_mtim
					      : (struct timespec){.tv_nsec = UTIME_OMIT},
		};

		err = rfs_mapping_set_times(n->map, times);
		if (err)
			return err;
	}
	atomic_store(&n->ctime, which & RFS_SET_CTIME ? from_ts(st->st_ctim) : t);
	return 0;
}

void rfs_ns_touch(struct rfs_node *node)
{
	int64_t t = rfs_now_ns();

	atomic_store_explicit(&node->mtime, t, memory_order_relaxed);
	atomic_store_explicit(&node->ctime, t, memory_order_relaxed);
}

struct rfs_node *rfs_mapping_node(const struct rfs_mapping *m)
{
	return rfs_mapping_owner(m);
}

struct rfs_mapping *rfs_node_mapping(const struct rfs_node *node)
{
	return S_ISREG(node->mode) ? node->map : NULL;
}

mode_t rfs_node_type(const struct rfs_node *node)
{
	return node->mode & S_IFMT;
}

int rfs_ns_readlink(struct rfs_ns *ns, struct rfs_node *node, char *buf, size_t size)
{
	(void)ns;
	if (!S_ISLNK(node->mode))
		return -EINVAL;
	if (strlen(node->target) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, node->target); /* target is immutable after creation */
	return 0;
}

int rfs_ns_readdir(struct rfs_ns *ns, struct rfs_node *dir, uint64_t cookie, rfs_emit_fn emit,
		   void *ctx)
{
	struct entry *e;
	int err = 0;

	pthread_rwlock_rdlock(&ns->lock);
	if (!is_dir(dir)) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	if (cookie < COOKIE_DOT && emit(ctx, ".", dir, COOKIE_DOT))
		goto out_unlock;
	if (cookie < COOKIE_DOTDOT && emit(ctx, "..", dir->dir.parent, COOKIE_DOTDOT))
		goto out_unlock;
	for (e = dir->dir.head; e; e = e->next) {
		if (e->cookie <= cookie || (dir == ns->root && e->node->sealed))
			continue;
		if (emit(ctx, e->name, e->node, e->cookie))
			break;
	}
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

void rfs_ns_usage(struct rfs_ns *ns, struct rfs_ns_usage *u)
{
	pthread_rwlock_rdlock(&ns->lock);
	u->nodes = ns->nodes;
	pthread_rwlock_unlock(&ns->lock);
}

/* May who read and search directory n (its mode bits, as the kernel checks them)? */
static bool may_list(const struct rfs_node *n, const struct rfs_reader *who)
{
	mode_t m = n->mode;
	bool group = n->gid == who->gid;

	if (!who->uid)
		return true;
	for (size_t i = 0; i < who->ngroups && !group; i++)
		group = who->groups[i] == n->gid;
	if (who->uid == n->uid)
		m >>= 6;
	else if (group)
		m >>= 3;
	return (m & 05) == 05;
}

/*
 * Depth-first over dir, path holding its name (len bytes) in a buffer of
 * RFS_NS_PATH_MAX; fn gets directories (before their entries) if dirs,
 * else regular files. With who, only what who may list.
 */
static int walk(struct rfs_node *dir, const struct rfs_reader *who, char *path, size_t len,
		bool dirs, rfs_walk_fn fn, void *ctx)
{
	struct entry *e;
	int stop = 0;

	if (who && !may_list(dir, who))
		return 0;
	for (e = dir->dir.head; e && !stop; e = e->next) {
		size_t nlen = strlen(e->name), sep = len ? 1 : 0;

		if (e->node->sealed || len + sep + nlen >= RFS_NS_PATH_MAX)
			continue;
		if (sep)
			path[len] = '/';
		memcpy(path + len + sep, e->name, nlen + 1);
		if (is_dir(e->node)) {
			stop = dirs ? fn(ctx, path, e->node) : 0;
			if (!stop)
				stop = walk(e->node, who, path, len + sep + nlen, dirs, fn, ctx);
		} else if (S_ISREG(e->node->mode) && !dirs) {
			stop = fn(ctx, path, e->node);
		}
		path[len] = '\0';
	}
	return stop;
}

static int walk_root(struct rfs_ns *ns, const struct rfs_reader *who, bool dirs, rfs_walk_fn fn,
		     void *ctx)
{
	char *path = malloc(RFS_NS_PATH_MAX);

	if (!path)
		return -ENOMEM;
	path[0] = '\0';
	pthread_rwlock_rdlock(&ns->lock);
	walk(ns->root, who, path, 0, dirs, fn, ctx);
	pthread_rwlock_unlock(&ns->lock);
	free(path);
	return 0;
}

int rfs_ns_walk(struct rfs_ns *ns, rfs_walk_fn fn, void *ctx)
{
	return walk_root(ns, NULL, false, fn, ctx);
}

int rfs_ns_walk_as(struct rfs_ns *ns, const struct rfs_reader *who, rfs_walk_fn fn, void *ctx)
{
	return walk_root(ns, who, false, fn, ctx);
}

int rfs_ns_walk_dirs(struct rfs_ns *ns, const struct rfs_reader *who, rfs_walk_fn fn, void *ctx)
{
	return walk_root(ns, who, true, fn, ctx);
}
