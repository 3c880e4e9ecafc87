/*
 * Regression tests for inputs found by the fuzz targets in tests/fuzz/
 * (fuzz_config, fuzz_command). Each test loads the minimized input that
 * broke an invariant and asserts the result the parser must give. Add new
 * findings here with the date, the target, and what the input broke.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check_main.h"
#include "conf/command.h"
#include "conf/config.h"

#define LABEL "fuzz"

/* Parse one command line; the caller frees cmd on success. */
static int parse(const char *line, struct rfs_command *cmd, char *err)
{
	err[0] = '\0';
	return rfs_command_parse(line, cmd, err, RFS_ERR_MAX);
}

/*
 * fuzz_command: a comment line of more than 32 blank-separated words was
 * rejected with "too many arguments": rfs_command_parse() counts the words
 * against MAX_ARGS before it looks at the first one. command.h: "a line
 * that is ... starts with '#' is no command".
 * Minimized input: "#" followed by 32 times " a" (33 words).
 */
START_TEST(comment_many_words)
{
	static const char *const lines[] = {
		"# a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a",
		"  #a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a",
		/* The line as the fuzzer first found it. */
		"# donregion a size=1 mode=1 mode=2 mode=3 mode=4 mode=5 mode=6 mode=7 mde=0 "
		"uid=0 gid=re=1 mode=2 mode=3 mode=4 mode=5 mode=6 mode=7 mode=0 uid=0 gid=repa0 "
		"lloc=no size=2 size=3 size=4 size=5 size=6 size=7 size=8 size=9 size=10 size=19",
	};
	struct rfs_command cmd;
	char err[RFS_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		ck_assert_msg(parse(lines[i], &cmd, err) == 0, "'%s': %s", lines[i], err);
		ck_assert_int_eq(cmd.verb, RFS_CMD_NONE);
		ck_assert_ptr_null(cmd.name);
		rfs_command_free(&cmd);
	}
}
END_TEST

/* The limit itself still holds for commands: 33 words is too many. */
START_TEST(command_too_many_words)
{
	char line[512] = "region a", err[RFS_ERR_MAX];
	struct rfs_command cmd;
	int i;

	for (i = 0; i < 31; i++)
		strcat(line, " mode=1");
	ck_assert_int_eq(parse(line, &cmd, err), -EINVAL);
	ck_assert_str_eq(err, "too many arguments");
	ck_assert_int_eq(cmd.verb, RFS_CMD_NONE);
	ck_assert_ptr_null(cmd.region.name);
}
END_TEST

/*
 * fuzz_config, 2026-12-02: a key given twice in a section was accepted, the
 * last value winning, for every key missing from config.c's tracked_keys:
 * region (windows of regions), huge, window_max, writeback, strict_dirty and
 * owner_only. README and conf/example.ini: a key given twice in one section
 * is an error. The model of the grammar in fuzz_config.c refused it.
 * Minimized input: "[view:w]\nregion = a/a\n[view:y]\nregion = a\nregion = b\n".
 */
START_TEST(config_key_given_twice)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"[view:w]\nregion = a/a\n[view:y]\nregion = a\nregion = b\n",
		 "fuzz:5: key 'region' given twice in [view:y]"},
		{"[regionfs]\nhuge = never\nhuge = always\n",
		 "fuzz:3: key 'huge' given twice in [regionfs]"},
		{"[regionfs]\nwindow_max = 1G\nwindow_max = 2G\n",
		 "fuzz:3: key 'window_max' given twice in [regionfs]"},
		{"[regionfs]\nwriteback = yes\nwriteback = no\n",
		 "fuzz:3: key 'writeback' given twice in [regionfs]"},
		{"[regionfs]\nstrict_dirty = no\nstrict_dirty = no\n",
		 "fuzz:3: key 'strict_dirty' given twice in [regionfs]"},
		{"[regionfs]\nowner_only = yes\nowner_only = yes\n",
		 "fuzz:3: key 'owner_only' given twice in [regionfs]"},
	};
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(
			rfs_config_load_string(cases[i].text, LABEL, &cfg, err, sizeof(err)),
			-EINVAL);
		ck_assert_str_eq(err, cases[i].err);
		ck_assert_ptr_null(cfg.views);
	}
	/* Once per section is still fine, and the same key in two sections. */
	ck_assert_int_eq(rfs_config_load_string("[view:w]\nregion = a\n[view:y]\nregion = a\n"
						"[regionfs]\nhuge = always\nwindow_max = 1G\n",
						LABEL, &cfg, err, sizeof(err)),
			 0);
	ck_assert_str_eq(cfg.views[1].region, "a");
	ck_assert_str_eq(cfg.huge, "always");
	rfs_config_free(&cfg);
}
END_TEST

static Suite *fuzz_regressions_suite(void)
{
	Suite *s = suite_create("fuzz_regressions");
	TCase *tc = tcase_create("command");

	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, comment_many_words);
	tcase_add_test(tc, command_too_many_words);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, config_key_given_twice);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rfs_check_run(fuzz_regressions_suite());
}
