/*
 * The grammar of one key: [regionfs] keys, and region and view declarations
 * as written in INI sections and in control-plane commands alike, plus the
 * whole-declaration checks. See conf/config.h.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config_i.h"

/* Offsets and sizes end up in off_t: larger values can never be mapped. */
#define RFS_OFF_MAX ((uint64_t)INT64_MAX)

void rfs_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int size_value(const char *key, const char *value, uint64_t max, uint64_t *out, char *err,
		      size_t errlen)
{
	uint64_t v;
	int ret = rfs_parse_size(value, &v);

	if (ret == -ERANGE || (!ret && v > max)) {
		rfs_set_err(err, errlen, "%s '%s' is too large", key, value);
		return -EINVAL;
	}
	if (ret) {
		rfs_set_err(err, errlen, "invalid %s '%s' (bytes, optional K/M/G/T suffix)", key,
			    value);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int bool_value(const char *key, const char *value, bool *out, char *err, size_t errlen)
{
	if (rfs_parse_bool(value, out)) {
		rfs_set_err(err, errlen, "invalid %s '%s' (yes/no, true/false, on/off, 1/0)", key,
			    value);
		return -EINVAL;
	}
	return 0;
}

static int lookup_id(const char *s, bool group, uint32_t *out, char *err, size_t errlen)
{
	const char *what = group ? "group" : "user";
	long hint = sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	size_t len = hint > 0 ? (size_t)hint : 1024;
	bool found = false;
	char *buf = NULL, *nbuf;
	int ret;

	/* The entry may not fit the hint (large groups): grow on ERANGE. */
	for (;;) {
		nbuf = realloc(buf, len);
		if (!nbuf) {
			ret = -ENOMEM;
			goto out_free;
		}
		buf = nbuf;
		if (group) {
			struct group gr, *res = NULL;

			ret = getgrnam_r(s, &gr, buf, len, &res);
			if (!ret && res) {
				*out = gr.gr_gid;
				found = true;
			}
		} else {
			struct passwd pw, *res = NULL;

			ret = getpwnam_r(s, &pw, buf, len, &res);
			if (!ret && res) {
				*out = pw.pw_uid;
				found = true;
			}
		}
		if (ret != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	if (found) {
		ret = 0;
	} else if (ret && ret != ENOENT && ret != ESRCH) {
		rfs_set_err(err, errlen, "cannot look up %s '%s': %s", what, s, strerror(ret));
		ret = -EINVAL;
	} else {
		rfs_set_err(err, errlen, "unknown %s '%s'", what, s);
		ret = -EINVAL;
	}
out_free:
	free(buf);
	return ret;
}

/* A decimal id, or a user/group name resolved through NSS. */
static int id_value(const char *s, bool group, uint32_t *out, char *err, size_t errlen)
{
	const char *what = group ? "group" : "user";
	uint64_t v = 0;
	const char *p;

	if (!*s) {
		rfs_set_err(err, errlen, "empty %s", what);
		return -EINVAL;
	}
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		/* (uid_t)-1 means "no change" to chown(), so it is no id. */
		if (v >= UINT32_MAX) {
			rfs_set_err(err, errlen, "%s id '%s' out of range", what, s);
			return -EINVAL;
		}
	}
	if (*p)
		return lookup_id(s, group, out, err, errlen);
	*out = (uint32_t)v;
	return 0;
}

/* Keys common to regions and views. Returns 1 if key is not one of them. */
static int owner_set(struct rfs_owner *o, const char *key, const char *value, char *err,
		     size_t errlen)
{
	uint32_t id;
	mode_t mode;
	int ret;

	if (!strcmp(key, "mode")) {
		if (rfs_parse_mode(value, &mode)) {
			rfs_set_err(err, errlen, "invalid mode '%s' (octal, at most 07777)", value);
			return -EINVAL;
		}
		o->mode = mode;
		o->has_mode = true;
		return 0;
	}
	if (!strcmp(key, "uid") || !strcmp(key, "gid")) {
		ret = id_value(value, key[0] == 'g', &id, err, errlen);
		if (ret)
			return ret;
		if (key[0] == 'g') {
			o->gid = id;
			o->has_gid = true;
		} else {
			o->uid = id;
			o->has_uid = true;
		}
		return 0;
	}
	return 1;
}

static int lifetime_value(const char *value, enum rfs_life *out, char *err, size_t errlen)
{
	if (!strcmp(value, "persist")) {
		*out = RFS_LIFE_PERSIST;
	} else if (!strcmp(value, "close")) {
		*out = RFS_LIFE_CLOSE;
	} else {
		rfs_set_err(err, errlen, "invalid lifetime '%s' (persist or close)", value);
		return -EINVAL;
	}
	return 0;
}

int rfs_region_decl_set(struct rfs_region_decl *d, const char *key, const char *value, char *err,
			size_t errlen)
{
	int ret = owner_set(&d->owner, key, value, err, errlen);

	if (ret <= 0)
		return ret;
	if (!strcmp(key, "size"))
		return size_value(key, value, RFS_OFF_MAX, &d->size, err, errlen);
	if (!strcmp(key, "prealloc"))
		return bool_value(key, value, &d->prealloc, err, errlen);
	if (!strcmp(key, "lifetime"))
		return lifetime_value(value, &d->lifetime, err, errlen);
	if (!strcmp(key, "seals")) {
		if (!rfs_parse_seals(value, &d->seals))
			return 0;
		rfs_set_err(
			err, errlen,
			"invalid seals '%s' (shrink, grow, write, future_write, joined by commas)",
			value);
		return -EINVAL;
	}
	rfs_set_err(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

int rfs_dir_decl_set(struct rfs_dir_decl *d, const char *key, const char *value, char *err,
		     size_t errlen)
{
	int ret = owner_set(&d->owner, key, value, err, errlen);

	if (ret <= 0)
		return ret;
	if (!strcmp(key, "lifetime"))
		return lifetime_value(value, &d->lifetime, err, errlen);
	if (!strcmp(key, "size")) {
		d->has_size = true;
		return size_value(key, value, RFS_OFF_MAX, &d->size, err, errlen);
	}
	rfs_set_err(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

static int window_check(uint64_t offset, uint64_t length, char *err, size_t errlen)
{
	if (length > RFS_OFF_MAX - offset) {
		rfs_set_err(err, errlen, "offset + length is past the largest file offset");
		return -EINVAL;
	}
	return 0;
}

int rfs_view_decl_set(struct rfs_view_decl *d, const char *key, const char *value, char *err,
		      size_t errlen)
{
	uint64_t v;
	char *file, *name;
	int ret = owner_set(&d->owner, key, value, err, errlen);

	if (ret <= 0)
		return ret;
	if (!strcmp(key, "file")) {
		/* The daemon chdirs to "/" once detached: a relative path would move. */
		if (value[0] != '/') {
			rfs_set_err(err, errlen, "file '%s' is not an absolute path", value);
			return -EINVAL;
		}
		file = strdup(value);
		if (!file)
			return -ENOMEM;
		free(d->file);
		d->file = file;
		return 0;
	}
	if (!strcmp(key, "region")) {
		char why[64];

		/* A name of the mount, checked as names of sections are. */
		if (rfs_name_check(value, why, sizeof(why))) {
			rfs_set_err(err, errlen, "invalid region name '%s': %s", value, why);
			return -EINVAL;
		}
		name = strdup(value);
		if (!name)
			return -ENOMEM;
		free(d->region);
		d->region = name;
		return 0;
	}
	if (!strcmp(key, "offset")) {
		ret = size_value(key, value, RFS_OFF_MAX, &v, err, errlen);
		if (!ret && d->has_length)
			ret = window_check(v, d->length, err, errlen);
		if (!ret)
			d->offset = v;
		return ret;
	}
	if (!strcmp(key, "length")) {
		ret = size_value(key, value, RFS_OFF_MAX, &v, err, errlen);
		if (!ret && !v) {
			rfs_set_err(err, errlen,
				    "length 0 (leave length out to map to end of file)");
			ret = -EINVAL;
		}
		if (!ret)
			ret = window_check(d->offset, v, err, errlen);
		if (!ret) {
			d->length = v;
			d->has_length = true;
		}
		return ret;
	}
	if (!strcmp(key, "access")) {
		if (!strcmp(value, "rw")) {
			d->access = RFS_ACCESS_RW;
		} else if (!strcmp(value, "ro")) {
			d->access = RFS_ACCESS_RO;
		} else if (!strcmp(value, "cow")) {
			d->access = RFS_ACCESS_COW;
		} else {
			rfs_set_err(err, errlen, "invalid access '%s' (ro, rw or cow)", value);
			return -EINVAL;
		}
		return 0;
	}
	rfs_set_err(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}

static int name_valid(const char *name, char *err, size_t errlen)
{
	char why[64];

	if (rfs_name_check(name, why, sizeof(why))) {
		rfs_set_err(err, errlen, "invalid name '%s': %s", name ? name : "", why);
		return -EINVAL;
	}
	return 0;
}

int rfs_region_decl_check(const struct rfs_region_decl *d, char *err, size_t errlen)
{
	return name_valid(d->name, err, errlen);
}

int rfs_dir_decl_check(const struct rfs_dir_decl *d, char *err, size_t errlen)
{
	return name_valid(d->name, err, errlen);
}

int rfs_view_decl_check(const struct rfs_view_decl *d, char *err, size_t errlen)
{
	int ret = name_valid(d->name, err, errlen);

	if (ret)
		return ret;
	if (!d->file == !d->region) {
		rfs_set_err(err, errlen,
			    d->file ? "keys 'file' and 'region' exclude each other"
				    : "missing key 'file' or 'region'");
		return -EINVAL;
	}
	if (d->offset > RFS_OFF_MAX) {
		rfs_set_err(err, errlen, "offset is past the largest file offset");
		return -EINVAL;
	}
	return d->has_length ? window_check(d->offset, d->length, err, errlen) : 0;
}

void rfs_region_decl_free(struct rfs_region_decl *d)
{
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void rfs_dir_decl_free(struct rfs_dir_decl *d)
{
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void rfs_view_decl_free(struct rfs_view_decl *d)
{
	free(d->name);
	free(d->file);
	free(d->region);
	memset(d, 0, sizeof(*d));
}

/* ---- [regionfs] ---- */

/* Roots are prefixes for later checks, so "." and ".." would defeat them. */
static bool root_clean(const char *p, size_t len)
{
	size_t i, n;

	if (!len || p[0] != '/')
		return false;
	for (i = 1; i < len; i += n + 1) {
		for (n = 0; i + n < len && p[i + n] != '/'; n++)
			;
		if ((n == 1 && p[i] == '.') || (n == 2 && p[i] == '.' && p[i + 1] == '.'))
			return false;
	}
	return true;
}

static int roots_add(struct rfs_config *cfg, const char *value, char *err, size_t errlen)
{
	const char *p = value;
	char **roots;
	size_t len;

	for (;;) {
		while (rfs_is_space(*p))
			p++;
		if (!*p)
			return 0;
		for (len = 0; p[len] && !rfs_is_space(p[len]); len++)
			;
		if (!root_clean(p, len)) {
			rfs_set_err(
				err, errlen,
				"allowed root '%.*s' is not an absolute path free of '.' and '..'",
				(int)len, p);
			return -EINVAL;
		}
		roots = reallocarray(cfg->allowed_roots, cfg->n_allowed_roots + 2, sizeof(*roots));
		if (!roots)
			return -ENOMEM;
		cfg->allowed_roots = roots;
		roots[cfg->n_allowed_roots] = strndup(p, len);
		if (!roots[cfg->n_allowed_roots])
			return -ENOMEM;
		roots[++cfg->n_allowed_roots] = NULL;
		p += len;
	}
}

int rfs_owner_id(const char *s, bool group, uint32_t *out, char *err, size_t errlen)
{
	return id_value(s, group, out, err, errlen);
}

int rfs_owner_budget_set(struct rfs_owner_budget *b, const char *key, const char *value, char *err,
			 size_t errlen)
{
	if (strcmp(key, "size")) {
		rfs_set_err(err, errlen, "unknown key '%s'", key);
		return -EINVAL;
	}
	b->has_size = true;
	return size_value(key, value, UINT64_MAX, &b->size, err, errlen);
}

bool rfs_config_has_owner_budgets(const struct rfs_config *cfg)
{
	for (size_t i = 0; i < cfg->n_owners; i++)
		if (cfg->owners[i].size)
			return true;
	return cfg->user_size || cfg->group_size;
}

int rfs_global_set(struct rfs_config *cfg, const char *key, const char *value, char *err,
		   size_t errlen)
{
	int ret;

	if (!strcmp(key, "user_size"))
		return size_value(key, value, UINT64_MAX, &cfg->user_size, err, errlen);
	if (!strcmp(key, "group_size"))
		return size_value(key, value, UINT64_MAX, &cfg->group_size, err, errlen);

	if (!strcmp(key, "size")) {
		ret = size_value(key, value, UINT64_MAX, &cfg->size, err, errlen);
		cfg->has_size = !ret;
		return ret;
	}
	if (!strcmp(key, "xattr"))
		return bool_value(key, value, &cfg->xattr, err, errlen);
	if (!strcmp(key, "window_max")) {
		ret = size_value(key, value, UINT64_MAX, &cfg->window_max, err, errlen);
		cfg->has_window_max = !ret;
		return ret;
	}
	if (!strcmp(key, "writeback"))
		return bool_value(key, value, &cfg->writeback, err, errlen);
	if (!strcmp(key, "strict_dirty"))
		return bool_value(key, value, &cfg->strict_dirty, err, errlen);
	if (!strcmp(key, "owner_only"))
		return bool_value(key, value, &cfg->owner_only, err, errlen);
	if (!strcmp(key, "noswap"))
		return bool_value(key, value, &cfg->noswap, err, errlen);
	if (!strcmp(key, "huge")) {
		cfg->huge = rfs_parse_huge(value);
		if (cfg->huge)
			return 0;
		rfs_set_err(err, errlen, "huge = %s: expected never, within_size, always or advise",
			    value);
		return -EINVAL;
	}
	if (!strcmp(key, "allowed_roots"))
		return roots_add(cfg, value, err, errlen);
	rfs_set_err(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
}
