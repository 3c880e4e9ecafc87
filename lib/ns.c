/* Nodes and the namespace: lifecycle and name operations (see ns.h, ns_i.h). */
#include "lib/ns_i.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lib/clock.h"
#include "lib/rwlock.h"
#include "lib/store.h"

/* n now has the name e (just inserted) in dir. */
static void set_home(struct rfs_node *n, struct rfs_node *dir, struct entry *e)
{
	if (!is_dir(n)) {
		n->home = dir;
		n->home_entry = e;
	}
}

static void node_free(struct rfs_node *n)
{
	if (S_ISREG(n->mode)) {
		/* A window may hold the mapping on: its notices name no node now. */
		if (n->map)
			rfs_mapping_set_owner(n->map, NULL);
		rfs_mapping_free(n->map);
	} else if (S_ISDIR(n->mode)) {
		rfs_dir_destroy(&n->dir);
		rfs_store_free(n->dir.budget); /* its regions may hold it on */
	} else if (S_ISLNK(n->mode)) {
		free(n->target);
	}
	rfs_xattrs_free(n->xattrs);
	free(n);
}

/* A new node; a new region's bytes go to store, its owners are counted in ledger. */
static int node_new(struct rfs_store *store, struct rfs_ledger *ledger, mode_t mode,
		    struct rfs_cred cred, struct rfs_mapping *map, uint64_t file,
		    struct rfs_node **out)
{
	struct rfs_node *n = calloc(1, sizeof(*n));
	int64_t t = op_now();
	int err = 0;

	if (!n)
		return -ENOMEM;
	n->mode = mode;
	n->type = mode & S_IFMT;
	n->uid = cred.uid;
	n->gid = cred.gid;
	atomic_init(&n->refs, 0);
	atomic_init(&n->atime, t);
	atomic_init(&n->mtime, t);
	atomic_init(&n->ctime, t);
	n->btime = t;
	if (S_ISREG(mode)) {
		n->map = map;
		if (!map)
			err = file ? rfs_region_adopt(store, file, &n->map)
				   : rfs_region_new(store, &n->map);
		/* A declared region may be over its owner's budget already. */
		if (!err && (err = rfs_region_set_owner(n->map, ledger, cred.uid, cred.gid)) &&
		    !map)
			rfs_mapping_free(n->map);
		if (err) {
			free(n);
			return err;
		}
		rfs_mapping_set_owner(n->map, n);
	} else if (S_ISDIR(mode)) {
		rfs_dir_init(&n->dir);
	}
	*out = n;
	return 0;
}

/* Number a new node and add it to the node list and the table of numbers:
 * 0 or -ENOMEM. ns->lock held exclusive. */
static int node_publish(struct rfs_ns *ns, struct rfs_node *n)
{
	/* Special nodes have numbers of their own, so that a process made as
	 * its predecessor numbers them as it did, before or after a replay. */
	uint64_t *next = n->sealed ? &ns->next_special : &ns->next_ino;
	int err;

	if (ns->replay_ino) {
		*next = ns->replay_ino;
		ns->replay_ino = 0;
	}
	if (n->sealed && *next >= RFS_NS_FIRST_INO)
		return -ENOSPC;
	if (rfs_itable_get(ns->by_ino, *next))
		return -EEXIST; /* a replayed number another node has */
	err = rfs_itable_set(ns->by_ino, *next, n);
	if (err)
		return err;
	n->ino = (*next)++;
	n->all_next = &ns->all;
	n->all_prev = ns->all.all_prev;
	ns->all.all_prev->all_next = n;
	ns->all.all_prev = n;
	ns->nodes++;
	return 0;
}

/* Undo node_publish. ns->lock held exclusive. */
static void node_unpublish(struct rfs_ns *ns, struct rfs_node *n)
{
	rfs_itable_set(ns->by_ino, n->ino, NULL); /* frees, never fails */
	n->all_prev->all_next = n->all_next;
	n->all_next->all_prev = n->all_prev;
	ns->nodes--;
}

/* Free n if nothing holds it any more. ns->lock held exclusive. */
static void maybe_free(struct rfs_ns *ns, struct rfs_node *n)
{
	if (n->nlink || atomic_load(&n->refs) || n == ns->root)
		return;
	rfs_nsj_free(ns, n);
	node_unpublish(ns, n);
	rfs_ns_xattrs_release(ns, n);
	node_free(n);
}

/* Give a new node its first name, in dir, and the caller's reference. ns->lock exclusive. */
static int attach_new(struct rfs_ns *ns, struct rfs_node *dir, const char *name, struct rfs_node *n)
{
	int err = node_publish(ns, n);

	if (err)
		return err;
	/* O_TMPFILE: no name yet; link may give it its first. */
	if (!name) {
		n->linkable = true;
		atomic_store(&n->refs, 1);
		return 0;
	}
	err = rfs_dir_insert(&dir->dir, name, n);
	if (err) {
		node_unpublish(ns, n);
		return err;
	}
	n->nlink = 1;
	if (is_dir(n)) {
		n->dir.parent = dir;
		dir->dir.subdirs++;
	}
	set_home(n, dir, dir->dir.tail);
	atomic_store(&n->refs, 1);
	return 0;
}

void rfs_ns_stamp_dir(struct rfs_node *d)
{
	int64_t t = op_now();

	atomic_store(&d->mtime, t);
	atomic_store(&d->ctime, t);
}

int rfs_ns_new(struct rfs_store *store, mode_t root_mode, struct rfs_cred owner,
	       struct rfs_ns **out)
{
	struct rfs_ns *ns = calloc(1, sizeof(*ns));
	int err;

	if (!ns)
		return -ENOMEM;
	ns->store = store;
	struct rfs_store_usage u;

	rfs_store_usage(store, &u);
	/* As tmpfs's pool for them, 1 KiB for each inode the store may have,
	 * but no more than 1 KiB per page of the cap: the daemon's memory. */
	ns->xattr_room =
		(u.files_total < u.bytes_total / 4096 ? u.files_total : u.bytes_total / 4096) *
		1024;
	ns->next_ino = 1; /* the root's: FUSE's root id */
	ns->all.all_next = ns->all.all_prev = &ns->all;
	err = rfs_itable_new(&ns->by_ino);
	if (!err)
		err = node_new(store, NULL, S_IFDIR | (root_mode & 07777), owner, NULL, 0,
			       &ns->root);
	if (!err && (err = node_publish(ns, ns->root)))
		node_free(ns->root);
	if (err) {
		rfs_itable_free(ns->by_ino);
		free(ns);
		return err;
	}
	ns->root->nlink = 1;
	ns->next_special = 2;
	ns->next_ino = RFS_NS_FIRST_INO;
	ns->root->dir.parent = ns->root;
	atomic_init(&ns->root->lifetime, RFS_LIFETIME_PERSIST);
	rfs_rwlock_init(&ns->lock); /* nothing takes it shared twice in one thread */
	*out = ns;
	return 0;
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
	rfs_itable_free(ns->by_ino);
	pthread_rwlock_destroy(&ns->lock);
	free(ns);
}

struct rfs_node *rfs_ns_root(struct rfs_ns *ns)
{
	return ns->root;
}

struct rfs_node *rfs_ns_node(struct rfs_ns *ns, uint64_t ino)
{
	return rfs_itable_get(ns->by_ino, ino); /* held by the caller: no lock */
}

int rfs_ns_find(struct rfs_ns *ns, uint64_t ino, struct rfs_node **out)
{
	struct rfs_node *n;

	/* Shared is enough: a node is freed (maybe_free) only under the
	 * exclusive lock, which sees the reference taken here. */
	pthread_rwlock_rdlock(&ns->lock);
	n = rfs_itable_get(ns->by_ino, ino);
	if (n)
		atomic_fetch_add(&n->refs, 1);
	pthread_rwlock_unlock(&ns->lock);
	*out = n;
	return n ? 0 : -ESTALE;
}

uint64_t rfs_node_ino(const struct rfs_node *node)
{
	return node->ino;
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
		struct entry *e = rfs_dir_find(&dir->dir, name);

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

static int create(struct rfs_ns *ns, struct rfs_node *dir, const char *name,
		  const struct rfs_new *what, struct rfs_node **out)
{
	struct rfs_cred cred = what->cred;
	mode_t mode = what->mode;
	struct rfs_node *n;
	int err = name ? check_name(ns, dir, name) : 0;

	if (err)
		return err;
	if ((S_ISLNK(mode) && !what->target) || (!name && !S_ISREG(mode)))
		return -EINVAL;
	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(dir) || dir->nlink == 0) {
		err = is_dir(dir) ? -ENOENT : -ENOTDIR;
		goto out_unlock;
	}
	if (name && rfs_dir_find(&dir->dir, name)) {
		err = -EEXIST;
		goto out_unlock;
	}
	if (dir->sealed || immutable(dir)) {
		err = -EPERM;
		goto out_unlock;
	}
	/* The caller's region was made for some budget: this one? */
	if (what->map && rfs_region_store(what->map) &&
	    rfs_region_store(what->map) != rfs_ns_store_locked(ns, dir)) {
		err = -EXDEV;
		goto out_unlock;
	}
	if (dir->mode & S_ISGID) {
		cred.gid = dir->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	/* Where the directory gives an ACL, it limits the mode instead (not
	 * a symlink's, always 0777). */
	if (!S_ISLNK(mode) && !rfs_ns_has_default_acl(dir))
		mode &= ~(what->umask & 0777);
	err = node_new(rfs_ns_store_locked(ns, dir), ns->ledger, mode, cred, what->map,
		       ns->replay_file, &n);
	if (err)
		goto out_unlock;
	if (!S_ISLNK(mode) && (err = rfs_ns_acl_inherit(ns, dir, n))) {
		if (what->map)
			n->map = NULL; /* still the caller's */
		node_free(n);
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
		rfs_ns_xattrs_release(ns, n);
		node_free(n);
		goto out_unlock;
	}
	if (name)
		rfs_ns_stamp_dir(dir);
	rfs_nsj_create(ns, dir, name, what, n);
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
	n->type = mode & S_IFMT;
	n->uid = cred.uid;
	n->gid = cred.gid;
	n->sealed = true;
	n->tag = tag;
	atomic_init(&n->lifetime, RFS_LIFETIME_PERSIST);
	atomic_init(&n->atime, op_now());
	atomic_init(&n->mtime, atomic_load(&n->atime));
	atomic_init(&n->ctime, atomic_load(&n->atime));
	n->btime = atomic_load(&n->atime);
	if (S_ISDIR(mode))
		rfs_dir_init(&n->dir);
	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(dir) || rfs_dir_find(&dir->dir, name)) {
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

static int link_node(struct rfs_ns *ns, struct rfs_node *node, struct rfs_node *dir,
		     const char *name)
{
	int err = check_name(ns, dir, name);

	if (err)
		return err;
	pthread_rwlock_wrlock(&ns->lock);
	if (is_dir(node) || fixed(node) || dir->sealed || immutable(dir))
		err = -EPERM;
	else if (atomic_load(&node->lifetime) == RFS_LIFETIME_CLOSE && node->nlink)
		err = -EMLINK; /* its last close removes its one name */
	else if (!is_dir(dir))
		err = -ENOTDIR;
	else if (dir->nlink == 0 || (node->nlink == 0 && !node->linkable))
		err = -ENOENT;
	else if (rfs_dir_find(&dir->dir, name))
		err = -EEXIST;
	else if (rfs_ns_budget_may_move(ns, node, dir))
		err = -EXDEV;
	else
		err = rfs_dir_insert(&dir->dir, name, node);
	if (!err) {
		if (node->linkable) /* an O_TMPFILE file's first name */
			set_home(node, dir, dir->dir.tail);
		node->linkable = false;
		node->nlink++;
		atomic_fetch_add(&node->refs, 1);
		atomic_store(&node->ctime, op_now());
		rfs_ns_stamp_dir(dir);
		rfs_nsj_link(ns, node, dir, name);
	}
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

/* Take e's node out of dir d; the node loses a name. ns->lock exclusive. */
void rfs_ns_drop_entry(struct rfs_ns *ns, struct rfs_node *d, struct entry *e)
{
	struct rfs_node *n = e->node;

	if (n->home_entry == e) {
		n->home = NULL;
		n->home_entry = NULL;
	}
	rfs_dir_erase(&d->dir, e);
	if (is_dir(n)) {
		d->dir.subdirs--;
		n->nlink = 0;
		/* Its parent may go before it does: a removed directory is its own ".." */
		n->dir.parent = n;
	} else {
		n->nlink--;
	}
	atomic_store(&n->ctime, op_now());
	maybe_free(ns, n);
}

static int remove_name(struct rfs_ns *ns, struct rfs_node *dir, const char *name, bool want_dir)
{
	struct entry *e;
	int err = 0;

	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(dir)) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	e = rfs_dir_find(&dir->dir, name);
	if (!e) {
		err = -ENOENT;
		goto out_unlock;
	}
	if (!may_delete(dir, e->node))
		err = -EPERM;
	else if (want_dir && !is_dir(e->node))
		err = -ENOTDIR;
	else if (!want_dir && is_dir(e->node))
		err = -EISDIR;
	else if (want_dir && rfs_dir_count(&e->node->dir))
		err = -ENOTEMPTY;
	if (err)
		goto out_unlock;
	rfs_ns_drop_entry(ns, dir, e);
	rfs_ns_stamp_dir(dir);
	rfs_nsj_remove(ns, dir, name, want_dir);
out_unlock:
	pthread_rwlock_unlock(&ns->lock);
	return err;
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

static int rename_exchange(struct rfs_ns *ns, struct entry *a, struct rfs_node *adir,
			   struct entry *b, struct rfs_node *bdir)
{
	struct rfs_node *an = a->node, *bn = b->node;

	if ((is_dir(an) && within(bdir, an)) || (is_dir(bn) && within(adir, bn)))
		return -EINVAL;
	/* Swapping two budgets' places would carve each from the other's
	 * parent at once: not worth its failure modes. */
	if (rfs_ns_budget_may_move(ns, an, bdir) || rfs_ns_budget_may_move(ns, bn, adir))
		return -EXDEV;
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
	return rfs_ns_rename_as(ns, from_dir, from, to_dir, to, flags, (struct rfs_cred){0, 0});
}

/* The whiteout of a name renamed away: a character device 0:0, as tmpfs's. */
static int whiteout_new(struct rfs_cred cred, struct rfs_node **out)
{
	int err = node_new(NULL, NULL, S_IFCHR, cred, NULL, 0, out);

	if (!err) {
		(*out)->rdev = 0;
		atomic_init(&(*out)->lifetime, RFS_LIFETIME_PERSIST);
	}
	return err;
}

static int rename_as(struct rfs_ns *ns, struct rfs_node *from_dir, const char *from,
		     struct rfs_node *to_dir, const char *to, unsigned int flags,
		     struct rfs_cred cred)
{
	struct entry *src, *dst, *moved, *we = NULL;
	struct rfs_node *n, *w = NULL;
	uint64_t whiteout = 0;
	int budget, err = check_name(ns, to_dir, to);

	if (err)
		return err;
	if (flags & ~(RFS_RENAME_NOREPLACE | RFS_RENAME_EXCHANGE | RFS_RENAME_WHITEOUT) ||
	    (flags & RFS_RENAME_EXCHANGE && flags & (RFS_RENAME_NOREPLACE | RFS_RENAME_WHITEOUT)))
		return -EINVAL;
	if (flags & RFS_RENAME_WHITEOUT && (err = whiteout_new(cred, &w)))
		return err;
	pthread_rwlock_wrlock(&ns->lock);
	if (!is_dir(from_dir) || !is_dir(to_dir)) {
		err = -ENOTDIR;
		goto out_unlock;
	}
	src = rfs_dir_find(&from_dir->dir, from);
	dst = rfs_dir_find(&to_dir->dir, to);
	if (!src || (!dst && flags & RFS_RENAME_EXCHANGE) || to_dir->nlink == 0) {
		err = -ENOENT;
		goto out_unlock;
	}
	n = src->node;
	if (!may_delete(from_dir, n) ||
	    (dst ? !may_delete(to_dir, dst->node) : to_dir->sealed || immutable(to_dir))) {
		err = -EPERM;
		goto out_unlock;
	}
	if (flags & RFS_RENAME_EXCHANGE) {
		err = rename_exchange(ns, src, from_dir, dst, to_dir);
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
	budget = rfs_ns_budget_may_move(ns, n, to_dir);
	if (budget < 0) {
		err = budget;
		goto out_unlock;
	}
	if (dst) {
		if (is_dir(n) && !is_dir(dst->node))
			err = -ENOTDIR;
		else if (!is_dir(n) && is_dir(dst->node))
			err = -EISDIR;
		else if (is_dir(dst->node) && rfs_dir_count(&dst->node->dir))
			err = -ENOTEMPTY;
		if (err)
			goto out_unlock;
	}
	/* Insert before dropping anything, so a failed allocation (or a
	 * budget that does not fit where it goes) changes nothing. The
	 * whiteout takes the old name beside the entry leaving it (the table
	 * holds both for a moment, under the lock). */
	err = rfs_dir_insert(&to_dir->dir, to, n);
	if (err)
		goto out_unlock;
	moved = to_dir->dir.tail; /* rfs_dir_insert appends */
	if (w && ((err = node_publish(ns, w)) || (err = rfs_dir_insert(&from_dir->dir, from, w)))) {
		rfs_dir_erase(&to_dir->dir, moved);
		goto out_unlock;
	}
	we = w ? from_dir->dir.tail : NULL;
	if (budget && (err = rfs_store_move(n->dir.budget, rfs_ns_store_locked(ns, to_dir)))) {
		if (we)
			rfs_dir_erase(&from_dir->dir, we);
		rfs_dir_erase(&to_dir->dir, moved);
		goto out_unlock;
	}
	if (n->home_entry == src)
		set_home(n, to_dir, moved);
	if (dst)
		rfs_ns_drop_entry(ns, to_dir, dst);
	rfs_dir_erase(&from_dir->dir, src);
	set_parent(n, from_dir, to_dir);
	if (w) {
		w->nlink = 1;
		set_home(w, from_dir, we);
		whiteout = w->ino;
		w = NULL;
	}
out_stamp:
	if (!err) {
		atomic_store(&n->ctime, op_now());
		rfs_ns_stamp_dir(from_dir);
		rfs_ns_stamp_dir(to_dir);
		rfs_nsj_rename(ns, from_dir, from, to_dir, to, flags, cred, whiteout);
	}
out_unlock:
	if (w && w->ino)
		node_unpublish(ns, w);
	pthread_rwlock_unlock(&ns->lock);
	if (w)
		node_free(w);
	return err;
}

/* The changes a journal records, each made at one instant (rfs_op_begin). */
int rfs_ns_create(struct rfs_ns *ns, struct rfs_node *dir, const char *name,
		  const struct rfs_new *what, struct rfs_node **out)
{
	int err;

	rfs_op_begin();
	err = create(ns, dir, name, what, out);
	rfs_op_end();
	return err;
}

int rfs_ns_link(struct rfs_ns *ns, struct rfs_node *node, struct rfs_node *dir, const char *name)
{
	int err;

	rfs_op_begin();
	err = link_node(ns, node, dir, name);
	rfs_op_end();
	return err;
}

int rfs_ns_remove(struct rfs_ns *ns, struct rfs_node *dir, const char *name, bool is_dir)
{
	int err;

	rfs_op_begin();
	err = remove_name(ns, dir, name, is_dir);
	rfs_op_end();
	return err;
}

int rfs_ns_rename_as(struct rfs_ns *ns, struct rfs_node *from_dir, const char *from,
		     struct rfs_node *to_dir, const char *to, unsigned int flags,
		     struct rfs_cred cred)
{
	int err;

	rfs_op_begin();
	err = rename_as(ns, from_dir, from, to_dir, to, flags, cred);
	rfs_op_end();
	return err;
}

struct rfs_node *rfs_mapping_node(const struct rfs_mapping *m)
{
	return rfs_mapping_owner(m);
}

struct rfs_mapping *rfs_node_mapping(const struct rfs_node *node)
{
	return S_ISREG(node->type) ? node->map : NULL;
}

mode_t rfs_node_type(const struct rfs_node *node)
{
	return node->type;
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

void rfs_ns_usage(struct rfs_ns *ns, struct rfs_ns_usage *u)
{
	pthread_rwlock_rdlock(&ns->lock);
	u->nodes = ns->nodes;
	pthread_rwlock_unlock(&ns->lock);
}
