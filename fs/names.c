/* lib/'s enums in the control plane's words, conf/'s in lib/'s (names.h). */
#include "fs/names.h"

const char *rfs_kind_name(enum rfs_kind kind)
{
	return kind == RFS_KIND_VIEW ? "view" : "region";
}

const char *rfs_access_name(const struct rfs_mapping_info *i)
{
	if (i->kind == RFS_KIND_REGION)
		return "rw";
	return i->access == RFS_VIEW_RO ? "ro" : i->access == RFS_VIEW_COW ? "cow" : "rw";
}

const char *rfs_lifetime_name(const struct rfs_node *node)
{
	return rfs_node_lifetime(node) == RFS_LIFETIME_CLOSE ? "close" : "persist";
}

enum rfs_lifetime rfs_lifetime_of(enum rfs_life life)
{
	return life == RFS_LIFE_CLOSE	  ? RFS_LIFETIME_CLOSE
	       : life == RFS_LIFE_PERSIST ? RFS_LIFETIME_PERSIST
					  : RFS_LIFETIME_INHERIT;
}

enum rfs_view_access rfs_view_access_of(enum rfs_access access)
{
	return access == RFS_ACCESS_RO	  ? RFS_VIEW_RO
	       : access == RFS_ACCESS_COW ? RFS_VIEW_COW
					  : RFS_VIEW_RW;
}
