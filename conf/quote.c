#include "conf/quote.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "conf/config_i.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The escape at *p (just past the backslash) into *out; advances *p.
 * 0, or -EINVAL with the reason in err.
 */
static int unescape(const char **p, char *out, char *err, size_t errlen)
{
	const char *s = *p;
	int hi, lo;

	switch (*s) {
	case '\0':
		rfs_set_err(err, errlen, "backslash at the end of the line");
		return -EINVAL;
	case 'n':
		*out = '\n';
		break;
	case 't':
		*out = '\t';
		break;
	case 'r':
		*out = '\r';
		break;
	case 'x':
		hi = hex(s[1]);
		lo = hi < 0 ? -1 : hex(s[2]);
		if (lo < 0) {
			rfs_set_err(err, errlen, "\\x needs two hex digits");
			return -EINVAL;
		}
		if (!hi && !lo) {
			rfs_set_err(err, errlen, "\\x00: no NUL byte in a name or path");
			return -EINVAL;
		}
		*out = (char)(hi << 4 | lo);
		s += 2;
		break;
	default:
		if (is_alnum(*s)) {
			rfs_set_err(err, errlen, "unknown escape '\\%c'", *s);
			return -EINVAL;
		}
		*out = *s;
	}
	*p = s + 1;
	return 0;
}

int rfs_words_split(const char *line, char *buf, char **argv, int max, int *argc, char *err,
		    size_t errlen)
{
	const char *p = line;
	char *o = buf;
	int n = 0, e;

	*argc = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		if (n == 0 && *p == '#')
			break; /* a comment: its words are no arguments */
		if (n == max) {
			rfs_set_err(err, errlen, "too many arguments");
			return -E2BIG;
		}
		argv[n++] = o;
		while (*p && !is_blank(*p)) {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');

				if (!end) {
					rfs_set_err(err, errlen, "unterminated ' quote");
					return -EINVAL;
				}
				memcpy(o, p + 1, (size_t)(end - p - 1));
				o += end - p - 1;
				p = end + 1;
			} else if (*p == '"') {
				for (p++; *p != '"'; o++) {
					if (!*p) {
						rfs_set_err(err, errlen, "unterminated \" quote");
						return -EINVAL;
					}
					if (*p != '\\') {
						*o = *p++;
						continue;
					}
					p++;
					e = unescape(&p, o, err, errlen);
					if (e)
						return e;
				}
				p++;
			} else if (*p == '\\') {
				p++;
				e = unescape(&p, o++, err, errlen);
				if (e)
					return e;
			} else {
				*o++ = *p++;
			}
		}
		*o++ = '\0';
	}
	*argc = n;
	return 0;
}

size_t rfs_utf8_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Printable ASCII that needs no quotes. */
static bool bare_ok(unsigned char c)
{
	return c > ' ' && c < 0x7f && c != '"' && c != '\'' && c != '\\' && c != '#';
}

/* Appends to out within outlen, counting every byte in *n. */
struct sink {
	char *out;
	size_t outlen, n;
};

static void put(struct sink *k, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++, k->n++)
		if (k->n + 1 < k->outlen)
			k->out[k->n] = s[i];
}

static void put_hex(struct sink *k, unsigned char c)
{
	static const char digits[] = "0123456789abcdef";
	char esc[4] = {'\\', 'x', digits[c >> 4], digits[c & 15]};

	put(k, esc, sizeof(esc));
}

size_t rfs_quote(const char *s, char *out, size_t outlen)
{
	struct sink k = {out, outlen, 0};
	size_t i, len = strlen(s);

	for (i = 0; i < len && bare_ok((unsigned char)s[i]); i++)
		;
	if (len && i == len) {
		put(&k, s, len);
	} else {
		put(&k, "\"", 1);
		for (i = 0; i < len;) {
			unsigned char c = (unsigned char)s[i];
			size_t u = rfs_utf8_len(s + i);

			if (c == '\\' || c == '"') {
				put(&k, "\\", 1);
				put(&k, s + i, 1);
			} else if (c == '\n' || c == '\t' || c == '\r') {
				put(&k, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r", 2);
			} else if (c >= ' ' && c < 0x7f) {
				put(&k, s + i, 1);
			} else if (u > 1 && !(c == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
				put(&k, s + i, u); /* valid UTF-8, but no C1 control */
				i += u;
				continue;
			} else {
				put_hex(&k, c);
			}
			i++;
		}
		put(&k, "\"", 1);
	}
	if (outlen)
		out[k.n < outlen ? k.n : outlen - 1] = '\0';
	return k.n;
}
