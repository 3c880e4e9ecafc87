/*
 * Checks of the command line made before anything is set up, in the order a
 * user reads it: options first, then the mountpoint. Each returns 0 or
 * -errno with a message in err; main exits 2 on any of them.
 */
#ifndef REGIONFS_CMDLINE_H
#define REGIONFS_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

struct fuse_args;

/* "regionfs X.Y.Z", then the libfuse in use, labelled. */
void rfs_print_version(void);

/* The options left for libfuse after regionfs's own: does libfuse know them? */
int rfs_check_fuse_args(const struct fuse_args *args, char *err, size_t errlen);

/*
 * Who may use the mount. Run as root, regionfs adds allow_other unless told
 * allow_other, allow_root or owner_only: the kernel checks modes
 * (default_permissions), so the mount is as open as tmpfs. Not root, it keeps
 * FUSE's rule and refuses allow_other and allow_root here, with the reason,
 * unless /etc/fuse.conf has user_allow_other.
 */
int rfs_access_args(struct fuse_args *args, bool owner_only, char *err, size_t errlen);

/* The mountpoint argument (NULL: none given), checked and made absolute. */
int rfs_mountpoint(const char *arg, char **path, char *err, size_t errlen);

#endif
