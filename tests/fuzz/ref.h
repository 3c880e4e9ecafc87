/*
 * For the fuzz harnesses: reference implementations of the key grammar that
 * the INI sections and the control commands share, written from the rules
 * in conf/config.h and conf/command.h (not from decl.c and parse.c), and
 * comparisons of declarations field by field. A harness that finds the real
 * parser and these disagree has found a bug in one of them.
 */
#ifndef REGIONFS_FUZZ_REF_H
#define REGIONFS_FUZZ_REF_H

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "conf/config.h"

#define REF_OFF_MAX ((uint64_t)INT64_MAX)

static inline int ref_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool ref_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ASCII case-insensitive equality, whatever the locale. */
static inline bool ref_caseeq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if ((*a | 0x20) != (*b | 0x20) || !ref_alnum(*a) != !ref_alnum(*b))
			return false;
	return !*a && !*b;
}

/* Sizes: 1 and *out on success, 0 if refused. */
static inline int ref_size(const char *s, uint64_t *out)
{
	unsigned __int128 v = 0, mult = 1;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *p = hex ? s + 2 : s, *start = p;
	int d;

	while ((d = ref_hexval(*p)) >= 0 && (hex || d < 10)) {
		v = v * (hex ? 16 : 10) + (unsigned int)d;
		if (v > UINT64_MAX)
			return 0;
		p++;
	}
	if (p == start)
		return 0;
	if (*p && strchr("kKmMgGtT", *p)) {
		switch (*p | 0x20) {
		case 'k':
			mult = (unsigned __int128)1 << 10;
			break;
		case 'm':
			mult = (unsigned __int128)1 << 20;
			break;
		case 'g':
			mult = (unsigned __int128)1 << 30;
			break;
		default:
			mult = (unsigned __int128)1 << 40;
			break;
		}
		p++;
		if (ref_caseeq(p, "ib") || ref_caseeq(p, "b"))
			p += strlen(p);
	} else if (*p == 'b' || *p == 'B') {
		p++;
	}
	if (*p)
		return 0;
	v *= mult;
	if (v > UINT64_MAX)
		return 0;
	*out = (uint64_t)v;
	return 1;
}

static inline int ref_mode(const char *s, mode_t *out)
{
	unsigned long v = 0;
	size_t n = strspn(s, "01234567");

	if (!*s || s[n])
		return 0;
	s += strspn(s, "0"); /* leading zeros are free */
	if (strlen(s) > 4)
		return 0;
	for (; *s; s++)
		v = v * 8 + (unsigned long)(*s - '0');
	if (v > 07777)
		return 0;
	*out = (mode_t)v;
	return 1;
}

static inline int ref_name(const char *name)
{
	const char *c = name, *e;
	size_t n;

	if (!*name || strlen(name) >= RFS_PATH_MAX)
		return 0;
	for (;;) {
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || n > RFS_NAME_MAX || !strncmp(c, ".", n) || !strncmp(c, "..", n))
			return 0;
		if (c == name && n == strlen(RFS_CONTROL_DIR) && !strncmp(c, RFS_CONTROL_DIR, n))
			return 0;
		if (!e)
			return 1;
		c = e + 1;
	}
}

static inline int ref_bool(const char *s, bool *out)
{
	static const char *const words[] = {"yes", "true", "on", "1", "no", "false", "off", "0"};

	for (size_t i = 0; i < 8; i++) {
		if (ref_caseeq(s, words[i])) {
			*out = i < 4;
			return 1;
		}
	}
	return 0;
}

static inline int ref_life(const char *s, enum rfs_life *out)
{
	if (!strcmp(s, "persist") || !strcmp(s, "close")) {
		*out = s[0] == 'p' ? RFS_LIFE_PERSIST : RFS_LIFE_CLOSE;
		return 1;
	}
	return 0;
}

/* Seal words (shrink grow write future_write: bits 1 2 4 8) joined by commas,
 * none twice, none empty. */
static inline int ref_seals(const char *s, unsigned int *out)
{
	static const char *const words[] = {"shrink", "grow", "write", "future_write"};
	char buf[256], *save = NULL, *w;
	unsigned int seals = 0;
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(buf) || s[0] == ',' || s[len - 1] == ',' || strstr(s, ",,"))
		return 0;
	memcpy(buf, s, len + 1);
	for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		unsigned int bit = 0;

		for (unsigned int i = 0; i < 4; i++)
			if (!strcmp(w, words[i]))
				bit = 1u << i;
		if (!bit || (seals & bit))
			return 0;
		seals |= bit;
	}
	*out = seals;
	return 1;
}

static inline const char *ref_huge(const char *s)
{
	static const char *const modes[] = {"never", "within_size", "always", "advise"};

	for (size_t i = 0; i < 4; i++)
		if (!strcmp(s, modes[i]))
			return modes[i];
	return NULL;
}

/* A decimal id below (uint32_t)-1 (which chown() takes as "no change"), or a known name. */
static inline int ref_id(const char *s, bool group, uint32_t *out)
{
	size_t n = strspn(s, "0123456789");
	uint64_t v = 0;

	if (!*s)
		return 0;
	if (!s[n]) {
		s += strspn(s, "0");
		if (strlen(s) > 10)
			return 0;
		for (; *s; s++)
			v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return 0;
		*out = (uint32_t)v;
		return 1;
	}
	if (group) {
		struct group *g = getgrnam(s);

		if (g)
			*out = g->gr_gid;
		return g != NULL;
	}
	struct passwd *pw = getpwnam(s);

	if (pw)
		*out = pw->pw_uid;
	return pw != NULL;
}

/* ---- one key of a declaration: 1 taken, 0 refused (unknown key or bad value) ---- */

static inline int ref_owner_key(struct rfs_owner *o, const char *k, const char *v)
{
	if (!strcmp(k, "mode"))
		return o->has_mode = ref_mode(v, &o->mode);
	if (!strcmp(k, "uid"))
		return o->has_uid = ref_id(v, false, &o->uid);
	if (!strcmp(k, "gid"))
		return o->has_gid = ref_id(v, true, &o->gid);
	return -1;
}

static inline int ref_region_key(struct rfs_region_decl *d, const char *k, const char *v)
{
	int r = ref_owner_key(&d->owner, k, v);

	if (r >= 0)
		return r;
	if (!strcmp(k, "size"))
		return ref_size(v, &d->size) && d->size <= REF_OFF_MAX;
	if (!strcmp(k, "prealloc"))
		return ref_bool(v, &d->prealloc);
	if (!strcmp(k, "lifetime"))
		return ref_life(v, &d->lifetime);
	if (!strcmp(k, "seals"))
		return ref_seals(v, &d->seals);
	return 0;
}

static inline int ref_dir_key(struct rfs_dir_decl *d, const char *k, const char *v)
{
	int r = ref_owner_key(&d->owner, k, v);

	if (r >= 0)
		return r;
	if (!strcmp(k, "lifetime"))
		return ref_life(v, &d->lifetime);
	if (!strcmp(k, "size"))
		return (d->has_size = true) && ref_size(v, &d->size) && d->size <= REF_OFF_MAX;
	return 0;
}

/* file and region point at v, which must outlive d. */
static inline int ref_view_key(struct rfs_view_decl *d, const char *k, char *v)
{
	int r = ref_owner_key(&d->owner, k, v);

	if (r >= 0)
		return r;
	if (!strcmp(k, "file")) {
		d->file = v;
		return v[0] == '/';
	}
	if (!strcmp(k, "region")) {
		d->region = v;
		return ref_name(v);
	}
	if (!strcmp(k, "offset"))
		return ref_size(v, &d->offset) && d->offset <= REF_OFF_MAX;
	if (!strcmp(k, "length")) {
		d->has_length = true;
		return ref_size(v, &d->length) && d->length && d->length <= REF_OFF_MAX;
	}
	if (!strcmp(k, "access")) {
		if (!strcmp(v, "rw"))
			d->access = RFS_ACCESS_RW;
		else if (!strcmp(v, "ro"))
			d->access = RFS_ACCESS_RO;
		else if (!strcmp(v, "cow"))
			d->access = RFS_ACCESS_COW;
		else
			return 0;
		return 1;
	}
	return 0;
}

/* A whole view: exactly one of file and region, and a window within off_t. */
static inline int ref_view_done(const struct rfs_view_decl *d)
{
	return !d->file != !d->region && (!d->has_length || d->length <= REF_OFF_MAX - d->offset);
}

/* ---- comparisons: the first field that differs, or NULL ---- */

static inline bool ref_str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static inline const char *ref_owner_diff(const struct rfs_owner *a, const struct rfs_owner *b)
{
	if (a->has_mode != b->has_mode || a->mode != b->mode)
		return "mode";
	if (a->has_uid != b->has_uid || a->uid != b->uid)
		return "uid";
	if (a->has_gid != b->has_gid || a->gid != b->gid)
		return "gid";
	return NULL;
}

static inline const char *ref_region_diff(const struct rfs_region_decl *a,
					  const struct rfs_region_decl *b)
{
	if (!ref_str_eq(a->name, b->name))
		return "name";
	if (a->size != b->size)
		return "size";
	if (a->prealloc != b->prealloc)
		return "prealloc";
	if (a->lifetime != b->lifetime)
		return "lifetime";
	if (a->seals != b->seals)
		return "seals";
	if (a->line != b->line)
		return "line";
	return ref_owner_diff(&a->owner, &b->owner);
}

static inline const char *ref_view_diff(const struct rfs_view_decl *a,
					const struct rfs_view_decl *b)
{
	if (!ref_str_eq(a->name, b->name))
		return "name";
	if (!ref_str_eq(a->file, b->file))
		return "file";
	if (!ref_str_eq(a->region, b->region))
		return "region";
	if (a->offset != b->offset)
		return "offset";
	if (a->length != b->length || a->has_length != b->has_length)
		return "length";
	if (a->access != b->access)
		return "access";
	if (a->line != b->line)
		return "line";
	return ref_owner_diff(&a->owner, &b->owner);
}

static inline const char *ref_dir_diff(const struct rfs_dir_decl *a, const struct rfs_dir_decl *b)
{
	if (!ref_str_eq(a->name, b->name))
		return "name";
	if (a->lifetime != b->lifetime)
		return "lifetime";
	if (a->has_size != b->has_size || a->size != b->size)
		return "size";
	if (a->line != b->line)
		return "line";
	return ref_owner_diff(&a->owner, &b->owner);
}

#endif
