/*
 * libFuzzer harness for the control-command parser (conf/command.c), and
 * through it the quoting rule (quote.c), the key grammar (decl.c) and the
 * scalar parsers (parse.c). The input is split into lines at '\n', as
 * rfs_command_run() does, and each line goes to rfs_command_parse().
 *
 * The oracle is a reference parser written here from the rules in
 * conf/quote.h, conf/command.h and conf/config.h (tests/fuzz/ref.h for the
 * keys): its tokenizer must find the same words as rfs_words_split(), and
 * its command model must accept exactly the lines rfs_command_parse()
 * accepts, with the same verb, name and declaration, field by field
 * (region, view of a file or of a region, dir, remove, flush, commit,
 * discard, seal, reload). Invariants besides:
 *
 *  - success: only the fields of the verb are set, names pass
 *    rfs_name_check(), the declaration checks agree;
 *  - failure: -EINVAL or -ENOMEM, a non-empty one-line printable message, an
 *    emptied command;
 *  - the result does not depend on the error buffer;
 *  - every word printed by rfs_quote() reads back as that one word, and the
 *    line rebuilt from its words so printed parses to the same command
 *    (what stats prints, remove accepts);
 *  - each word, and each key=value word's value, through rfs_parse_size(),
 *    rfs_parse_mode(), rfs_parse_bool(), rfs_parse_huge() and
 *    rfs_name_check() agrees with the reference scalar parsers.
 *
 * A broken invariant calls abort() after printing what broke.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/command.h"
#include "conf/quote.h"

#define MAX_WORDS 64
/* Words a command may have (command.c's MAX_ARGS): more are "too many arguments". */
#define CMD_WORDS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *cur_line = "";
#define FUZZ_NAME  "fuzz_command"
#define FUZZ_WHERE cur_line
#include "tests/fuzz/check.h"
#include "tests/fuzz/ref.h"

static void check_scalars(const char *s)
{
	uint64_t v = 12345, rv = 0;
	mode_t m = 0123, rm = 0;
	bool b = false, rb = false;
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

	ret = rfs_parse_bool(s, &b);
	ok = ref_bool(s, &rb);
	CHECK((ret == 0) == ok && (ret || b == rb),
	      "rfs_parse_bool('%s') returned %d (%d), "
	      "reference %d (%d)",
	      s, ret, b, ok, rb);

	CHECK(ref_str_eq(rfs_parse_huge(s), ref_huge(s)), "rfs_parse_huge('%s') differs", s);

	why[0] = '\0';
	ret = rfs_name_check(s, why, sizeof(why));
	ok = ref_name(s);
	CHECK((ret == 0) == ok, "rfs_name_check('%s') returned %d (%s), reference %s", s, ret, why,
	      ok ? "accepts" : "rejects");
	CHECK(ret ? ret == -EINVAL && why[0] : 1, "rfs_name_check('%s'): no reason", s);
	CHECK(rfs_name_check(s, NULL, 0) == ret, "rfs_name_check('%s') without err differs", s);
}

/* ---- the reference tokenizer, from conf/quote.h ---- */

static bool ref_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The escape after a backslash at p into *out: bytes it takes, or 0 if it is refused. */
static int ref_escape(const char *p, char *out)
{
	int hi, lo;

	switch (*p) {
	case 'n':
		*out = '\n';
		return 1;
	case 't':
		*out = '\t';
		return 1;
	case 'r':
		*out = '\r';
		return 1;
	case 'x':
		hi = ref_hexval(p[1]);
		lo = hi < 0 ? -1 : ref_hexval(p[2]);
		if (lo < 0 || hi + lo == 0)
			return 0;
		*out = (char)(hi * 16 + lo);
		return 3;
	}
	if (!*p || ref_alnum(*p))
		return 0;
	*out = *p;
	return 1;
}

/* As rfs_words_split(): 0, -EINVAL or -E2BIG; out has strlen(line) + 1 bytes. */
static int ref_split(const char *p, char *o, char **w, int max, int *n)
{
	enum { GAP, WORD, SQUOTE, DQUOTE } st = GAP;
	int k;

	*n = 0;
	for (;; p++) {
		switch (st) {
		case GAP:
			if (ref_blank(*p))
				continue;
			if (!*p || (*n == 0 && *p == '#'))
				return 0;
			if (*n == max)
				return -E2BIG;
			w[(*n)++] = o;
			st = WORD;
			/* fall through */
		case WORD:
			if (!*p || ref_blank(*p)) {
				*o++ = '\0';
				if (!*p)
					return 0;
				st = GAP;
			} else if (*p == '\'') {
				st = SQUOTE;
			} else if (*p == '"') {
				st = DQUOTE;
			} else if (*p == '\\') {
				k = ref_escape(p + 1, o++);
				if (!k)
					return -EINVAL;
				p += k;
			} else {
				*o++ = *p;
			}
			continue;
		case SQUOTE:
			if (!*p)
				return -EINVAL;
			if (*p == '\'')
				st = WORD;
			else
				*o++ = *p;
			continue;
		case DQUOTE:
			if (!*p)
				return -EINVAL;
			if (*p == '"') {
				st = WORD;
			} else if (*p == '\\') {
				k = ref_escape(p + 1, o++);
				if (!k)
					return -EINVAL;
				p += k;
			} else {
				*o++ = *p;
			}
			continue;
		}
	}
}

/* ---- the reference command model, from conf/command.h ---- */

/*
 * Whether the words make a command, and which: ref's strings point into the
 * words (cut at each '='), which must outlive it. From command.h: a verb, a
 * NAME where it takes one, then key=value words, each key at most once.
 */
static bool ref_command(char **w, int n, struct rfs_command *ref)
{
	const char *v = n ? w[0] : "";
	int i, j;

	memset(ref, 0, sizeof(*ref));
	if (n == 0)
		return true;
	if (!strcmp(v, "region") || !strcmp(v, "view") || !strcmp(v, "dir")) {
		if (n < 2 || !ref_name(w[1]))
			return false;
		ref->verb = v[0] == 'r' ? RFS_CMD_REGION : v[0] == 'v' ? RFS_CMD_VIEW : RFS_CMD_DIR;
		for (i = 2; i < n; i++) {
			char *eq = strchr(w[i], '=');

			if (!eq || eq == w[i])
				return false;
			*eq = '\0';
			for (j = 2; j < i; j++)
				if (!strcmp(w[j], w[i]))
					return false;
			if (ref->verb == RFS_CMD_REGION &&
			    !ref_region_key(&ref->region, w[i], eq + 1))
				return false;
			if (ref->verb == RFS_CMD_VIEW && !ref_view_key(&ref->view, w[i], eq + 1))
				return false;
			if (ref->verb == RFS_CMD_DIR && !ref_dir_key(&ref->dir, w[i], eq + 1))
				return false;
		}
		if (ref->verb == RFS_CMD_REGION)
			ref->region.name = w[1];
		else if (ref->verb == RFS_CMD_VIEW)
			ref->view.name = w[1];
		else
			ref->dir.name = w[1];
		return ref->verb != RFS_CMD_VIEW || ref_view_done(&ref->view);
	}
	if (!strcmp(v, "remove") || !strcmp(v, "flush") || !strcmp(v, "commit") ||
	    !strcmp(v, "discard")) {
		ref->verb = v[0] == 'r'	  ? RFS_CMD_REMOVE
			    : v[0] == 'f' ? RFS_CMD_FLUSH
			    : v[0] == 'c' ? RFS_CMD_COMMIT
					  : RFS_CMD_DISCARD;
		ref->name = n == 2 ? w[1] : NULL;
		return n == 2 &&
		       (ref_name(w[1]) || (ref->verb == RFS_CMD_FLUSH && !strcmp(w[1], "all")));
	}
	if (!strcmp(v, "seal")) {
		ref->verb = RFS_CMD_SEAL;
		ref->name = n >= 2 ? w[1] : NULL;
		if (n < 3 || !ref_name(w[1]))
			return false;
		for (i = 2; i < n; i++) {
			unsigned int seals;

			if (!ref_seals(w[i], &seals))
				return false;
			ref->seals |= seals;
		}
		return true;
	}
	if (!strcmp(v, "reload")) {
		ref->verb = RFS_CMD_RELOAD;
		return n == 1;
	}
	return false;
}

/* The first field in which two commands differ, or NULL. */
static const char *command_diff(const struct rfs_command *a, const struct rfs_command *b)
{
	const char *d;

	if (a->verb != b->verb)
		return "verb";
	if (!ref_str_eq(a->name, b->name))
		return "name";
	if (a->seals != b->seals)
		return "seals";
	d = ref_region_diff(&a->region, &b->region);
	if (d)
		return d;
	d = ref_view_diff(&a->view, &b->view);
	if (d)
		return d;
	return ref_dir_diff(&a->dir, &b->dir);
}

/* ---- invariants ---- */

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

static bool dir_empty(const struct rfs_dir_decl *d)
{
	static const struct rfs_dir_decl zero;

	return !memcmp(d, &zero, sizeof(zero));
}

/* Whatever the reference says: only the verb's own fields, and each valid. */
static void check_success(const struct rfs_command *cmd)
{
	char why[RFS_ERR_MAX];
	bool decl = cmd->verb == RFS_CMD_REGION || cmd->verb == RFS_CMD_VIEW ||
		    cmd->verb == RFS_CMD_DIR;

	why[0] = '\0';

	CHECK(cmd->verb <= RFS_CMD_SEAL, "verb %d", (int)cmd->verb);
	CHECK(!cmd->seals == (cmd->verb != RFS_CMD_SEAL), "seals for verb %d", (int)cmd->verb);
	CHECK(region_empty(&cmd->region) == (cmd->verb != RFS_CMD_REGION) &&
		      view_empty(&cmd->view) == (cmd->verb != RFS_CMD_VIEW) &&
		      dir_empty(&cmd->dir) == (cmd->verb != RFS_CMD_DIR),
	      "declarations set for verb %d", (int)cmd->verb);
	CHECK(!cmd->name == (decl || cmd->verb == RFS_CMD_NONE || cmd->verb == RFS_CMD_RELOAD),
	      "name %s for verb %d", cmd->name ? "set" : "missing", (int)cmd->verb);
	if (cmd->name)
		CHECK(!rfs_name_check(cmd->name, NULL, 0) ||
			      (cmd->verb == RFS_CMD_FLUSH && !strcmp(cmd->name, "all")),
		      "bad name '%s'", cmd->name);
	if (cmd->verb == RFS_CMD_REGION)
		CHECK(!rfs_region_decl_check(&cmd->region, why, sizeof(why)) &&
			      cmd->region.size <= REF_OFF_MAX &&
			      cmd->region.lifetime <= RFS_LIFE_CLOSE,
		      "region fails check: %s", why);
	if (cmd->verb == RFS_CMD_VIEW)
		CHECK(!rfs_view_decl_check(&cmd->view, why, sizeof(why)) &&
			      !cmd->view.file != !cmd->view.region &&
			      (!cmd->view.file || cmd->view.file[0] == '/') &&
			      (!cmd->view.region || !rfs_name_check(cmd->view.region, NULL, 0)),
		      "view fails check: %s", why);
	if (cmd->verb == RFS_CMD_DIR)
		CHECK(!rfs_dir_decl_check(&cmd->dir, why, sizeof(why)) &&
			      cmd->dir.lifetime <= RFS_LIFE_CLOSE,
		      "dir fails check: %s", why);
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

/* The line rebuilt from its words in printed form parses as the line did. */
static void check_requoted(char **w, int nw, int ret, const struct rfs_command *cmd)
{
	struct rfs_command again;
	size_t len = 1;
	char *line, *p;
	int ret2;

	for (int i = 0; i < nw; i++)
		len += rfs_quote(w[i], NULL, 0) + 1;
	line = malloc(len);
	if (!line)
		return;
	p = line;
	*p = '\0';
	for (int i = 0; i < nw; i++) {
		p += rfs_quote(w[i], p, len - (size_t)(p - line));
		*p++ = i + 1 < nw ? ' ' : '\0';
	}
	ret2 = rfs_command_parse(line, &again, NULL, 0);
	CHECK(ret2 == ret, "printed as '%s' it returns %d, not %d", line, ret2, ret);
	if (!ret)
		CHECK(!command_diff(cmd, &again), "printed as '%s' its %s differs", line,
		      command_diff(cmd, &again));
	rfs_command_free(&again);
	free(line);
}

static void one_line(const char *line)
{
	static const struct rfs_command zero;
	struct rfs_command cmd, again, ref;
	char err[RFS_ERR_MAX], small[5];
	char *copy, *rcopy, *w[MAX_WORDS], *rw[MAX_WORDS], *eq;
	int ret, ret2, split, rsplit, nw = 0, rnw = 0;
	bool accept;

	cur_line = line;
	copy = malloc(strlen(line) + 1);
	rcopy = malloc(strlen(line) + 1);
	if (!copy || !rcopy)
		goto out;

	/* The words: the tokenizer and the reference agree. */
	split = rfs_words_split(line, copy, w, MAX_WORDS, &nw, NULL, 0);
	rsplit = ref_split(line, rcopy, rw, MAX_WORDS, &rnw);
	CHECK(split == rsplit, "rfs_words_split returned %d, reference %d", split, rsplit);
	if (!split) {
		CHECK(nw == rnw, "%d words, reference %d", nw, rnw);
		for (int i = 0; i < nw; i++)
			CHECK(!strcmp(w[i], rw[i]), "word %d is '%s', reference '%s'", i, w[i],
			      rw[i]);
	}
	for (int i = 0; !split && i < nw && i < 8; i++) {
		check_scalars(w[i]);
		check_round_trip(w[i]);
		eq = strchr(w[i], '=');
		if (eq)
			check_scalars(eq + 1);
	}

	memset(err, 0, sizeof(err));
	ret = rfs_command_parse(line, &cmd, err, sizeof(err));
	CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM, "returned %d", ret);
	if (ret == 0) {
		check_success(&cmd);
	} else {
		CHECK(err[0], "error %d without a message", ret);
		CHECK(memchr(err, '\0', sizeof(err)), "error message not terminated");
		for (const char *c = err; *c; c++)
			CHECK((unsigned char)*c >= ' ' && *c != 0x7f,
			      "error message has control byte 0x%02x: %s", (unsigned char)*c, err);
		CHECK(!memcmp(&cmd, &zero, sizeof(zero)), "command not emptied after an error");
	}

	/* The reference decides on the words a command may have. */
	rsplit = ref_split(line, rcopy, rw, CMD_WORDS, &rnw);
	accept = !rsplit && ref_command(rw, rnw, &ref);
	if (ret != -ENOMEM)
		CHECK(!ret == accept, "returned %d (%s), reference %s", ret, err,
		      accept ? "accepts" : "refuses");
	if (!ret)
		CHECK(!command_diff(&cmd, &ref), "%s differs from the reference's",
		      command_diff(&cmd, &ref));
	if (!split && ret != -ENOMEM)
		check_requoted(w, nw, ret, &cmd);

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
out:
	free(copy);
	free(rcopy);
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
