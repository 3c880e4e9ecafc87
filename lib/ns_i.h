/*
 * The namespace's private structures and the helpers its files share
 * (ns.h is the API). The files, one job each:
 *
 *   ns.c       lifecycle of nodes and the namespace; name operations
 *              (lookup, create, link, remove, rename) and small accessors
 *   ns_dir.c   a directory's table of entries, and readdir over it
 *   ns_attr.c  attributes: stat, setattr, times
 *   ns_life.c  open counts and the close lifetime of regions
 *   ns_walk.c  depth-first walks for the control plane
 *   ns_budget.c  budgets: the store each part of the tree keeps regions in,
 *                and the ledger that counts regions by owner
 *
 * Locking is ns.h's: "ns->lock" below means struct rfs_ns's lock.
 */
#ifndef REGIONFS_NS_I_H
#define REGIONFS_NS_I_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/fs.h>

#include "lib/clock.h"
#include "lib/hash.h"
#include "lib/itable.h"
#include "lib/ns.h"

#define NAME_MAX_BYTES	 255
#define COOKIE_DOT	 1
#define COOKIE_DOTDOT	 2
#define COOKIE_FIRST	 3
#define BOGO_DIRENT_SIZE 20 /* what tmpfs reports per entry as a directory's size */

/* A name in a directory. */
struct entry {
	struct rfs_hash_link link; /* in the directory's names, keyed by name */
	struct entry *prev, *next; /* in cookie order */
	uint64_t cookie;	   /* readdir position; grows with each insertion */
	struct rfs_node *node;
	char name[];
};

/*
 * Where an open listing of a directory stands (ns.h's rfs_ns_listing): the
 * entry it emits next, found again in O(1) however many entries it passed.
 * An erase moves cursors off the erased entry. In the directory's list of
 * listings; all under ns->lock (a listing moves its own cursor under the
 * shared lock: the kernel serializes the readdirs of one open directory).
 */
struct rfs_listing {
	struct rfs_node *dir;
	struct entry *next; /* NULL: at the end */
	uint64_t resume;    /* the cookie that resumes at next; 0: none yet */
	uint64_t end;	    /* entries made from this cookie on are not listed */
	struct rfs_listing *prev_listing, *next_listing;
};

/*
 * A directory's entries: a hash table to find a name and, beside it, a
 * list in insertion (cookie) order, which readdir and the walks follow, so
 * a cookie stays valid however the table grows.
 */
struct dir {
	struct rfs_hash names; /* struct entry */
	struct entry *head, *tail;
	uint64_t next_cookie;
	struct rfs_node *parent; /* the root is its own parent */
	size_t subdirs;
	struct rfs_store *budget;     /* its own store, held; NULL: regions go to its parent's */
	struct rfs_listing *listings; /* open listings of it */
};

struct rfs_node {
	uint64_t ino; /* st_ino and the driver's node id; 0 until published */
	mode_t mode;  /* type and permission bits */
	mode_t type;  /* S_IFMT bits of mode, fixed: for readers without the lock */
	uid_t uid;
	gid_t gid;
	nlink_t nlink; /* names; a directory has at most one */
	bool sealed;   /* special: its name and, for a directory, its entries are fixed */
	bool linkable; /* made by O_TMPFILE and never named: link may name it */
	bool replayed; /* holds a reference of the replay that made it (ns_journal.c) */
	/* chattr's FS_*_FL (RFS_NS_IFLAGS): changed under ns->lock, read lock-free */
	_Atomic unsigned int iflags;
	void *tag; /* the caller's mark on a special node; fixed */
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
	int64_t btime;			     /* made; fixed */
	struct rfs_xattrs *xattrs;	     /* extended attributes (ns_xattr.c), or NULL */
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
	struct rfs_store *store;   /* regions' bytes; fixed */
	struct rfs_ledger *ledger; /* budgets by owner, or NULL */
	struct rfs_node *root;	   /* fixed */
	struct rfs_node all;	   /* list head of every node; only all_prev/all_next used */
	struct rfs_itable *by_ino; /* every published node, by ino; lock-free readers */
	uint64_t next_ino;	   /* never reused: a number names one node for the mount's life */
	uint64_t next_special;	   /* the same for special nodes, below RFS_NS_FIRST_INO */
	uint64_t xattr_room; /* bytes extended attributes may take, all nodes together; fixed */
	uint64_t xattr_used; /* bytes they take */
	uint64_t nodes;
	/* The journal every change is recorded in (ns_journal.c), or NULL; the
	 * first error an append met (0: none): the journal no longer tells
	 * the whole state. Appends are made under the exclusive lock, in the
	 * order of the changes. */
	struct rfs_journal *journal;
	int journal_err;
	/* While a replay rebuilds the namespace (single-threaded): the number
	 * the next node takes and the store file the next region adopts (0:
	 * as usual). */
	bool replaying;
	uint64_t replay_ino, replay_file;
	char replay_failed[96]; /* which record a replay could not apply, and why */
};

static inline bool is_dir(const struct rfs_node *n)
{
	return S_ISDIR(n->mode);
}

/* chattr +i: nothing about n may change (nor, for a directory, its entries). */
static inline bool immutable(const struct rfs_node *n)
{
	return atomic_load_explicit(&n->iflags, memory_order_relaxed) & FS_IMMUTABLE_FL;
}

/* +i or +a: n keeps its names, owner and mode; a directory's entries stay. */
static inline bool fixed(const struct rfs_node *n)
{
	return n->sealed || atomic_load_explicit(&n->iflags, memory_order_relaxed) &
				    (FS_IMMUTABLE_FL | FS_APPEND_FL);
}

/* May n's name in directory d go (unlink, rmdir, rename, be replaced)? */
static inline bool may_delete(const struct rfs_node *d, const struct rfs_node *n)
{
	return !fixed(d) && !fixed(n);
}

/*
 * The instant of the change this thread is making (ns_journal.c): every
 * time a change stamps is this one, so that its replay stamps the same.
 * 0 outside a change: then now.
 */
extern _Thread_local int64_t rfs_op_time;
static inline int64_t op_now(void)
{
	return rfs_op_time ? rfs_op_time : rfs_now_ns();
}
/* Begin a change (its instant is now, or the replayed record's); end it. */
void rfs_op_begin(void);
void rfs_op_end(void);

/* Record a change in ns's journal, if it has one (ns_journal.c); ns->lock
 * held exclusive, the change made. */
struct rfs_new;
void rfs_nsj_create(struct rfs_ns *ns, const struct rfs_node *dir, const char *name,
		    const struct rfs_new *what, const struct rfs_node *n);
void rfs_nsj_link(struct rfs_ns *ns, const struct rfs_node *n, const struct rfs_node *dir,
		  const char *name);
void rfs_nsj_remove(struct rfs_ns *ns, const struct rfs_node *dir, const char *name, bool is_dir);
void rfs_nsj_rename(struct rfs_ns *ns, const struct rfs_node *from_dir, const char *from,
		    const struct rfs_node *to_dir, const char *to, unsigned int flags,
		    struct rfs_cred cred, uint64_t whiteout);
void rfs_nsj_setattr(struct rfs_ns *ns, const struct rfs_node *n, unsigned int which,
		     const struct stat *st);
void rfs_nsj_setxattr(struct rfs_ns *ns, const struct rfs_node *n, const char *name,
		      const void *value, size_t size, int flags);
void rfs_nsj_removexattr(struct rfs_ns *ns, const struct rfs_node *n, const char *name);
void rfs_nsj_iflags(struct rfs_ns *ns, const struct rfs_node *n, unsigned int flags);
void rfs_nsj_lifetime(struct rfs_ns *ns, const struct rfs_node *dir, enum rfs_lifetime lifetime);
void rfs_nsj_closed(struct rfs_ns *ns, const struct rfs_node *dir, const char *name);
/* n goes: nothing names or holds it. */
void rfs_nsj_free(struct rfs_ns *ns, const struct rfs_node *n);
void rfs_nsj_kill_priv(struct rfs_ns *ns, const struct rfs_node *n);
/* dir's budget is size bytes now (0: none), its store numbered id. */
void rfs_nsj_budget(struct rfs_ns *ns, const struct rfs_node *dir, uint64_t size, uint64_t id);
/* rfs_ns_set_budget, a new budget's store numbered id (0: the next). */
int rfs_ns_set_budget_as(struct rfs_ns *ns, struct rfs_node *dir, uint64_t size, uint64_t id);

/* ns_dir.c; ns->lock held (exclusive to change). */
void rfs_dir_init(struct dir *d);
/* Free every entry and the table. */
void rfs_dir_destroy(struct dir *d);
size_t rfs_dir_count(const struct dir *d);
struct entry *rfs_dir_find(const struct dir *d, const char *name);
/* Append an entry for node called name (it becomes d->tail): 0 or -ENOMEM. */
int rfs_dir_insert(struct dir *d, const char *name, struct rfs_node *node);
void rfs_dir_erase(struct dir *d, struct entry *e);

/* ns_budget.c; ns->lock held. */
/* The store regions made in dir keep their bytes in: its nearest budget's, or the mount's. */
struct rfs_store *rfs_ns_store_locked(const struct rfs_ns *ns, const struct rfs_node *dir);
/* May node get a name in to? 0; -EXDEV if a region of it would change
 * stores; 1 if node is a budget that must be carved from to's store
 * (rfs_store_move) as it moves. */
int rfs_ns_budget_may_move(const struct rfs_ns *ns, const struct rfs_node *node,
			   const struct rfs_node *to);

/* ns_xattr.c; ns->lock held (exclusive to change). */
struct rfs_xattrs;
void rfs_xattrs_free(struct rfs_xattrs *x);
/* Free n's attributes, their bytes back to the pool. */
void rfs_ns_xattrs_release(struct rfs_ns *ns, struct rfs_node *n);
/* Does dir give new nodes an ACL? (Then no umask applies to them.) */
bool rfs_ns_has_default_acl(const struct rfs_node *dir);
/* A new node n in dir takes dir's default ACL: n's mode is limited by it, n
 * gets an access ACL unless the mode says it all, a directory also the
 * default ACL. 0, or -ENOMEM/-ENOSPC with n's attributes gone. */
int rfs_ns_acl_inherit(struct rfs_ns *ns, const struct rfs_node *dir, struct rfs_node *n);
/* n's mode changed (chmod): its access ACL, if any, follows. */
void rfs_ns_acl_chmod(struct rfs_node *n);

/* ns.c; ns->lock held exclusive. */
/* Take e's node out of directory d; the node loses a name, and may go. */
void rfs_ns_drop_entry(struct rfs_ns *ns, struct rfs_node *d, struct entry *e);
/* Mark directory d's entries changed now (mtime and ctime). Lock-free. */
void rfs_ns_stamp_dir(struct rfs_node *d);

#endif
