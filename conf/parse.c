/*
 * Scalar parsers shared by the INI loader and the control plane: sizes,
 * permission bits, booleans and mapping names. See conf/config.h.
 *
 * Everything is parsed by hand rather than with strtoull(): strtoull skips
 * leading whitespace, accepts a sign (and wraps "-1" to UINT64_MAX) and
 * depends on the locale, all of which a config value must not do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf/config.h"

/* ASCII only: config files must not change meaning with the locale. */
static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int digit_value(char c, unsigned int base)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (lower(c) >= 'a' && lower(c) <= 'f')
		d = lower(c) - 'a' + 10;
	else
		return -1;
	return (unsigned int)d < base ? d : -1;
}

int rfs_parse_size(const char *s, uint64_t *out)
{
	unsigned int base = 10, shift = 0;
	uint64_t v = 0;
	const char *p = s;
	int d;

	if (!s)
		return -EINVAL;
	if (p[0] == '0' && lower(p[1]) == 'x') {
		base = 16;
		p += 2;
	}
	/* Hex digits win over the 'B' suffix: "0x1B" is 27, as in C. */
	for (d = digit_value(*p, base); d >= 0; d = digit_value(*++p, base)) {
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			return -ERANGE;
		v = v * base + (unsigned int)d;
	}
	if (p == s || (base == 16 && p == s + 2))
		return -EINVAL;

	switch (lower(*p)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	}
	if (shift) {
		p++;
		if (lower(p[0]) == 'i' && lower(p[1]) == 'b')
			p += 2;
		else if (lower(p[0]) == 'b')
			p++;
	} else if (lower(p[0]) == 'b') {
		p++; /* "512B": plain bytes */
	}
	if (*p)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int rfs_parse_mode(const char *s, mode_t *out)
{
	mode_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		v = v * 8 + (mode_t)(*s - '0');
		/* Checked per digit so a long string cannot wrap around. */
		if (v > 07777)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int rfs_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

const char *rfs_seal_word(unsigned int i)
{
	static const char *const words[RFS_DECL_SEAL_COUNT] = {"shrink", "grow", "write",
							       "future_write"};

	return i < RFS_DECL_SEAL_COUNT ? words[i] : "?";
}

int rfs_parse_seals(const char *s, unsigned int *out)
{
	unsigned int seals = 0;

	while (s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s), i;

		for (i = 0; i < RFS_DECL_SEAL_COUNT; i++)
			if (len == strlen(rfs_seal_word(i)) && !strncmp(s, rfs_seal_word(i), len))
				break;
		if (i == RFS_DECL_SEAL_COUNT || (seals & (1u << i)))
			return -EINVAL;
		seals |= 1u << i;
		s = comma ? comma + 1 : NULL;
	}
	*out = seals;
	return seals ? 0 : -EINVAL;
}

const char *rfs_parse_huge(const char *s)
{
	static const char *const modes[] = {"never", "within_size", "always", "advise"};

	for (size_t i = 0; s && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(s, modes[i]))
			return modes[i];
	return NULL;
}

static int name_fail(char *err, size_t errlen, const char *reason)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", reason);
	return -EINVAL;
}

int rfs_name_check(const char *name, char *err, size_t errlen)
{
	const size_t ctl_len = strlen(RFS_CONTROL_DIR);
	const char *c, *slash;
	size_t n;

	if (!name || !*name)
		return name_fail(err, errlen, "empty name");
	if (strlen(name) >= RFS_PATH_MAX)
		return name_fail(err, errlen, "name too long");

	for (c = name;; c = slash + 1) {
		slash = strchrnul(c, '/');
		n = (size_t)(slash - c);
		/* Covers leading, trailing and doubled '/'. */
		if (n == 0)
			return name_fail(err, errlen, "empty component");
		if (n > RFS_NAME_MAX)
			return name_fail(err, errlen, "component too long");
		if (n == 1 && c[0] == '.')
			return name_fail(err, errlen, "component '.' not allowed");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return name_fail(err, errlen, "component '..' not allowed");
		/* The control directory lives at the root only, so "a/.regionfs" is fine. */
		if (c == name && n == ctl_len && !memcmp(c, RFS_CONTROL_DIR, n))
			return name_fail(err, errlen, "'" RFS_CONTROL_DIR "' is reserved");
		if (!*slash)
			break;
	}
	return 0;
}
