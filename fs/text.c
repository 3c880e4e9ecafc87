/* Growing text buffers (text.h). */
#include "fs/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
