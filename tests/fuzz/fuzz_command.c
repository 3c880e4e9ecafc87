/*
 * libFuzzer harness for the control-command parser (conf/command.c), and
 * through it the key grammar (decl.c) and scalar parsers (parse.c). The
 * input is split into lines at '\n', as rfs_command_run() does, and each
 * line goes to rfs_command_parse(). Invariants:
 *
 *  - success: the verb is the first word's, and only the fields of that verb
 *    are set: names pass rfs_name_check(), a view has an absolute file and a
 *    window inside off_t, a region's size fits off_t, "reload" has no
 *    argument, a blank or '#' line is RFS_CMD_NONE with nothing set;
 *  - failure: -EINVAL or -ENOMEM, a non-empty message, an emptied command;
 *  - the result does not depend on the error buffer;
 *  - the words are those of rfs_words_split() (conf/quote.h): a line it
 *    refuses is refused, one it finds blank or a comment is no command, and
 *    every word printed by rfs_quote() reads back as that one word.
 *
 * Every blank-separated word, and the value of every key=value word, also
 * goes through rfs_parse_size(), rfs_parse_mode() and rfs_name_check(), which
 * are compared with small reference implementations written here from the
 * rules in conf/config.h.
 *
 * A broken invariant calls abort() after printing what broke.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/command.h"
#include "conf/quote.h"

#define OFF_MAX	  ((uint64_t)INT64_MAX)
#define MAX_WORDS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cur_line = "";
#define FUZZ_NAME "fuzz_command"
#define FUZZ_WHERE cur_line
#include "tests/fuzz/check.h"

/* ---- reference scalar parsers, from the rules in conf/config.h ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 and *out on success, 0 if rejected. */
static int ref_size(const char *s, uint64_t *out)
{
	unsigned __int128 v = 0, mult = 1;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *p = hex ? s + 2 : s, *start = p;
	int d;

	while ((d = hexval(*p)) >= 0 && (hex || d < 10)) {
		v = v * (hex ? 16 : 10) + (unsigned int)d;
		if (v > UINT64_MAX)
			return 0;
		p++;
	}
	if (p == start)
		return 0;
	if (*p && strchr("kKmMgGtT", *p)) {
		switch (*p | 0x20) {
		case 'k':
			mult = (unsigned __int128)1 << 10;
			break;
		case 'm':
			mult = (unsigned __int128)1 << 20;
			break;
		case 'g':
			mult = (unsigned __int128)1 << 30;
			break;
		default:
			mult = (unsigned __int128)1 << 40;
			break;
		}
		p++;
		if (!strcasecmp(p, "ib") || !strcasecmp(p, "b"))
			p += strlen(p);
	} else if (*p == 'b' || *p == 'B') {
		p++;
	}
	if (*p)
		return 0;
	v *= mult;
	if (v > UINT64_MAX)
		return 0;
	*out = (uint64_t)v;
	return 1;
}

static int ref_mode(const char *s, mode_t *out)
{
	unsigned long v = 0;
	size_t n = strspn(s, "01234567");

	if (!*s || s[n])
		return 0;
	s += strspn(s, "0"); /* leading zeros are free */
	if (strlen(s) > 4)
		return 0;
	for (; *s; s++)
		v = v * 8 + (unsigned long)(*s - '0');
	if (v > 07777)
		return 0;
	*out = (mode_t)v;
	return 1;
}

static int ref_name(const char *name)
{
	const char *c = name, *e;
	size_t n;

	if (!*name || strlen(name) >= RFS_PATH_MAX)
		return 0;
	for (;;) {
		e = strchr(c, '/');
		n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || n > RFS_NAME_MAX || !strncmp(c, ".", n) || !strncmp(c, "..", n))
			return 0;
		if (c == name && n == strlen(RFS_CONTROL_DIR) && !strncmp(c, RFS_CONTROL_DIR, n))
			return 0;
		if (!e)
			return 1;
		c = e + 1;
	}
}

static void check_scalars(const char *s)
{
	uint64_t v = 12345, rv = 0;
	mode_t m = 0123, rm = 0;
	char why[RFS_ERR_MAX];
	int ret, ok;

	ret = rfs_parse_size(s, &v);
	ok = ref_size(s, &rv);
	CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE, "rfs_parse_size('%s') returned %d", s,
	      ret);
	CHECK((ret == 0) == ok, "rfs_parse_size('%s') returned %d, reference %s", s, ret,
	      ok ? "accepts" : "rejects");
	CHECK(ret ? v == 12345 : v == rv, "rfs_parse_size('%s') = %llu, reference %llu", s,
	      (unsigned long long)v, (unsigned long long)rv);

	ret = rfs_parse_mode(s, &m);
	ok = ref_mode(s, &rm);
	CHECK((ret == 0) == ok, "rfs_parse_mode('%s') returned %d, reference %s", s, ret,
	      ok ? "accepts" : "rejects");
	CHECK(ret ? m == 0123 : m == rm, "rfs_parse_mode('%s') = %o, reference %o", s,
	      (unsigned int)m, (unsigned int)rm);

	why[0] = '\0';
	ret = rfs_name_check(s, why, sizeof(why));
	ok = ref_name(s);
	CHECK((ret == 0) == ok, "rfs_name_check('%s') returned %d (%s), reference %s", s, ret, why,
	      ok ? "accepts" : "rejects");
	CHECK(ret ? ret == -EINVAL && why[0] : 1, "rfs_name_check('%s'): no reason", s);
	CHECK(rfs_name_check(s, NULL, 0) == ret, "rfs_name_check('%s') without err differs", s);
}

/* ---- the command ---- */

static bool region_empty(const struct rfs_region_decl *r)
{
	static const struct rfs_region_decl zero;

	return !memcmp(r, &zero, sizeof(zero));
}

static bool view_empty(const struct rfs_view_decl *v)
{
	static const struct rfs_view_decl zero;

	return !memcmp(v, &zero, sizeof(zero));
}

static void check_owner(const struct rfs_owner *o)
{
	CHECK(!o->has_mode ? o->mode == 0 : o->mode <= 07777, "mode %o", (unsigned int)o->mode);
	CHECK(!o->has_uid || o->uid != (uid_t)-1, "uid -1 accepted");
	CHECK(!o->has_gid || o->gid != (gid_t)-1, "gid -1 accepted");
}

static void check_success(const struct rfs_command *cmd, char **w, int nw)
{
	char why[RFS_ERR_MAX];

	switch (cmd->verb) {
	case RFS_CMD_NONE:
		CHECK(nw == 0, "RFS_CMD_NONE for a command");
		break;
	case RFS_CMD_REGION:
		CHECK(nw >= 2 && !strcmp(w[0], "region"), "RFS_CMD_REGION from another verb");
		CHECK(cmd->region.name && !strcmp(cmd->region.name, w[1]), "region name not '%s'",
		      w[1]);
		CHECK(!rfs_name_check(cmd->region.name, why, sizeof(why)), "bad region name: %s",
		      why);
		CHECK(cmd->region.size <= OFF_MAX, "region size %llu",
		      (unsigned long long)cmd->region.size);
		check_owner(&cmd->region.owner);
		CHECK(!rfs_region_decl_check(&cmd->region, why, sizeof(why)),
		      "region fails check: %s", why);
		CHECK(!cmd->name && view_empty(&cmd->view), "region command with other fields");
		return;
	case RFS_CMD_VIEW:
		CHECK(nw >= 3 && !strcmp(w[0], "view"), "RFS_CMD_VIEW from another verb");
		CHECK(cmd->view.name && !strcmp(cmd->view.name, w[1]), "view name not '%s'", w[1]);
		CHECK(!rfs_name_check(cmd->view.name, why, sizeof(why)), "bad view name: %s", why);
		CHECK(cmd->view.file && cmd->view.file[0] == '/', "view file not absolute");
		CHECK(cmd->view.offset <= OFF_MAX, "view offset %llu",
		      (unsigned long long)cmd->view.offset);
		if (cmd->view.has_length)
			CHECK(cmd->view.length > 0 &&
				      cmd->view.length <= OFF_MAX - cmd->view.offset,
			      "view window %llu+%llu", (unsigned long long)cmd->view.offset,
			      (unsigned long long)cmd->view.length);
		else
			CHECK(cmd->view.length == 0, "length without has_length");
		CHECK(cmd->view.access <= RFS_ACCESS_COW, "access %d", (int)cmd->view.access);
		check_owner(&cmd->view.owner);
		CHECK(!rfs_view_decl_check(&cmd->view, why, sizeof(why)), "view fails check: %s",
		      why);
		CHECK(!cmd->name && region_empty(&cmd->region), "view command with other fields");
		return;
	case RFS_CMD_REMOVE:
	case RFS_CMD_FLUSH:
		CHECK(nw == 2 && !strcmp(w[0], cmd->verb == RFS_CMD_FLUSH ? "flush" : "remove"),
		      "remove/flush verb or argument count wrong");
		CHECK(cmd->name && !strcmp(cmd->name, w[1]), "name not '%s'", w[1]);
		CHECK((cmd->verb == RFS_CMD_FLUSH && !strcmp(cmd->name, "all")) ||
			      !rfs_name_check(cmd->name, NULL, 0),
		      "bad name '%s'", cmd->name);
		break;
	case RFS_CMD_COMMIT:
	case RFS_CMD_DISCARD:
		CHECK(nw == 2 && !strcmp(w[0], cmd->verb == RFS_CMD_COMMIT ? "commit" : "discard"),
		      "commit/discard verb or argument count wrong");
		CHECK(cmd->name && !strcmp(cmd->name, w[1]), "name not '%s'", w[1]);
		CHECK(!rfs_name_check(cmd->name, NULL, 0), "bad name '%s'", cmd->name);
		break;
	case RFS_CMD_RELOAD:
		CHECK(nw == 1 && !strcmp(w[0], "reload"), "RFS_CMD_RELOAD wrong");
		CHECK(!cmd->name, "reload with a name");
		break;
	default:
		CHECK(0, "verb %d", (int)cmd->verb);
	}
	CHECK(region_empty(&cmd->region) && view_empty(&cmd->view), "declaration set for verb %d",
	      (int)cmd->verb);
	if (cmd->verb == RFS_CMD_NONE || cmd->verb == RFS_CMD_RELOAD)
		CHECK(!cmd->name, "name set for verb %d", (int)cmd->verb);
}

/* The printed form of word reads back as exactly that word. */
static void check_round_trip(const char *word)
{
	size_t n = rfs_quote(word, NULL, 0);
	char *q = malloc(n + 1), *buf = malloc(n + 1), *argv[2];
	int argc = -1, ret;

	if (!q || !buf)
		goto out;
	CHECK(rfs_quote(word, q, n + 1) == n, "rfs_quote('%s') length differs", word);
	CHECK(n + 1 <= RFS_QUOTED_MAX(strlen(word)), "quoted '%s' longer than the bound", word);
	CHECK(!strchr(q, '\n'), "quoted '%s' spans lines", word);
	ret = rfs_words_split(q, buf, argv, 2, &argc, NULL, 0);
	CHECK(ret == 0 && argc == 1 && !strcmp(argv[0], word),
	      "'%s' quoted as '%s' reads back as %d word(s) (%d)", word, q, argc, ret);
out:
	free(q);
	free(buf);
}

static void one_line(const char *line)
{
	static const struct rfs_command zero;
	struct rfs_command cmd, again;
	char err[RFS_ERR_MAX], small[5];
	char *copy, *w[MAX_WORDS], *eq;
	int ret, ret2, split, nw = 0;

	cur_line = line;

	/* The words, as the command grammar reads the line. */
	copy = malloc(strlen(line) + 1);
	if (!copy)
		return;
	split = rfs_words_split(line, copy, w, MAX_WORDS, &nw, NULL, 0);
	CHECK(split == 0 || split == -EINVAL || split == -E2BIG, "rfs_words_split returned %d",
	      split);

	for (int i = 0; i < nw && i < 8; i++) {
		check_scalars(w[i]);
		check_round_trip(w[i]);
		eq = strchr(w[i], '=');
		if (eq)
			check_scalars(eq + 1);
	}

	memset(err, 0, sizeof(err));
	ret = rfs_command_parse(line, &cmd, err, sizeof(err));
	if (ret == 0) {
		CHECK(split == 0, "accepted a line the tokenizer refuses (%d)", split);
		check_success(&cmd, w, nw);
	} else {
		CHECK(ret == -EINVAL || ret == -ENOMEM, "returned %d", ret);
		CHECK(err[0], "error %d without a message", ret);
		CHECK(memchr(err, '\0', sizeof(err)), "error message not terminated");
		CHECK(!strchr(err, '\n'), "error message spans lines: %s", err);
		CHECK(!memcmp(&cmd, &zero, sizeof(zero)), "command not emptied after an error");
		CHECK(split || nw > 0, "blank line rejected: %s", err);
	}
	/* A blank line, or one whose first word starts with an unquoted '#', is no command. */
	if (split == 0 && nw == 0)
		CHECK(ret == 0 && cmd.verb == RFS_CMD_NONE, "comment line rejected (%d): %s", ret,
		      err);

	memset(small, 'X', sizeof(small));
	ret2 = rfs_command_parse(line, &again, small, sizeof(small) - 1);
	CHECK(ret2 == ret, "returned %d with a full error buffer, %d with a tiny one", ret, ret2);
	CHECK(small[sizeof(small) - 1] == 'X', "tiny error buffer overrun");
	rfs_command_free(&again);
	ret2 = rfs_command_parse(line, &again, NULL, 0);
	CHECK(ret2 == ret, "returned %d with an error buffer, %d without", ret, ret2);
	rfs_command_free(&again);

	rfs_command_free(&cmd);
	CHECK(!memcmp(&cmd, &zero, sizeof(zero)), "rfs_command_free left fields");
	rfs_command_free(&cmd); /* idempotent */
	free(copy);
	cur_line = "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *line, *next;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* an embedded NUL ends the text, as in a C string */
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		one_line(line);
	}
	free(text);
	return 0;
}
