/* Resent requests (resend.h). */
#include "fs/resend.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <string.h>
#include <unistd.h>

#include "fs/handles.h"
#include "fs/log.h"
#include "fs/ops_file.h"
#include "lib/journal.h"

/* The entry name a request of this opcode carries after its fixed part:
 * that part's size, or -1. */
static ssize_t name_offset(uint32_t opcode)
{
	switch (opcode) {
	case FUSE_MKDIR:
		return sizeof(struct fuse_mkdir_in);
	case FUSE_MKNOD:
		return sizeof(struct fuse_mknod_in);
	case FUSE_LINK:
		return sizeof(struct fuse_link_in);
	case FUSE_SYMLINK:
		return 0;
	default:
		return -1;
	}
}

/* Make the request a LOOKUP of the name it made in its directory. */
static bool as_lookup(struct fuse_in_header *ih, ssize_t *n)
{
	char *arg = (char *)(ih + 1);
	ssize_t off = name_offset(ih->opcode);
	size_t room = (size_t)*n - sizeof(*ih), len;

	if (off < 0 || (size_t)off >= room)
		return false;
	len = strnlen(arg + off, room - (size_t)off);
	if (len == room - (size_t)off)
		return false;
	memmove(arg, arg + off, len + 1);
	ih->opcode = FUSE_LOOKUP;
	ih->len = (uint32_t)(sizeof(*ih) + len + 1);
	*n = (ssize_t)ih->len;
	return true;
}

/* The open the dead process made for this request, whose reply was lost. */
/*
 * The open a resent open request made in the dead process, let go once
 * this thread has answered the request again (rfs_resent_replied): not
 * before, or a close region's last open would take its name away under
 * the opener. The thread that reads a request answers it.
 */
static _Thread_local struct {
	uint64_t unique, fh;
	bool dir;
} orphan;

void rfs_resent_replied(struct rfs_daemon *d, uint64_t unique)
{
	struct fuse_file_info fi = {.fh = orphan.fh};
	struct rfs_listing *l;

	if (!orphan.fh || unique != orphan.unique)
		return;
	orphan.fh = 0;
	if (orphan.dir) {
		l = rfs_handle_get(d, &fi, RFS_HANDLE_DIR);
		rfs_handle_remove(d, &fi);
		if (l)
			rfs_ns_listing_close(d->ns, l);
	} else {
		rfs_file_forsake(d, fi.fh);
	}
}

static void forsake_open(struct rfs_daemon *d, const struct fuse_in_header *ih)
{
	uint64_t fh = rfs_handle_made_by(d, ih->unique);

	if (fh) {
		orphan.unique = ih->unique;
		orphan.fh = fh;
		orphan.dir = ih->opcode == FUSE_OPENDIR;
	}
}

bool rfs_resent(struct rfs_daemon *d, int fd, void *buf, ssize_t *n)
{
	struct fuse_in_header *ih = buf;
	struct fuse_out_header done = {.len = sizeof(done), .unique = ih->unique};

	if (!d->journal || (size_t)*n < sizeof(*ih))
		return false;
	/* The journal is searched only for the changes it answers: reads and
	 * writes, most of what is resent, run as they come. */
	switch (ih->opcode) {
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		forsake_open(d, ih);
		return false;
	case FUSE_MKDIR:
	case FUSE_MKNOD:
	case FUSE_SYMLINK:
	case FUSE_LINK:
		if (rfs_journal_made_by(d->journal, ih->unique))
			as_lookup(ih, n);
		return false;
	case FUSE_CREATE:
		forsake_open(d, ih);
		if (rfs_journal_made_by(d->journal, ih->unique) &&
		    (size_t)*n >= sizeof(*ih) + sizeof(struct fuse_create_in))
			((struct fuse_create_in *)(ih + 1))->flags &= ~(uint32_t)O_EXCL;
		return false;
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
	case FUSE_SETXATTR:
	case FUSE_REMOVEXATTR:
		if (!rfs_journal_made_by(d->journal, ih->unique))
			return false;
		if (write(fd, &done, sizeof(done)) != (ssize_t)sizeof(done))
			rfs_log(RFS_LOG_WARN, "restart: a resent request's answer: %s",
				strerror(errno));
		return true;
	default:
		return false;
	}
}
