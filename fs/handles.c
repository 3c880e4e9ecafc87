/* Open handles (handles.h): fi->fh is a slot's handle. */
#include "fs/handles.h"

#include <errno.h>

#include "lib/slots.h"

/* What a slot keeps of an open. */
struct handle {
	uint64_t ino;
	uint32_t kind; /* enum rfs_handle_kind */
	uint32_t zero;
};

int rfs_handles_new(struct rfs_daemon *d)
{
	return rfs_slots_new(sizeof(struct handle), RFS_HANDLES_MAX, &d->handles);
}

void rfs_handles_free(struct rfs_daemon *d)
{
	rfs_slots_free(d->handles);
	d->handles = NULL;
}

int rfs_handle_add(struct rfs_daemon *d, enum rfs_handle_kind kind, uint64_t ino, void *mine,
		   struct fuse_file_info *fi)
{
	struct handle h = {.ino = ino, .kind = kind};
	uint64_t fh;
	int err = rfs_slots_add(d->handles, &h, mine, &fh);

	if (err)
		return err == -ENOSPC ? -ENFILE : err;
	fi->fh = fh;
	return 0;
}

void *rfs_handle_get(struct rfs_daemon *d, const struct fuse_file_info *fi,
		     enum rfs_handle_kind kind)
{
	void *mine;
	const struct handle *h = fi ? rfs_slots_get(d->handles, fi->fh, &mine) : NULL;

	return h && h->kind == kind ? mine : NULL;
}

void rfs_handle_remove(struct rfs_daemon *d, const struct fuse_file_info *fi)
{
	rfs_slots_remove(d->handles, fi->fh);
}
