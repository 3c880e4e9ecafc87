/*
 * The options a mount(8) command or an /etc/fstab line carries beside
 * regionfs's own: what libfuse 3.14 would refuse as unknown, taken out of
 * the arguments here and honoured by regionfs.
 *
 *   remount                 change the flags of the mounted namespace and exit
 *                           (mount -o remount,ro DIR): no second daemon
 *   relatime, strictatime,  the atime mode, last one wins; libfuse knows only
 *   noatime, atime, ...,    noatime (passed on once), the others are set on
 *   nodiratime, diratime    the mount once it is made
 *   defaults, auto, noauto, mount(8)'s and systemd's own (fstab's columns,
 *   user, users, nouser,    _netdev ordering, x-systemd.* units, comments):
 *   _netdev, nofail,        nothing to do once mount(8) runs regionfs
 *   x-*, comment=
 *
 * ro, rw, nosuid, nodev, noexec, sync, dirsync stay in the arguments:
 * libfuse passes them to the kernel itself.
 */
#ifndef REGIONFS_MOUNT_OPTS_H
#define REGIONFS_MOUNT_OPTS_H

#include <stdbool.h>
#include <stddef.h>

struct fuse_args;

/* The atime mode asked for (unset: the kernel's default, relatime). */
enum rfs_atime { RFS_ATIME_UNSET, RFS_ATIME_NO, RFS_ATIME_RELATIVE, RFS_ATIME_STRICT };

struct rfs_mount_opts {
	bool remount;	      /* -o remount: act on the mounted namespace */
	bool fsname;	      /* -o fsname= given: it names the mount, not SOURCE */
	enum rfs_atime atime; /* the last of noatime, relatime, strictatime, ... */
	int nodiratime;	      /* 1: nodiratime, -1: diratime, 0: not given */
	unsigned long set;    /* MS_* flags the kernel flag options turn on */
	unsigned long clear;  /* MS_* flags they turn off */
	char *kept;	      /* the other options, comma-joined: a remount keeps them as mounted */
};

/*
 * Take the options above out of args (the kernel's flag options stay for
 * libfuse, and are also noted for a remount). Runs before any other option
 * parser, so kept sees regionfs's own options too. 0 or -errno with a message.
 */
int rfs_mount_opts_take(struct fuse_args *args, struct rfs_mount_opts *mo, char *err,
			size_t errlen);

/* Name the mount: -o fsname= if given, else source (NULL: "regionfs"). */
int rfs_mount_opts_fsname(struct fuse_args *args, const struct rfs_mount_opts *mo,
			  const char *source);

/* Set the atime flags libfuse cannot on the fresh mount at mountpoint; 0 or -errno with a message.
 */
int rfs_mount_opts_apply(const struct rfs_mount_opts *mo, const char *mountpoint, char *err,
			 size_t errlen);

/*
 * -o remount: mountpoint must be a mounted regionfs; its flags become
 * its current ones changed by the options given, as mount(8) does for
 * other file systems. The caller deals with mo->kept (options that shape
 * the namespace or the session: mount(8) repeats an fstab line's).
 */
int rfs_remount(const struct rfs_mount_opts *mo, const char *mountpoint, char *err, size_t errlen);

void rfs_mount_opts_free(struct rfs_mount_opts *mo);

#endif
