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

/*
 * A JSON string: UTF-8 text with quotes, backslashes and control characters
 * escaped; a byte that is not UTF-8 becomes U+FFFD.
 */
void rfs_text_put_json_string(struct rfs_text *t, const char *s);
/* "key": "text", "key_token": "quoted": the name for jq, the name for control. */
void rfs_text_put_json_name(struct rfs_text *t, const char *key, const char *s);
/* A Prometheus label value (backslash, quote and newline escaped; a byte
 * that is not UTF-8 as the text \xHH). */
void rfs_text_put_label(struct rfs_text *t, const char *s);

/* The whole of the file at path, NUL-ended, in *text (the caller frees
 * it): 0, -EFBIG past max bytes, or open's and read's -errno. */
int rfs_read_file(const char *path, size_t max, char **text);

#endif
