/*
 * Private to conf/: what the INI loader (config.c) shares with the key
 * grammar (decl.c). Not for fs/, which uses conf/config.h.
 */
#ifndef REGIONFS_CONFIG_I_H
#define REGIONFS_CONFIG_I_H

#include "conf/config.h"

/* ASCII only, so a config file does not change meaning with the locale. */
static inline bool rfs_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* snprintf into an optional error buffer (err may be NULL, errlen 0). */
__attribute__((format(printf, 3, 4))) void rfs_set_err(char *err, size_t errlen, const char *fmt,
						       ...);

/*
 * One key of [regionfs]: size, allowed_roots, xattr. allowed_roots appends
 * to the list, so that indented continuation lines extend it. Returns 0,
 * -ENOMEM, or -EINVAL with a reason in err.
 */
int rfs_global_set(struct rfs_config *cfg, const char *key, const char *value, char *err,
		   size_t errlen);

/* A user (group) named by name or number: its id, or -EINVAL with why in err. */
int rfs_owner_id(const char *s, bool group, uint32_t *out, char *err, size_t errlen);

#endif
