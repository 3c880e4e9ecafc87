/* lib/'s enums in the control plane's words, conf/'s in lib/'s (names.h). */
#include "fs/names.h"

#include <stdio.h>

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

/* conf/'s seal bits are lib/'s: declarations pass them as they are. */
#define SAME_BIT(a, b) ((unsigned int)(a) == (unsigned int)(b))
_Static_assert(SAME_BIT(RFS_DECL_SEAL_SHRINK, RFS_SEAL_SHRINK) &&
		       SAME_BIT(RFS_DECL_SEAL_GROW, RFS_SEAL_GROW) &&
		       SAME_BIT(RFS_DECL_SEAL_WRITE, RFS_SEAL_WRITE) &&
		       SAME_BIT(RFS_DECL_SEAL_FUTURE_WRITE, RFS_SEAL_FUTURE_WRITE) &&
		       SAME_BIT((1u << RFS_DECL_SEAL_COUNT) - 1, RFS_SEALS_ALL),
	       "seal bits differ between conf/ and lib/");

const char *rfs_seals_text(unsigned int seals, char buf[RFS_SEALS_TEXT])
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < RFS_DECL_SEAL_COUNT; i++)
		if (seals & (1u << i))
			len += (size_t)snprintf(buf + len, RFS_SEALS_TEXT - len, "%s%s",
						len ? "," : "", rfs_seal_word(i));
	return len ? buf : "-";
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
