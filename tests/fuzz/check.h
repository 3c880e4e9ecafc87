/*
 * For the fuzz harnesses: an invariant that does not hold aborts with a
 * message, which libFuzzer reports with the input that broke it. Define
 * FUZZ_NAME and FUZZ_WHERE (the input line being checked, or NULL) first.
 */
#ifndef REGIONFS_FUZZ_CHECK_H
#define REGIONFS_FUZZ_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noreturn, format(printf, 2, 3))) static void broken(const char *where,
								   const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: invariant broken", FUZZ_NAME);
	if (where)
		fprintf(stderr, " on line '%s'", where);
	fputs(": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			broken(FUZZ_WHERE, __VA_ARGS__);                                           \
	} while (0)

#endif
