/* Open handles (handles.h): fi->fh is a slot's handle. */
#include "fs/handles.h"

#include <errno.h>

#include "lib/journal.h"
#include "lib/slots.h"

#define RESEND (1ULL << 63) /* FUSE_UNIQUE_RESEND */

int rfs_handles_new(struct rfs_daemon *d)
{
	return rfs_slots_new(sizeof(struct rfs_handle), RFS_HANDLES_MAX, &d->handles);
}

int rfs_handles_open(struct rfs_daemon *d, int fd)
{
	return rfs_slots_open(fd, sizeof(struct rfs_handle), &d->handles);
}

void rfs_handles_free(struct rfs_daemon *d)
{
	rfs_slots_free(d->handles);
	d->handles = NULL;
}

int rfs_handle_add(struct rfs_daemon *d, const struct rfs_handle *h, void *mine,
		   struct fuse_file_info *fi)
{
	struct rfs_handle rec = *h;
	uint64_t fh;
	int err;

	rec.unique = rfs_journal_unique() & ~RESEND;
	err = rfs_slots_add(d->handles, &rec, mine, &fh);

	if (err)
		return err == -ENOSPC ? -ENFILE : err;
	fi->fh = fh;
	return 0;
}

int rfs_handle_add_kind(struct rfs_daemon *d, enum rfs_handle_kind kind, uint64_t ino, void *mine,
			struct fuse_file_info *fi)
{
	struct rfs_handle h = {.ino = ino, .kind = kind, .backing = -1};

	return rfs_handle_add(d, &h, mine, fi);
}

void *rfs_handle_get(struct rfs_daemon *d, const struct fuse_file_info *fi,
		     enum rfs_handle_kind kind)
{
	void *mine;
	const struct rfs_handle *h = fi ? rfs_slots_get(d->handles, fi->fh, &mine) : NULL;

	return h && h->kind == kind ? mine : NULL;
}

void rfs_handle_remove(struct rfs_daemon *d, const struct fuse_file_info *fi)
{
	rfs_slots_remove(d->handles, fi->fh);
}

struct adopt {
	struct rfs_daemon *d;
	rfs_handle_fn fn;
};

static int adopt_one(void *ctx, uint64_t fh, void *rec)
{
	struct adopt *a = ctx;
	void *mine = a->fn(a->d, fh, rec);

	if (mine)
		rfs_slots_set_mine(a->d->handles, fh, mine);
	else
		rfs_slots_remove(a->d->handles, fh);
	return 0;
}

int rfs_handles_adopt(struct rfs_daemon *d, rfs_handle_fn fn)
{
	struct adopt a = {.d = d, .fn = fn};
	int err = rfs_slots_rescan(d->handles);

	return err ? err : rfs_slots_each(d->handles, adopt_one, &a);
}

struct made_by {
	uint64_t unique, fh;
};

static int match_unique(void *ctx, uint64_t fh, void *rec)
{
	struct made_by *m = ctx;
	const struct rfs_handle *h = rec;

	if (h->unique != m->unique)
		return 0;
	m->fh = fh;
	return 1;
}

uint64_t rfs_handle_made_by(struct rfs_daemon *d, uint64_t unique)
{
	struct made_by m = {.unique = unique & ~RESEND};

	if (m.unique)
		rfs_slots_each(d->handles, match_unique, &m);
	return m.fh;
}
