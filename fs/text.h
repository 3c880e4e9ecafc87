/*
 * Growing text buffers for the control files' snapshots (stats, metrics,
 * the last command's result). A failed allocation is sticky: the text then
 * holds what fit and the reader is told (ENOMEM), never a cut snapshot.
 */
#ifndef REGIONFS_TEXT_H
#define REGIONFS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

struct rfs_text {
	char *buf;
	size_t len, cap;
	bool failed; /* an allocation failed; buf holds what fit */
};

void rfs_text_printf(struct rfs_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* s as one word in control's quoting (conf/quote.h): what stats prints, remove takes. */
void rfs_text_put_quoted(struct rfs_text *t, const char *s);

#endif
