/* Growing text buffers (text.h). */
#include "fs/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf/quote.h"

void rfs_text_printf(struct rfs_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt,
			      ap);
		va_end(ap);
		if (n < 0 || t->failed)
			return;
		if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *b;

		while (cap - t->len <= (size_t)n)
			cap *= 2;
		b = realloc(t->buf, cap);
		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = cap;
	}
}

void rfs_text_put_quoted(struct rfs_text *t, const char *s)
{
	char small[256], *q = small;
	size_t n = rfs_quote(s, small, sizeof(small));

	if (n >= sizeof(small)) {
		q = malloc(n + 1);
		if (!q) {
			t->failed = true;
			return;
		}
		rfs_quote(s, q, n + 1);
	}
	rfs_text_printf(t, "%s", q);
	if (q != small)
		free(q);
}

/*
 * A JSON string: UTF-8 text with quotes, backslashes and control characters
 * escaped. JSON cannot carry bytes that are not UTF-8: each becomes U+FFFD,
 * and the row's *_token field (stats' quoting, which control accepts) keeps
 * the exact name.
 */
void rfs_text_put_json_string(struct rfs_text *t, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	rfs_text_printf(t, "\"");
	while (*p) {
		n = rfs_utf8_len((const char *)p);
		if (n > 1) {
			rfs_text_printf(t, "%.*s", (int)n, (const char *)p);
		} else if (n == 0) {
			rfs_text_printf(t, "\\ufffd");
			n = 1;
		} else if (*p == '"' || *p == '\\') {
			rfs_text_printf(t, "\\%c", *p);
		} else if (*p < 0x20 || *p == 0x7f) {
			rfs_text_printf(t, "\\u%04x", *p);
		} else {
			rfs_text_printf(t, "%c", *p);
		}
		p += n;
	}
	rfs_text_printf(t, "\"");
}

/* "key": "text", "key_token": "quoted": the name for jq, the name for control. */
void rfs_text_put_json_name(struct rfs_text *t, const char *key, const char *s)
{
	struct rfs_text token = {0};

	rfs_text_put_quoted(&token, s);
	t->failed |= token.failed;
	rfs_text_printf(t, "\"%s\": ", key);
	rfs_text_put_json_string(t, s);
	rfs_text_printf(t, ", \"%s_token\": ", key);
	rfs_text_put_json_string(t, token.buf ? token.buf : "");
	free(token.buf);
}

/*
 * A Prometheus label value: UTF-8 text with backslash, double quote and
 * newline escaped, as the format requires. A byte that is not UTF-8 cannot
 * be carried; it is shown as the text \xHH, the escape stats would use.
 */
void rfs_text_put_label(struct rfs_text *t, const char *s)
{
	while (*s) {
		size_t u = rfs_utf8_len(s);

		if (*s == '\\' || *s == '"')
			rfs_text_printf(t, "\\%c", *s);
		else if (*s == '\n')
			rfs_text_printf(t, "\\n");
		else if (!u)
			rfs_text_printf(t, "\\\\x%02x", (unsigned char)*s);
		else
			rfs_text_printf(t, "%.*s", (int)u, s);
		s += u ? u : 1;
	}
}

int rfs_read_file(const char *path, size_t max, char **text)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0, room = 4096;
	char *buf = malloc(room);
	int e = 0;

	if (fd < 0 || !buf) {
		e = fd < 0 ? -errno : -ENOMEM;
		free(buf);
		if (fd >= 0)
			close(fd);
		return e;
	}
	for (;;) {
		ssize_t n;

		if (got + 1 == room) {
			char *more = room <= max ? realloc(buf, room * 2) : NULL;

			if (!more) {
				e = room <= max ? -ENOMEM : -EFBIG;
				break;
			}
			buf = more;
			room *= 2;
		}
		n = read(fd, buf + got, room - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			e = -errno;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!e && got > max)
		e = -EFBIG;
	if (e) {
		free(buf);
		return e;
	}
	buf[got] = '\0';
	*text = buf;
	return 0;
}
