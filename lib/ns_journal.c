/*
 * The namespace's journal (see ns.h, Restart): a record of each change,
 * made under the exclusive lock once the change is done, and the replay
 * that makes the same changes again, in order, at the same instants.
 *
 * A replay calls the same functions the changes were made with, with what
 * they were given, so that every rule (umask, set-group-ID directories,
 * default ACLs, lifetimes, whiteouts) is applied once, by one piece of
 * code. What the records add is what a call decides by itself: the number
 * a node took, the store file a region took, the instant of the change.
 */
#include "lib/ns_i.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "lib/journal.h"
#include "lib/store.h"

enum record {
	J_CREATE = 1,  /* ino, dir, name, mode, uid, gid, target, rdev, lifetime, umask, file */
	J_LINK,	       /* ino, dir, name */
	J_REMOVE,      /* dir, name, is_dir */
	J_RENAME,      /* from_dir, from, to_dir, to, flags, uid, gid, whiteout */
	J_SETATTR,     /* ino, which, mode, uid, gid, size, atime, mtime, ctime */
	J_SETXATTR,    /* ino, name, value, flags */
	J_REMOVEXATTR, /* ino, name */
	J_IFLAGS,      /* ino, flags */
	J_LIFETIME,    /* dir, lifetime */
	J_CLOSED,      /* dir, name: a close region's last user went */
	J_KILL_PRIV,   /* ino */
	J_FREE,	       /* ino: nothing names or holds it any more */
	J_ROOT,	       /* mode, uid, gid, btime, atime, mtime, ctime: the root as made */
	J_SEAL,	       /* ino, seals: added to a region */
	J_BUDGET,      /* dir, size, id: its budget's store's number */
};

_Thread_local int64_t rfs_op_time;
static _Thread_local bool replaying; /* this thread replays: rfs_op_time is the record's */

void rfs_op_begin(void)
{
	if (!replaying)
		rfs_op_time = rfs_now_ns();
}

void rfs_op_end(void)
{
	if (!replaying)
		rfs_op_time = 0;
}

void rfs_ns_pin_time(int64_t t)
{
	replaying = t != 0;
	rfs_op_time = t;
}

static struct rfs_rec *begin(struct rfs_ns *ns, enum record type);
static void end(struct rfs_ns *ns, struct rfs_rec *r);

/* The root, which the namespace made itself. ns->lock exclusive. */
static void record_root(struct rfs_ns *ns)
{
	struct rfs_node *root = ns->root;
	struct rfs_rec *r = begin(ns, J_ROOT);

	if (!r)
		return;
	rfs_rec_put_u64(r, root->mode);
	rfs_rec_put_u64(r, root->uid);
	rfs_rec_put_u64(r, root->gid);
	rfs_rec_put_u64(r, (uint64_t)root->btime);
	rfs_rec_put_u64(r, (uint64_t)atomic_load(&root->atime));
	rfs_rec_put_u64(r, (uint64_t)atomic_load(&root->mtime));
	rfs_rec_put_u64(r, (uint64_t)atomic_load(&root->ctime));
	end(ns, r);
}

void rfs_ns_set_journal(struct rfs_ns *ns, struct rfs_journal *j)
{
	pthread_rwlock_wrlock(&ns->lock);
	ns->journal = j;
	ns->journal_err = 0;
	if (j && !rfs_journal_records(j))
		record_root(ns);
	pthread_rwlock_unlock(&ns->lock);
}

/* J_ROOT: the root is as the first process made it (its mode and owner
 * changed since are in later records). */
static int replay_root(struct rfs_ns *ns, struct rfs_rec *r)
{
	struct rfs_node *root = ns->root;
	mode_t mode = (mode_t)rfs_rec_get_u64(r);
	uid_t uid = (uid_t)rfs_rec_get_u64(r);
	gid_t gid = (gid_t)rfs_rec_get_u64(r);
	int64_t t[4];

	for (int i = 0; i < 4; i++)
		t[i] = (int64_t)rfs_rec_get_u64(r);
	if (r->bad || !S_ISDIR(mode))
		return -EPROTO;
	pthread_rwlock_wrlock(&ns->lock);
	root->mode = mode;
	root->uid = uid;
	root->gid = gid;
	root->btime = t[0];
	atomic_store(&root->atime, t[1]);
	atomic_store(&root->mtime, t[2]);
	atomic_store(&root->ctime, t[3]);
	pthread_rwlock_unlock(&ns->lock);
	return 0;
}

const char *rfs_ns_replay_failed(struct rfs_ns *ns)
{
	return ns->replay_failed;
}

int rfs_ns_journal_error(struct rfs_ns *ns)
{
	int err;

	pthread_rwlock_rdlock(&ns->lock);
	err = ns->journal_err;
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

/* A record of type to fill, or NULL when nothing is recorded. */
static struct rfs_rec *begin(struct rfs_ns *ns, enum record type)
{
	struct rfs_rec *r;

	if (!ns->journal || ns->replaying || ns->journal_err)
		return NULL;
	r = malloc(sizeof(*r));
	if (!r) {
		ns->journal_err = -ENOMEM;
		rfs_journal_break(ns->journal, "out of memory for a record");
		return NULL;
	}
	rfs_rec_init(r, (uint16_t)type, op_now());
	/* A node freed by a change is recorded before the change's own
	 * record: were it the request's, a process killed between the two
	 * would have a resend think the change made. */
	if (type == J_FREE)
		r->unique = 0;
	return r;
}

static void end(struct rfs_ns *ns, struct rfs_rec *r)
{
	int err = rfs_journal_append(ns->journal, r);

	if (err) {
		ns->journal_err = err;
		rfs_journal_break(ns->journal, err == -ENOSPC ? "the journal is full"
							      : "a record could not be written");
	}
	free(r);
}

void rfs_nsj_create(struct rfs_ns *ns, const struct rfs_node *dir, const char *name,
		    const struct rfs_new *what, const struct rfs_node *n)
{
	struct rfs_rec *r = begin(ns, J_CREATE);

	if (!r)
		return;
	rfs_rec_put_u64(r, n->ino);
	rfs_rec_put_u64(r, dir->ino);
	rfs_rec_put_str(r, name);
	rfs_rec_put_u64(r, what->mode);
	rfs_rec_put_u64(r, what->cred.uid);
	rfs_rec_put_u64(r, what->cred.gid);
	rfs_rec_put_str(r, S_ISLNK(what->mode) ? what->target : NULL);
	rfs_rec_put_u64(r, what->rdev);
	rfs_rec_put_u64(r, (uint64_t)what->lifetime);
	rfs_rec_put_u64(r, what->umask);
	/* A region's file, or a cow view's shadow file (its private pages),
	 * which the caller's remake adopts: the rest of a view is the
	 * caller's to make again from its recipe. */
	rfs_rec_put_u64(r, S_ISREG(n->mode) ? rfs_mapping_file(n->map) : 0);
	rfs_rec_put_u64(r, S_ISREG(n->mode) && rfs_mapping_kind(n->map) != RFS_KIND_REGION);
	rfs_rec_put_bytes(r, what->recipe, what->recipe_len);
	end(ns, r);
	/* A view's mapping is made by the driver from its declaration: a
	 * replay needs it. */
	if (S_ISREG(n->mode) && rfs_mapping_kind(n->map) != RFS_KIND_REGION && !what->recipe)
		rfs_journal_break(ns->journal, "a view was made while mounted");
}

void rfs_nsj_link(struct rfs_ns *ns, const struct rfs_node *n, const struct rfs_node *dir,
		  const char *name)
{
	struct rfs_rec *r = begin(ns, J_LINK);

	if (!r)
		return;
	rfs_rec_put_u64(r, n->ino);
	rfs_rec_put_u64(r, dir->ino);
	rfs_rec_put_str(r, name);
	end(ns, r);
}

void rfs_nsj_remove(struct rfs_ns *ns, const struct rfs_node *dir, const char *name,
		    bool dir_wanted)
{
	struct rfs_rec *r = begin(ns, J_REMOVE);

	if (!r)
		return;
	rfs_rec_put_u64(r, dir->ino);
	rfs_rec_put_str(r, name);
	rfs_rec_put_u64(r, dir_wanted);
	end(ns, r);
}

void rfs_nsj_rename(struct rfs_ns *ns, const struct rfs_node *from_dir, const char *from,
		    const struct rfs_node *to_dir, const char *to, unsigned int flags,
		    struct rfs_cred cred, uint64_t whiteout)
{
	struct rfs_rec *r = begin(ns, J_RENAME);

	if (!r)
		return;
	rfs_rec_put_u64(r, from_dir->ino);
	rfs_rec_put_str(r, from);
	rfs_rec_put_u64(r, to_dir->ino);
	rfs_rec_put_str(r, to);
	rfs_rec_put_u64(r, flags);
	rfs_rec_put_u64(r, cred.uid);
	rfs_rec_put_u64(r, cred.gid);
	rfs_rec_put_u64(r, whiteout);
	end(ns, r);
}

void rfs_nsj_setattr(struct rfs_ns *ns, const struct rfs_node *n, unsigned int which,
		     const struct stat *st)
{
	struct rfs_rec *r = begin(ns, J_SETATTR);

	if (!r)
		return;
	rfs_rec_put_u64(r, n->ino);
	rfs_rec_put_u64(r, which);
	rfs_rec_put_u64(r, st->st_mode);
	rfs_rec_put_u64(r, st->st_uid);
	rfs_rec_put_u64(r, st->st_gid);
	rfs_rec_put_u64(r, (uint64_t)st->st_size);
	rfs_rec_put_u64(r, (uint64_t)rfs_ts_to_ns(st->st_atim));
	rfs_rec_put_u64(r, (uint64_t)rfs_ts_to_ns(st->st_mtim));
	rfs_rec_put_u64(r, (uint64_t)rfs_ts_to_ns(st->st_ctim));
	end(ns, r);
}

void rfs_nsj_setxattr(struct rfs_ns *ns, const struct rfs_node *n, const char *name,
		      const void *value, size_t size, int flags)
{
	struct rfs_rec *r = begin(ns, J_SETXATTR);

	if (!r)
		return;
	rfs_rec_put_u64(r, n->ino);
	rfs_rec_put_str(r, name);
	rfs_rec_put_bytes(r, value, size);
	rfs_rec_put_u64(r, (uint64_t)flags);
	end(ns, r);
}

/* A record of one node number: J_REMOVEXATTR adds the name. */
static void node_record(struct rfs_ns *ns, enum record type, const struct rfs_node *n,
			const char *name, uint64_t v)
{
	struct rfs_rec *r = begin(ns, type);

	if (!r)
		return;
	rfs_rec_put_u64(r, n->ino);
	if (name)
		rfs_rec_put_str(r, name);
	else
		rfs_rec_put_u64(r, v);
	end(ns, r);
}

void rfs_nsj_removexattr(struct rfs_ns *ns, const struct rfs_node *n, const char *name)
{
	node_record(ns, J_REMOVEXATTR, n, name, 0);
}

void rfs_nsj_iflags(struct rfs_ns *ns, const struct rfs_node *n, unsigned int flags)
{
	node_record(ns, J_IFLAGS, n, NULL, flags);
}

void rfs_nsj_lifetime(struct rfs_ns *ns, const struct rfs_node *dir, enum rfs_lifetime lifetime)
{
	node_record(ns, J_LIFETIME, dir, NULL, (uint64_t)lifetime);
}

void rfs_nsj_kill_priv(struct rfs_ns *ns, const struct rfs_node *n)
{
	node_record(ns, J_KILL_PRIV, n, NULL, 0);
}

void rfs_nsj_free(struct rfs_ns *ns, const struct rfs_node *n)
{
	node_record(ns, J_FREE, n, NULL, 0);
}

void rfs_ns_record_seal(struct rfs_ns *ns, struct rfs_node *n, unsigned int seals)
{
	pthread_rwlock_wrlock(&ns->lock);
	node_record(ns, J_SEAL, n, NULL, seals);
	pthread_rwlock_unlock(&ns->lock);
}

void rfs_nsj_budget(struct rfs_ns *ns, const struct rfs_node *dir, uint64_t size, uint64_t id)
{
	struct rfs_rec *r = begin(ns, J_BUDGET);

	if (!r)
		return;
	rfs_rec_put_u64(r, dir->ino);
	rfs_rec_put_u64(r, size);
	rfs_rec_put_u64(r, id);
	end(ns, r);
}

void rfs_nsj_closed(struct rfs_ns *ns, const struct rfs_node *dir, const char *name)
{
	node_record(ns, J_CLOSED, dir, name, 0);
}

/* The replay. */

/*
 * A region freed before the end of the journal has no file any more: the
 * replay makes it an empty one, numbered past every file a record names,
 * and removes it when it frees the node again. The first pass finds them.
 */
struct replay {
	struct rfs_ns *ns;
	int err;
	rfs_remake_fn remake; /* makes a view's mapping from its recipe */
	void *ctx;
	uint64_t at;	 /* records applied */
	uint64_t *freed; /* inos of J_FREE records, in increasing order */
	size_t nfreed, room;
	uint64_t last_file; /* the highest file a record names */
};

/* A J_CREATE record's fields. */
struct create {
	uint64_t ino, dir, file, view;
	const char *name; /* NULL: O_TMPFILE */
	struct rfs_new what;
};

static int read_create(struct rfs_rec *r, struct create *c)
{
	memset(c, 0, sizeof(*c));
	c->ino = rfs_rec_get_u64(r);
	c->dir = rfs_rec_get_u64(r);
	c->name = rfs_rec_get_str(r);
	c->what.mode = (mode_t)rfs_rec_get_u64(r);
	c->what.cred.uid = (uid_t)rfs_rec_get_u64(r);
	c->what.cred.gid = (gid_t)rfs_rec_get_u64(r);
	c->what.target = rfs_rec_get_str(r);
	c->what.rdev = (dev_t)rfs_rec_get_u64(r);
	c->what.lifetime = (enum rfs_lifetime)rfs_rec_get_u64(r);
	c->what.umask = (mode_t)rfs_rec_get_u64(r);
	c->file = rfs_rec_get_u64(r);
	c->view = rfs_rec_get_u64(r);
	c->what.recipe = rfs_rec_get_bytes(r, &c->what.recipe_len);
	if (r->bad || c->ino < RFS_NS_FIRST_INO || (S_ISREG(c->what.mode) && !c->file && !c->view))
		return -EPROTO;
	return 0;
}

static int scan_one(void *ctx, struct rfs_rec *r)
{
	struct replay *rp = ctx;
	uint64_t v = rfs_rec_get_u64(r), *grown;

	if (r->type == J_FREE) {
		if (rp->nfreed == rp->room) {
			rp->room = rp->room ? 2 * rp->room : 1024;
			grown = realloc(rp->freed, rp->room * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			rp->freed = grown;
		}
		/* in journal order, which is no order of numbers: sorted below */
		rp->freed[rp->nfreed++] = v;
	} else if (r->type == J_CREATE) {
		struct create c;

		r->pos = 0;
		if (!read_create(r, &c) && c.file > rp->last_file)
			rp->last_file = c.file;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool freed_later(const struct replay *rp, uint64_t ino)
{
	return rp->nfreed && bsearch(&ino, rp->freed, rp->nfreed, sizeof(ino), cmp_u64);
}

/* The node a record names, or NULL (r marked bad). */
static struct rfs_node *node_of(struct rfs_ns *ns, struct rfs_rec *r)
{
	uint64_t ino = rfs_rec_get_u64(r);
	struct rfs_node *n = r->bad ? NULL : rfs_ns_node(ns, ino);

	if (!n)
		r->bad = true;
	return n;
}

static int replay_create(struct replay *rp, struct rfs_rec *r)
{
	struct rfs_ns *ns = rp->ns;
	struct rfs_node *dir, *n;
	struct create c;
	int err = read_create(r, &c);

	if (err)
		return err;
	dir = rfs_ns_node(ns, c.dir);
	if (!dir)
		return -EPROTO;
	if (c.view && (!c.what.recipe_len || !rp->remake))
		return -EOPNOTSUPP;
	/* Freed later: its file is gone, a new one stands in until the free. */
	if (freed_later(rp, c.ino))
		c.file = 0;
	/* The view's own error (its backing file went): not the journal's. */
	if (c.view &&
	    (err = rp->remake(rp->ctx, c.what.recipe, c.what.recipe_len, c.file, &c.what.map)))
		return rp->err = err;
	ns->replay_ino = c.ino;
	ns->replay_file = c.view ? 0 : c.file;
	err = rfs_ns_create(ns, dir, c.name, &c.what, &n);
	ns->replay_ino = ns->replay_file = 0;
	if (err && c.what.map)
		rfs_mapping_free(c.what.map);
	if (!err && n->ino != c.ino)
		return -EPROTO;
	if (!err)
		n->replayed = true; /* its reference is the replay's (rfs_ns_replay_release) */
	return err;
}

/* The budget's store takes the instance its number kept (store.h). */
static int replay_budget(struct rfs_ns *ns, struct rfs_rec *r)
{
	struct rfs_node *dir = node_of(ns, r);
	uint64_t size = rfs_rec_get_u64(r), id = rfs_rec_get_u64(r);

	return r->bad ? -EPROTO : rfs_ns_set_budget_as(ns, dir, size, id);
}

static int replay_rename(struct rfs_ns *ns, struct rfs_rec *r)
{
	struct rfs_node *from_dir = node_of(ns, r), *to_dir, *w;
	const char *from = rfs_rec_get_str(r), *to;
	unsigned int flags;
	struct rfs_cred cred;
	uint64_t whiteout;
	int err;

	to_dir = node_of(ns, r);
	to = rfs_rec_get_str(r);
	flags = (unsigned int)rfs_rec_get_u64(r);
	cred.uid = (uid_t)rfs_rec_get_u64(r);
	cred.gid = (gid_t)rfs_rec_get_u64(r);
	whiteout = rfs_rec_get_u64(r);
	if (r->bad || !from || !to || (!whiteout != !(flags & RFS_RENAME_WHITEOUT)))
		return -EPROTO;
	ns->replay_ino = whiteout;
	err = rfs_ns_rename_as(ns, from_dir, from, to_dir, to, flags, cred);
	ns->replay_ino = 0;
	/* The whiteout, too, is held by the replay until it goes. */
	if (!err && whiteout && !(err = rfs_ns_find(ns, whiteout, &w)))
		w->replayed = true;
	return err;
}

static int replay_setattr(struct rfs_ns *ns, struct rfs_rec *r)
{
	struct rfs_node *n = node_of(ns, r);
	unsigned int which = (unsigned int)rfs_rec_get_u64(r);
	struct stat st = {0};

	st.st_mode = (mode_t)rfs_rec_get_u64(r);
	st.st_uid = (uid_t)rfs_rec_get_u64(r);
	st.st_gid = (gid_t)rfs_rec_get_u64(r);
	st.st_size = (off_t)rfs_rec_get_u64(r);
	st.st_atim = rfs_ns_to_ts((int64_t)rfs_rec_get_u64(r));
	st.st_mtim = rfs_ns_to_ts((int64_t)rfs_rec_get_u64(r));
	st.st_ctim = rfs_ns_to_ts((int64_t)rfs_rec_get_u64(r));
	if (r->bad)
		return -EPROTO;
	/* No budgets by owner during a replay: chown is not checked twice. */
	return rfs_ns_setattr(ns, n, which, &st);
}

/* J_CLOSED: the name a close region's last user took away. */
static int replay_closed(struct rfs_ns *ns, struct rfs_rec *r)
{
	struct rfs_node *dir = node_of(ns, r);
	const char *name = rfs_rec_get_str(r);
	struct entry *e;
	int err = -EPROTO;

	if (r->bad || !name || !is_dir(dir))
		return -EPROTO;
	pthread_rwlock_wrlock(&ns->lock);
	e = rfs_dir_find(&dir->dir, name);
	if (e) {
		rfs_ns_drop_entry(ns, dir, e);
		rfs_ns_stamp_dir(dir);
		err = 0;
	}
	pthread_rwlock_unlock(&ns->lock);
	return err;
}

static int apply(struct replay *rp, struct rfs_rec *r)
{
	struct rfs_ns *ns = rp->ns;
	struct rfs_node *n, *dir;
	const char *name;
	const void *value;
	size_t size;
	uint64_t v;

	switch ((enum record)r->type) {
	case J_ROOT:
		return replay_root(ns, r);
	case J_SEAL:
		n = node_of(ns, r);
		v = rfs_rec_get_u64(r);
		if (r->bad || !S_ISREG(n->mode) || !n->map)
			return -EPROTO;
		return rfs_mapping_seal(n->map, (unsigned int)v) ? -EPROTO : 0;
	case J_CREATE:
		return replay_create(rp, r);
	case J_BUDGET:
		return replay_budget(ns, r);
	case J_LINK:
		n = node_of(ns, r);
		dir = node_of(ns, r);
		name = rfs_rec_get_str(r);
		if (r->bad || !name)
			return -EPROTO;
		if (rfs_ns_link(ns, n, dir, name))
			return -EPROTO;
		rfs_ns_forget(ns, n, 1); /* link's reference: the replay holds one already */
		return 0;
	case J_REMOVE:
		dir = node_of(ns, r);
		name = rfs_rec_get_str(r);
		v = rfs_rec_get_u64(r);
		return r->bad || !name ? -EPROTO : rfs_ns_remove(ns, dir, name, v);
	case J_RENAME:
		return replay_rename(ns, r);
	case J_SETATTR:
		return replay_setattr(ns, r);
	case J_SETXATTR:
		n = node_of(ns, r);
		name = rfs_rec_get_str(r);
		value = rfs_rec_get_bytes(r, &size);
		v = rfs_rec_get_u64(r);
		return r->bad || !name ? -EPROTO
				       : rfs_ns_setxattr(ns, n, name, value, size, (int)v);
	case J_REMOVEXATTR:
		n = node_of(ns, r);
		name = rfs_rec_get_str(r);
		return r->bad || !name ? -EPROTO : rfs_ns_removexattr(ns, n, name);
	case J_IFLAGS:
		n = node_of(ns, r);
		v = rfs_rec_get_u64(r);
		return r->bad ? -EPROTO : rfs_ns_set_iflags(ns, n, (unsigned int)v);
	case J_LIFETIME:
		n = node_of(ns, r);
		v = rfs_rec_get_u64(r);
		return r->bad ? -EPROTO : rfs_ns_set_lifetime(ns, n, (enum rfs_lifetime)v);
	case J_CLOSED:
		return replay_closed(ns, r);
	case J_KILL_PRIV:
		n = node_of(ns, r);
		if (r->bad)
			return -EPROTO;
		rfs_ns_kill_priv(ns, n);
		return 0;
	case J_FREE:
		/* The replay's reference, the last. A node freed by a change
		 * (the name a rename replaced) is recorded before the change,
		 * which then frees it again. One the replay did not make (made
		 * before the journal began) went when it lost its last name. */
		v = rfs_rec_get_u64(r);
		n = r->bad ? NULL : rfs_ns_node(ns, v);
		if (r->bad)
			return -EPROTO;
		if (n && n->replayed) {
			n->replayed = false;
			rfs_ns_forget(ns, n, 1);
		}
		return 0;
	}
	return -EPROTO;
}

static int replay_one(void *ctx, struct rfs_rec *r)
{
	struct replay *rp = ctx;
	int err;

	if (r->type >= RFS_NS_JOURNAL_DRIVER)
		return 0; /* the driver's own record */
	rfs_op_time = r->time;
	err = apply(rp, r);
	/* A change that was made once applies again: any error is a journal
	 * that does not describe this namespace. */
	if (err && !rp->err) {
		rp->err = err == -EOPNOTSUPP ? err : -EPROTO;
		snprintf(rp->ns->replay_failed, sizeof(rp->ns->replay_failed),
			 "record %llu of type %u (%s)", (unsigned long long)rp->at + 1, r->type,
			 strerror(-err));
	}
	rp->at++;
	return rp->err;
}

/*
 * Nodes made before the journal began (the state a restarted process was
 * forked with) are held by the replay too: one removed while its user held
 * it, and changed after, must live until its J_FREE, as in the process that
 * wrote it.
 */
static void hold_all(struct rfs_ns *ns)
{
	pthread_rwlock_wrlock(&ns->lock);
	for (struct rfs_node *n = ns->all.all_next; n != &ns->all; n = n->all_next)
		if (n != ns->root && !n->sealed && !n->replayed) {
			atomic_fetch_add(&n->refs, 1);
			n->replayed = true;
		}
	pthread_rwlock_unlock(&ns->lock);
}

int rfs_ns_replay(struct rfs_ns *ns, struct rfs_journal *j, rfs_remake_fn remake, void *ctx)
{
	struct replay rp = {.ns = ns, .remake = remake, .ctx = ctx};
	int err;

	err = rfs_journal_replay(j, scan_one, &rp);
	if (err) {
		free(rp.freed);
		return err;
	}
	if (rp.nfreed)
		qsort(rp.freed, rp.nfreed, sizeof(*rp.freed), cmp_u64);
	rfs_store_skip_ids(ns->store, rp.last_file);
	hold_all(ns);
	ns->replaying = true;
	replaying = true;
	rfs_store_replay(ns->store, true);
	err = rfs_journal_replay(j, replay_one, &rp);
	replaying = false;
	rfs_op_time = 0;
	ns->replaying = false;
	free(rp.freed);
	if (rfs_store_replay(ns->store, false) && !err && !rp.err) {
		/* Each size fit once, as made: this journal is not theirs. */
		snprintf(ns->replay_failed, sizeof(ns->replay_failed),
			 "a budget's instance refused the size replayed");
		return -EPROTO;
	}
	return err < 0 ? err : rp.err;
}

struct names {
	uint64_t skip; /* records before the last n */
	rfs_name_fn fn;
	void *ctx;
};

static int name_of(void *ctx, struct rfs_rec *r)
{
	struct names *w = ctx;
	uint64_t dir, to_dir;
	const char *name, *to;

	if (w->skip) {
		w->skip--;
		return 0;
	}
	switch (r->type) {
	case J_CREATE:
	case J_LINK:
	case J_REMOVE:
	case J_CLOSED:
		if (r->type == J_CREATE || r->type == J_LINK)
			(void)rfs_rec_get_u64(r); /* the node, before the directory */
		dir = rfs_rec_get_u64(r);
		name = rfs_rec_get_str(r);
		if (!r->bad && name)
			w->fn(w->ctx, dir, name);
		break;
	case J_RENAME:
		dir = rfs_rec_get_u64(r);
		name = rfs_rec_get_str(r);
		to_dir = rfs_rec_get_u64(r);
		to = rfs_rec_get_str(r);
		if (!r->bad && name && to) {
			w->fn(w->ctx, dir, name);
			w->fn(w->ctx, to_dir, to);
		}
		break;
	default:
		break;
	}
	return 0;
}

int rfs_ns_journal_names(struct rfs_journal *j, uint64_t n, rfs_name_fn fn, void *ctx)
{
	uint64_t count = rfs_journal_records(j);
	struct names w = {.skip = count > n ? count - n : 0, .fn = fn, .ctx = ctx};

	return rfs_journal_replay(j, name_of, &w);
}

void rfs_ns_replay_release(struct rfs_ns *ns)
{
	struct rfs_node **held = NULL, *n;
	size_t count = 0, i = 0;

	pthread_rwlock_wrlock(&ns->lock);
	for (n = ns->all.all_next; n != &ns->all; n = n->all_next)
		count += n->replayed;
	held = count ? malloc(count * sizeof(*held)) : NULL;
	for (n = ns->all.all_next; held && n != &ns->all; n = n->all_next)
		if (n->replayed) {
			n->replayed = false;
			held[i++] = n;
		}
	pthread_rwlock_unlock(&ns->lock);
	/* Without the memory for the list, the replay's references stay: the
	 * nodes outlive their last user, nothing is lost. */
	for (i = 0; held && i < count; i++)
		rfs_ns_forget(ns, held[i], 1);
	free(held);
}
