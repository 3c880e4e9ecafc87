/*
 * The control plane's one quoting rule, for every name and path it reads
 * (control commands) or prints (stats, messages):
 *
 *  - Words are separated by blanks (space, tab, CR) outside quotes.
 *  - '...' takes everything up to the next ' literally.
 *  - "..." takes everything up to the next unescaped " literally but for
 *    backslash escapes.
 *  - Outside single quotes a backslash escapes: \n newline, \t tab, \r CR,
 *    \xHH the byte HH (two hex digits, not 00), and a backslash before any
 *    other character that is not a letter or digit stands for that
 *    character (\\ \" \' \<space> \# \=). Other escapes are errors.
 *  - Quoted and unquoted parts join into one word: file="/a b"/c, 'it'\''s'.
 *  - A line whose first word starts with an unquoted '#' is a comment.
 *
 * The printer writes a word back in the form the reader takes: bare when
 * every byte is printable ASCII without quotes, backslash or '#', else in
 * double quotes with \\ \" \n \t \r and \xHH for other control bytes, DEL
 * and bytes that are not valid UTF-8 (valid UTF-8 stays as it is).
 */
#ifndef REGIONFS_QUOTE_H
#define REGIONFS_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Split line into at most max words. buf (strlen(line) + 1 bytes) receives
 * the words, each NUL-terminated; argv[i] point into it. *argc is 0 for a
 * blank or comment line. 0, or -EINVAL with the reason in err (may be NULL),
 * or -E2BIG for more than max words.
 */
int rfs_words_split(const char *line, char *buf, char **argv, int max, int *argc, char *err,
		    size_t errlen);

/*
 * Write s in quoted form into out (snprintf-like: at most outlen - 1 bytes
 * and a NUL). Returns the length of the whole quoted form.
 */
size_t rfs_quote(const char *s, char *out, size_t outlen);

/* Bytes of the longest quoted form of a string of len bytes, NUL included. */
#define RFS_QUOTED_MAX(len) (4 * (len) + 3)

/*
 * The length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes at
 * s do not start one (overlong forms, surrogates and code points past
 * U+10FFFF are not valid).
 */
size_t rfs_utf8_len(const char *s);

#endif
