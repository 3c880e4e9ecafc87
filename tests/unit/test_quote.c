/*
 * The control plane's quoting rule (conf/quote.h): the tokenizer that reads
 * commands, the printer that writes names into stats, and the round trip
 * between them over random byte strings; then whole commands with quoted
 * names and paths (conf/command.h).
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "conf/command.h"
#include "conf/quote.h"

#define MAXW 8

struct split {
	char buf[1024];
	char *argv[MAXW];
	int argc;
	char err[RFS_ERR_MAX];
};

static int split(const char *line, struct split *s)
{
	ck_assert_uint_lt(strlen(line), sizeof(s->buf));
	s->err[0] = '\0';
	return rfs_words_split(line, s->buf, s->argv, MAXW, &s->argc, s->err, sizeof(s->err));
}

/* line splits into exactly the n words given. */
static void expect_words(const char *line, int n, ...)
{
	struct split s;
	va_list ap;

	ck_assert_msg(split(line, &s) == 0, "'%s' refused: %s", line, s.err);
	ck_assert_msg(s.argc == n, "'%s': %d words, want %d", line, s.argc, n);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *want = va_arg(ap, const char *);

		ck_assert_msg(strcmp(s.argv[i], want) == 0, "'%s' word %d: '%s', want '%s'", line,
			      i, s.argv[i], want);
	}
	va_end(ap);
}

static void expect_refused(const char *line, const char *why)
{
	struct split s;

	ck_assert_msg(split(line, &s) == -EINVAL, "'%s' accepted", line);
	ck_assert_msg(strstr(s.err, why), "'%s': reason '%s' lacks '%s'", line, s.err, why);
	ck_assert_int_eq(s.argc, 0);
}

START_TEST(split_plain_and_quoted)
{
	expect_words("remove imgB", 2, "remove", "imgB");
	expect_words("  view\tv \r file=/a  ", 3, "view", "v", "file=/a");
	expect_words("view v file=\"/tmp/dir with space/f\"", 3, "view", "v",
		     "file=/tmp/dir with space/f");
	expect_words("remove 'with space'", 2, "remove", "with space");
	expect_words("remove with\\ space", 2, "remove", "with space");
	expect_words("remove 'it'\\''s'", 2, "remove", "it's");
	expect_words("remove 'it''s'", 2, "remove", "its"); /* as sh: two quoted parts */
	expect_words("remove \"a\\\"b\\\\c\"", 2, "remove", "a\"b\\c");
	expect_words("remove \"'\"'\"'", 2, "remove", "'\"");
	expect_words("remove \"tab\\there\\nnl\\rcr\"", 2, "remove", "tab\there\nnl\rcr");
	expect_words("remove \\x41\\xff\\x0a", 2, "remove", "A\xff\n");
	expect_words("remove 'no \\n escapes in single quotes'", 2, "remove",
		     "no \\n escapes in single quotes");
	expect_words("remove \"\" ''", 3, "remove", "", "");
	expect_words("remove \\#x \\=", 3, "remove", "#x", "=");
	expect_words("remove caf\xc3\xa9", 2, "remove", "caf\xc3\xa9");
}
END_TEST

START_TEST(split_comments_and_blanks)
{
	expect_words("", 0);
	expect_words(" \t ", 0);
	expect_words("# remove x", 0);
	expect_words("  #remove 'unterminated", 0);
	expect_words("\"#\" x", 2, "#", "x");
	expect_words("\\#x", 1, "#x");
	expect_words("remove #x", 2, "remove", "#x"); /* only a first word starts a comment */
}
END_TEST

START_TEST(split_refusals)
{
	struct split s;

	expect_refused("remove \"open", "unterminated \"");
	expect_refused("remove 'open", "unterminated '");
	expect_refused("remove a\\", "end of the line");
	expect_refused("remove \"a\\", "end of the line");
	expect_refused("remove \\x4", "two hex digits");
	expect_refused("remove \\xg1", "two hex digits");
	expect_refused("remove \\x00", "NUL");
	expect_refused("remove \\q", "unknown escape");
	expect_refused("remove \"\\7\"", "unknown escape");
	ck_assert_int_eq(split("a b c d e f g h i", &s), -E2BIG);
	ck_assert_str_eq(s.err, "too many arguments");
	ck_assert_int_eq(split("# a b c d e f g h i", &s), 0);
	ck_assert_int_eq(s.argc, 0);
}
END_TEST

static void expect_quote(const char *in, const char *want)
{
	char out[256];
	size_t n = rfs_quote(in, out, sizeof(out));

	ck_assert_msg(strcmp(out, want) == 0, "quote('%s') = '%s', want '%s'", in, out, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(quote_forms)
{
	expect_quote("imgB", "imgB");
	expect_quote("dir/sub-1_x.data", "dir/sub-1_x.data");
	expect_quote("with space", "\"with space\"");
	expect_quote("", "\"\"");
	expect_quote("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect_quote("it's", "\"it's\"");
	expect_quote("#x", "\"#x\"");
	expect_quote("t\tn\nr\r", "\"t\\tn\\nr\\r\"");
	expect_quote("bell\x07 del\x7f", "\"bell\\x07 del\\x7f\"");
	expect_quote("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_quote("bad\xff\xc3(", "\"bad\\xff\\xc3(\"");
	expect_quote("overlong\xc0\xaf", "\"overlong\\xc0\\xaf\"");
	expect_quote("surrogate\xed\xa0\x80", "\"surrogate\\xed\\xa0\\x80\"");
	expect_quote("c1\xc2\x85", "\"c1\\xc2\\x85\"");
	expect_quote("emoji\xf0\x9f\x98\x80", "\"emoji\xf0\x9f\x98\x80\"");
}
END_TEST

START_TEST(quote_truncates_like_snprintf)
{
	char out[6];

	memset(out, 'X', sizeof(out));
	ck_assert_uint_eq(rfs_quote("a b c d", out, sizeof(out)), 9);
	ck_assert_str_eq(out, "\"a b ");
	ck_assert_uint_eq(rfs_quote("a b", NULL, 0), 5);
}
END_TEST

/* Whatever the printer writes, the tokenizer reads back as that one word. */
START_TEST(round_trip_random_bytes)
{
	static const char pick[] = " \t\r\n\"'\\#=/ax\x7f\x01\xc3\xa9\xff\xf0\x9f\x98\x80";
	char name[64], line[16 + RFS_QUOTED_MAX(sizeof(name))], buf[sizeof(line)];
	char *argv[4];
	unsigned int seed = 12345;
	int argc;

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = (size_t)(rand_r(&seed) % (sizeof(name) - 1)) + 1, q;

		for (size_t i = 0; i < len; i++) {
			int r = rand_r(&seed);

			/* Half from the troublesome set, half any byte but NUL. */
			name[i] = r & 1 ? pick[(r >> 1) % (sizeof(pick) - 1)]
					: (char)((r >> 1) % 255 + 1);
		}
		name[len] = '\0';
		memcpy(line, "remove ", 7);
		q = rfs_quote(name, line + 7, sizeof(line) - 7);
		ck_assert_uint_le(q + 1, RFS_QUOTED_MAX(len));
		ck_assert_ptr_null(memchr(line, '\n', 7 + q)); /* one line */
		ck_assert_int_eq(rfs_words_split(line, buf, argv, 4, &argc, NULL, 0), 0);
		ck_assert_int_eq(argc, 2);
		ck_assert_msg(strcmp(argv[1], name) == 0, "round trip of %zu bytes through '%s'",
			      len, line);
	}
}
END_TEST

START_TEST(commands_take_quoted_words)
{
	struct rfs_command cmd;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(rfs_command_parse("remove \"with space\"", &cmd, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd.verb, RFS_CMD_REMOVE);
	ck_assert_str_eq(cmd.name, "with space");
	rfs_command_free(&cmd);

	ck_assert_int_eq(rfs_command_parse("view 'd x/v\\n' file=\"/tmp/dir with space/f\" "
					   "offset=1K length=4K access=ro",
					   &cmd, err, sizeof(err)),
			 0);
	ck_assert_str_eq(cmd.view.name, "d x/v\\n");
	ck_assert_str_eq(cmd.view.file, "/tmp/dir with space/f");
	ck_assert_uint_eq(cmd.view.offset, 1024);
	rfs_command_free(&cmd);

	ck_assert_int_eq(rfs_command_parse("region \"a\\tb\\xff\" size=1M", &cmd, err, sizeof(err)),
			 0);
	ck_assert_str_eq(cmd.region.name, "a\tb\xff");
	rfs_command_free(&cmd);

	ck_assert_int_eq(rfs_command_parse("remove \"open", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unterminated \" quote");
	ck_assert_int_eq(rfs_command_parse("remove \"\"", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "bad name \"\"", 11) == 0, "%s", err);
	/* A message names an odd word in quoted form: it stays one line. */
	ck_assert_int_eq(rfs_command_parse("frob\\nnicate", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strncmp(err, "unknown command \"frob\\nnicate\"", 30) == 0, "%s", err);
}
END_TEST

static Suite *quote_suite(void)
{
	Suite *s = suite_create("quote");
	TCase *tc = tcase_create("quote");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, split_plain_and_quoted);
	tcase_add_test(tc, split_comments_and_blanks);
	tcase_add_test(tc, split_refusals);
	tcase_add_test(tc, quote_forms);
	tcase_add_test(tc, quote_truncates_like_snprintf);
	tcase_add_test(tc, round_trip_random_bytes);
	tcase_add_test(tc, commands_take_quoted_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(quote_suite());
}
