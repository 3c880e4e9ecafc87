/*
 * POSIX ACLs in the form the kernel hands a file system to keep
 * (system.posix_acl_access and system.posix_acl_default): a 4-byte
 * version (2), then 8-byte entries {tag, perm, id}, little-endian, sorted
 * by tag then id. With FUSE_POSIX_ACL the kernel enforces them; keeping
 * them is ours, and so are the rules that tie them to the mode: chmod
 * rewrites the ACL, setting an access ACL sets the mode, and a new node
 * takes its directory's default ACL. Pure functions, no state.
 */
#ifndef REGIONFS_ACL_H
#define REGIONFS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RFS_ACL_ACCESS	"system.posix_acl_access"
#define RFS_ACL_DEFAULT "system.posix_acl_default"

/* Is value a well-formed ACL: version 2, one owner, owning group and
 * other entry, named entries sorted without duplicates, and a mask
 * wherever there are named entries? 0 or -EINVAL. */
int rfs_acl_check(const void *value, size_t size);

/*
 * The mode's permission bits an access ACL implies: the owner's from its
 * owner entry, the group's from its mask (its owning group entry where it
 * has none), other's from its other entry; the rest of *mode is kept.
 * True if the ACL says no more than that mode (then no ACL need be kept).
 */
bool rfs_acl_to_mode(const void *value, size_t size, mode_t *mode);

/* chmod: rewrite an access ACL (checked) in place for the permission
 * bits of mode: its owner, mask (or owning group) and other entries. */
void rfs_acl_chmod(void *value, size_t size, mode_t mode);

/*
 * A new node under a directory with default ACL dflt (checked): its access
 * ACL, written to access (size bytes, as dflt), is dflt with each entry
 * limited by the permission bits of *mode, which are in turn limited by
 * the ACL (POSIX's create rules; no umask applies). True if that ACL says
 * no more than *mode (then none need be kept).
 */
bool rfs_acl_inherit(const void *dflt, size_t size, void *access, mode_t *mode);

#endif
