/*
 * libFuzzer harness for the INI config loader (conf/config.c, decl.c,
 * parse.c): rfs_config_load_string() on arbitrary text, and the same bytes
 * through rfs_config_load_file() (the getline() reader).
 *
 * The oracle is a model of the grammar written from README, conf/config.h
 * and conf/example.ini (tests/fuzz/ref.h for the keys), for plain text (see
 * ref_plain(): printable ASCII, no inline comments, no continuation lines):
 * [regionfs] once, [region:NAME], [view:NAME] (file = PATH or region = NAME,
 * exactly one) and [dir:NAME], names that pass the name rule and do not
 * clash (a name cannot be a file and a directory; a [dir:] may hold others),
 * each key at most once in a section. The loader must accept exactly what
 * the model accepts, with the same config field by field. Invariants that
 * must hold whatever the input:
 *
 *  - success: every name passes rfs_name_check() and clashes with no other,
 *    every view has an absolute file or a valid region name (not both) and a
 *    window that fits in off_t, every value is in range, allowed_roots is a
 *    NULL-terminated list of absolute paths, the declaration checks agree,
 *    and each declaration written as a control command parses to the same
 *    declaration;
 *  - failure: -EINVAL or -ENOMEM, a message "fuzz:LINE: reason" (never the
 *    guard for line_scan() and inih disagreeing), and an emptied config;
 *  - the result does not depend on the error buffer (full, tiny or none) or
 *    on reading from a string or from a file.
 *
 * A broken invariant calls abort() after printing what broke. Built and run
 * by `make fuzz` (tests/fuzz/run.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/command.h"
#include "conf/config.h"
#include "conf/quote.h"

#define LABEL	"fuzz"
#define OFF_MAX ((uint64_t)INT64_MAX)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME  "fuzz_config"
#define FUZZ_WHERE NULL
#include "tests/fuzz/check.h"
#include "tests/fuzz/ref.h"

/*
 * a and b cannot both be declared: the same name, or one a path inside the
 * other while the other is no [dir:]. Written independently of config.c.
 */
static bool clash(const char *a, bool a_dir, const char *b, bool b_dir)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la == lb)
		return !strcmp(a, b);
	if (la > lb)
		return clash(b, b_dir, a, a_dir);
	return !strncmp(a, b, la) && b[la] == '/' && !a_dir;
}

/* The i-th declared name of any kind (regions, views, dirs), and whether it is a dir. */
static const char *decl_name(const struct rfs_config *cfg, size_t i, bool *is_dir)
{
	*is_dir = i >= cfg->n_regions + cfg->n_views;
	if (i < cfg->n_regions)
		return cfg->regions[i].name;
	if (i < cfg->n_regions + cfg->n_views)
		return cfg->views[i - cfg->n_regions].name;
	return cfg->dirs[i - cfg->n_regions - cfg->n_views].name;
}

static void check_owner(const struct rfs_owner *o, const char *name)
{
	CHECK(!o->has_mode ? o->mode == 0 : o->mode <= 07777, "mode %o of '%s'",
	      (unsigned int)o->mode, name);
	CHECK(!o->has_uid || o->uid != (uid_t)-1, "uid -1 accepted for '%s'", name);
	CHECK(!o->has_gid || o->gid != (gid_t)-1, "gid -1 accepted for '%s'", name);
	CHECK(o->has_uid || o->uid == 0, "uid without has_uid for '%s'", name);
	CHECK(o->has_gid || o->gid == 0, "gid without has_gid for '%s'", name);
}

/*
 * The same declaration written as a control command (every field it has,
 * each word in printed form) parses back to it: a key means the same thing
 * in a section and in a command.
 */
static void check_as_command(const char *verb, const char *name, const char *const *keys,
			     const struct rfs_command *want)
{
	struct rfs_command cmd;
	char err[RFS_ERR_MAX], *line, *p;
	size_t len = strlen(verb) + rfs_quote(name, NULL, 0) + 2;
	const char *d;
	int ret;

	for (size_t i = 0; keys[i]; i++)
		len += rfs_quote(keys[i], NULL, 0) + 1;
	line = malloc(len);
	if (!line)
		return;
	p = line + sprintf(line, "%s ", verb);
	p += rfs_quote(name, p, len - (size_t)(p - line));
	for (size_t i = 0; keys[i]; i++) {
		*p++ = ' ';
		p += rfs_quote(keys[i], p, len - (size_t)(p - line));
	}
	err[0] = '\0';
	ret = rfs_command_parse(line, &cmd, err, sizeof(err));
	CHECK(ret == 0 || ret == -ENOMEM, "declaration of '%s' as command '%s' refused: %s", name,
	      line, err);
	if (!ret) {
		d = cmd.verb != want->verb	   ? "verb"
		    : want->verb == RFS_CMD_REGION ? ref_region_diff(&cmd.region, &want->region)
		    : want->verb == RFS_CMD_VIEW   ? ref_view_diff(&cmd.view, &want->view)
						   : ref_dir_diff(&cmd.dir, &want->dir);
		CHECK(!d, "declaration of '%s' as command '%s': %s differs", name, line, d);
	}
	rfs_command_free(&cmd);
	free(line);
}

/* key=value words for an owner's fields, at *k on; returns the next free slot. */
static size_t owner_words(const struct rfs_owner *o, char (*buf)[32], size_t k)
{
	if (o->has_mode)
		snprintf(buf[k++], 32, "mode=%o", (unsigned int)o->mode);
	if (o->has_uid)
		snprintf(buf[k++], 32, "uid=%u", (unsigned int)o->uid);
	if (o->has_gid)
		snprintf(buf[k++], 32, "gid=%u", (unsigned int)o->gid);
	return k;
}

static const char *life_word(enum rfs_life l)
{
	return l == RFS_LIFE_CLOSE ? "lifetime=close" : "lifetime=persist";
}

static void region_as_command(const struct rfs_region_decl *r)
{
	struct rfs_command want = {.verb = RFS_CMD_REGION, .region = *r};
	char buf[8][32], seals[64];
	const char *keys[10];
	size_t k = 0, i;

	want.region.line = 0;
	snprintf(buf[k++], 32, "size=%llu", (unsigned long long)r->size);
	snprintf(buf[k++], 32, "prealloc=%s", r->prealloc ? "yes" : "no");
	if (r->lifetime != RFS_LIFE_UNSET)
		snprintf(buf[k++], 32, "%s", life_word(r->lifetime));
	k = owner_words(&r->owner, buf, k);
	for (i = 0; i < k; i++)
		keys[i] = buf[i];
	if (r->seals) {
		static const char *const words[] = {"shrink", "grow", "write", "future_write"};
		size_t len = (size_t)snprintf(seals, sizeof(seals), "seals=");

		for (unsigned int b = 0; b < 4; b++)
			if (r->seals & (1u << b))
				len += (size_t)snprintf(seals + len, sizeof(seals) - len, "%s%s",
							len > 6 ? "," : "", words[b]);
		keys[k++] = seals;
	}
	keys[k] = NULL;
	check_as_command("region", r->name, keys, &want);
}

static void view_as_command(const struct rfs_view_decl *v)
{
	static const char *const access[] = {"access=rw", "access=ro", "access=cow"};
	struct rfs_command want = {.verb = RFS_CMD_VIEW, .view = *v};
	const char *src = v->file ? v->file : v->region;
	char buf[8][32], *backing = malloc(strlen(src) + 8);
	const char *keys[10];
	size_t k = 0, i, n = 0;

	if (!backing)
		return;
	sprintf(backing, "%s=%s", v->file ? "file" : "region", src);
	want.view.line = 0;
	snprintf(buf[k++], 32, "offset=0x%llx", (unsigned long long)v->offset);
	if (v->has_length)
		snprintf(buf[k++], 32, "length=%llu", (unsigned long long)v->length);
	k = owner_words(&v->owner, buf, k);
	keys[n++] = backing;
	keys[n++] = access[v->access];
	for (i = 0; i < k; i++)
		keys[n++] = buf[i];
	keys[n] = NULL;
	check_as_command("view", v->name, keys, &want);
	free(backing);
}

static void dir_as_command(const struct rfs_dir_decl *d)
{
	struct rfs_command want = {.verb = RFS_CMD_DIR, .dir = *d};
	char buf[8][32];
	const char *keys[9];
	size_t k = 0, i;

	want.dir.line = 0;
	if (d->lifetime != RFS_LIFE_UNSET)
		snprintf(buf[k++], 32, "%s", life_word(d->lifetime));
	if (d->has_size)
		snprintf(buf[k++], 32, "size=%llu", (unsigned long long)d->size);
	k = owner_words(&d->owner, buf, k);
	for (i = 0; i < k; i++)
		keys[i] = buf[i];
	keys[k] = NULL;
	check_as_command("dir", d->name, keys, &want);
}

static void check_success(const struct rfs_config *cfg)
{
	char why[RFS_ERR_MAX];
	const char *name, *other;
	size_t i, j, n = cfg->n_regions + cfg->n_views + cfg->n_dirs;
	bool is_dir, other_dir;
	int prev_line = 0;

	CHECK(cfg->path == NULL, "path set for a string");
	CHECK(cfg->has_size || cfg->size == 0, "size %llu without has_size",
	      (unsigned long long)cfg->size);
	CHECK(cfg->has_window_max || cfg->window_max == 0, "window_max %llu without has_window_max",
	      (unsigned long long)cfg->window_max);
	CHECK(!cfg->huge || ref_huge(cfg->huge), "huge '%s'", cfg->huge);
	CHECK(cfg->allowed_roots != NULL, "allowed_roots NULL on success");
	CHECK(cfg->allowed_roots[cfg->n_allowed_roots] == NULL,
	      "allowed_roots not NULL-terminated");
	for (i = 0; i < cfg->n_allowed_roots; i++) {
		const char *r = cfg->allowed_roots[i];

		CHECK(r && r[0] == '/', "allowed root '%s' not absolute", r ? r : "(null)");
		CHECK(!strstr(r, "/./") && !strstr(r, "/../") &&
			      strcmp(r + (strlen(r) >= 2 ? strlen(r) - 2 : 0), "/.") &&
			      strcmp(r + (strlen(r) >= 3 ? strlen(r) - 3 : 0), "/.."),
		      "allowed root '%s' has a '.' or '..' component", r);
		for (j = 0; r[j]; j++)
			CHECK(r[j] != ' ' && r[j] != '\t', "allowed root '%s' has a blank", r);
	}
	CHECK(!cfg->n_regions == !cfg->regions && !cfg->n_views == !cfg->views &&
		      !cfg->n_dirs == !cfg->dirs && n <= 100000,
	      "bad declaration arrays");

	for (i = 0; i < cfg->n_regions; i++) {
		const struct rfs_region_decl *r = &cfg->regions[i];

		CHECK(r->name, "region %zu without a name", i);
		CHECK(!rfs_name_check(r->name, why, sizeof(why)), "region name '%s' invalid: %s",
		      r->name, why);
		CHECK(r->size <= OFF_MAX, "region '%s' size %llu > INT64_MAX", r->name,
		      (unsigned long long)r->size);
		CHECK(r->lifetime <= RFS_LIFE_CLOSE, "region '%s' lifetime %d", r->name,
		      (int)r->lifetime);
		CHECK(r->line > prev_line, "region '%s' line %d after %d", r->name, r->line,
		      prev_line);
		prev_line = r->line;
		check_owner(&r->owner, r->name);
		CHECK(!rfs_region_decl_check(r, why, sizeof(why)), "region '%s' fails check: %s",
		      r->name, why);
		region_as_command(r);
	}
	prev_line = 0;
	for (i = 0; i < cfg->n_views; i++) {
		const struct rfs_view_decl *v = &cfg->views[i];

		CHECK(v->name, "view %zu without a name", i);
		CHECK(!rfs_name_check(v->name, why, sizeof(why)), "view name '%s' invalid: %s",
		      v->name, why);
		/* A window of a file (an absolute path) or of a region (a name). */
		CHECK(!v->file != !v->region, "view '%s': file '%s' and region '%s'", v->name,
		      v->file ? v->file : "(null)", v->region ? v->region : "(null)");
		CHECK(!v->file || v->file[0] == '/', "view '%s' file '%s' not absolute", v->name,
		      v->file);
		CHECK(!v->region || !rfs_name_check(v->region, why, sizeof(why)),
		      "view '%s' region '%s' invalid: %s", v->name, v->region, why);
		CHECK(v->offset <= OFF_MAX, "view '%s' offset %llu > INT64_MAX", v->name,
		      (unsigned long long)v->offset);
		if (v->has_length) {
			CHECK(v->length > 0, "view '%s' has length 0", v->name);
			CHECK(v->length <= OFF_MAX - v->offset,
			      "view '%s' offset %llu + length %llu overflows off_t", v->name,
			      (unsigned long long)v->offset, (unsigned long long)v->length);
		} else {
			CHECK(v->length == 0, "view '%s' length %llu without has_length", v->name,
			      (unsigned long long)v->length);
		}
		CHECK(v->access == RFS_ACCESS_RW || v->access == RFS_ACCESS_RO ||
			      v->access == RFS_ACCESS_COW,
		      "view '%s' access %d", v->name, (int)v->access);
		CHECK(v->line > prev_line, "view '%s' line %d after %d", v->name, v->line,
		      prev_line);
		prev_line = v->line;
		check_owner(&v->owner, v->name);
		CHECK(!rfs_view_decl_check(v, why, sizeof(why)), "view '%s' fails check: %s",
		      v->name, why);
		view_as_command(v);
	}
	prev_line = 0;
	for (i = 0; i < cfg->n_dirs; i++) {
		const struct rfs_dir_decl *d = &cfg->dirs[i];

		CHECK(d->name, "dir %zu without a name", i);
		CHECK(!rfs_name_check(d->name, why, sizeof(why)), "dir name '%s' invalid: %s",
		      d->name, why);
		CHECK(d->lifetime <= RFS_LIFE_CLOSE, "dir '%s' lifetime %d", d->name,
		      (int)d->lifetime);
		CHECK(d->line > prev_line, "dir '%s' line %d after %d", d->name, d->line,
		      prev_line);
		prev_line = d->line;
		check_owner(&d->owner, d->name);
		CHECK(!rfs_dir_decl_check(d, why, sizeof(why)), "dir '%s' fails check: %s", d->name,
		      why);
		dir_as_command(d);
	}

	/* No two names may clash: regions, views and dirs alike. */
	for (i = 0; i < n; i++) {
		name = decl_name(cfg, i, &is_dir);
		for (j = i + 1; j < n; j++) {
			other = decl_name(cfg, j, &other_dir);
			CHECK(!clash(name, is_dir, other, other_dir),
			      "names '%s'%s and '%s'%s clash", name, is_dir ? " (dir)" : "", other,
			      other_dir ? " (dir)" : "");
		}
	}
}

static void check_failure(int ret, const struct rfs_config *cfg, const char *err)
{
	static const struct rfs_config zero;
	const char *p;

	CHECK(ret == -EINVAL || ret == -ENOMEM, "unexpected return %d", ret);
	CHECK(err[0], "empty error message (return %d)", ret);
	CHECK(!strncmp(err, LABEL ":", strlen(LABEL ":")), "error '%s' does not start with '%s:'",
	      err, LABEL);
	/* "fuzz:LINE: reason", LINE >= 1 */
	p = err + strlen(LABEL ":");
	CHECK(*p >= '1' && *p <= '9', "error '%s' has no line number", err);
	while (*p >= '0' && *p <= '9')
		p++;
	CHECK(p[0] == ':' && p[1] == ' ' && p[2], "error '%s' is not 'label:line: reason'", err);
	/* on_key()'s guard for line_scan() and inih disagreeing on a line. */
	CHECK(strcmp(p + 2, "line not understood (indented section header?)"),
	      "line_scan() and inih disagree: '%s'", err);
	CHECK((ret == -ENOMEM) == !strcmp(p + 2, "out of memory"), "'%s' with return %d", err, ret);
	CHECK(!memcmp(cfg, &zero, sizeof(zero)), "config not emptied after an error");
}

/* The first thing in which two configs differ (path aside), or NULL. */
static const char *cfg_diff(const struct rfs_config *a, const struct rfs_config *b)
{
	static char what[64];
	const char *d;
	size_t i;

	if (a->size != b->size || a->has_size != b->has_size)
		return "size";
	if (a->window_max != b->window_max || a->has_window_max != b->has_window_max)
		return "window_max";
	if (a->user_size != b->user_size || a->group_size != b->group_size)
		return "user_size or group_size";
	if (a->xattr != b->xattr || a->writeback != b->writeback ||
	    a->strict_dirty != b->strict_dirty || a->owner_only != b->owner_only ||
	    a->noswap != b->noswap)
		return "a [regionfs] flag";
	if (!ref_str_eq(a->huge, b->huge))
		return "huge";
	if (a->n_allowed_roots != b->n_allowed_roots)
		return "number of allowed_roots";
	for (i = 0; i < a->n_allowed_roots; i++)
		if (!ref_str_eq(a->allowed_roots[i], b->allowed_roots[i]))
			return "allowed_roots";
	if (a->n_regions != b->n_regions || a->n_views != b->n_views || a->n_dirs != b->n_dirs)
		return "number of declarations";
	for (i = 0, d = NULL; !d && i < a->n_regions; i++)
		d = ref_region_diff(&a->regions[i], &b->regions[i]);
	for (i = 0; !d && i < a->n_views; i++)
		d = ref_view_diff(&a->views[i], &b->views[i]);
	for (i = 0; !d && i < a->n_dirs; i++)
		d = ref_dir_diff(&a->dirs[i], &b->dirs[i]);
	if (!d)
		return NULL;
	snprintf(what, sizeof(what), "declaration %zu's %s", i - 1, d);
	return what;
}

/* Compare two successful loads of the same text. */
static void check_same(const struct rfs_config *a, const struct rfs_config *b, const char *what)
{
	const char *d = cfg_diff(a, b);

	CHECK(!d, "%s: %s differs", what, d);
}

/* ---- the reference model, for plain INI text ---- */

#define REF_LINE  150 /* well within inih's line (INI_MAX_LINE) */
#define REF_DECLS 32  /* of each kind: more and the model passes */
#define REF_KEYS  32
#define REF_ROOTS 32

enum ref_verdict { REF_PASS = -1, REF_REFUSE, REF_ACCEPT };

struct ref_model {
	struct rfs_config cfg; /* its arrays are those below, its strings in the text */
	struct rfs_region_decl regions[REF_DECLS];
	struct rfs_view_decl views[REF_DECLS];
	struct rfs_dir_decl dirs[REF_DECLS];
	char *roots[REF_ROOTS + 1];
	enum { IN_NONE, IN_GLOBAL, IN_REGION, IN_VIEW, IN_DIR } in;
	const char *keys[REF_KEYS]; /* given in the open section */
	size_t n_keys;
	bool have_global;
};

/*
 * The subset of INI the model knows without modelling inih's corners:
 * printable ASCII, lines of at most REF_LINE bytes, ';' only to start a
 * comment line, and no indented line but a blank one (so no continuation).
 */
static bool ref_plain(const char *t)
{
	const char *line, *c;
	size_t n;

	for (line = t; *line; line += n + (line[n] == '\n')) {
		n = strcspn(line, "\n");
		if (n > REF_LINE)
			return false;
		for (c = line; c < line + n; c++)
			if (*c < ' ' || *c > '~' || (*c == ';' && line[0] != ';' && line[0] != '#'))
				return false;
		if (line[0] == ' ' && strspn(line, " ") < n)
			return false;
	}
	return true;
}

static void ref_rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

/* An allowed root: absolute, and no component "." or "..". */
static bool ref_root(const char *r)
{
	const char *c;
	size_t n;

	if (r[0] != '/')
		return false;
	for (c = r + 1; *c; c += n + (c[n] == '/')) {
		n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

static enum ref_verdict ref_global_key(struct ref_model *m, const char *k, char *v)
{
	struct rfs_config *c = &m->cfg;
	char *tok;

	if (!strcmp(k, "size"))
		return c->has_size = ref_size(v, &c->size);
	if (!strcmp(k, "window_max"))
		return c->has_window_max = ref_size(v, &c->window_max);
	if (!strcmp(k, "xattr"))
		return ref_bool(v, &c->xattr);
	if (!strcmp(k, "writeback"))
		return ref_bool(v, &c->writeback);
	if (!strcmp(k, "strict_dirty"))
		return ref_bool(v, &c->strict_dirty);
	if (!strcmp(k, "owner_only"))
		return ref_bool(v, &c->owner_only);
	if (!strcmp(k, "noswap"))
		return ref_bool(v, &c->noswap);
	if (!strcmp(k, "user_size"))
		return ref_size(v, &c->user_size);
	if (!strcmp(k, "group_size"))
		return ref_size(v, &c->group_size);
	if (!strcmp(k, "huge"))
		return (c->huge = ref_huge(v)) != NULL;
	if (strcmp(k, "allowed_roots"))
		return REF_REFUSE;
	for (tok = strtok(v, " "); tok; tok = strtok(NULL, " ")) {
		if (!ref_root(tok))
			return REF_REFUSE;
		if (c->n_allowed_roots == REF_ROOTS)
			return REF_PASS;
		m->roots[c->n_allowed_roots++] = tok;
	}
	return REF_ACCEPT;
}

/* The open section ends: a view needs exactly one of file and region. */
static enum ref_verdict ref_close(struct ref_model *m)
{
	bool ok = m->in != IN_VIEW || ref_view_done(&m->views[m->cfg.n_views - 1]);

	m->in = IN_NONE;
	return ok ? REF_ACCEPT : REF_REFUSE;
}

static bool ref_clash(const char *a, bool a_dir, const char *b, bool b_dir)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > lb)
		return ref_clash(b, b_dir, a, a_dir);
	return !strncmp(a, b, la) && (la == lb || (b[la] == '/' && !a_dir));
}

/* A section header, "[" and "]" taken off; title is cut in place. */
static enum ref_verdict ref_open(struct ref_model *m, char *title, int lineno)
{
	struct rfs_config *c = &m->cfg;
	char *name;
	size_t i;
	bool dir;

	if (ref_close(m) == REF_REFUSE)
		return REF_REFUSE;
	m->n_keys = 0;
	title += strspn(title, " ");
	ref_rstrip(title);
	if (!strcmp(title, "regionfs")) {
		if (m->have_global)
			return REF_REFUSE;
		m->have_global = true;
		m->in = IN_GLOBAL;
		return REF_ACCEPT;
	}
	name = strchr(title, ':');
	if (!name)
		return REF_REFUSE;
	*name++ = '\0';
	name += strspn(name, " ");
	/* Owners' budgets name users and groups (NSS): not modelled. */
	if (!strcmp(title, "user") || !strcmp(title, "group"))
		return REF_PASS;
	if (strcmp(title, "region") && strcmp(title, "view") && strcmp(title, "dir"))
		return REF_REFUSE;
	if (!ref_name(name))
		return REF_REFUSE;
	dir = title[0] == 'd';
	for (i = 0; i < c->n_regions; i++)
		if (ref_clash(name, dir, m->regions[i].name, false))
			return REF_REFUSE;
	for (i = 0; i < c->n_views; i++)
		if (ref_clash(name, dir, m->views[i].name, false))
			return REF_REFUSE;
	for (i = 0; i < c->n_dirs; i++)
		if (ref_clash(name, dir, m->dirs[i].name, true))
			return REF_REFUSE;
	if (c->n_regions == REF_DECLS || c->n_views == REF_DECLS || c->n_dirs == REF_DECLS)
		return REF_PASS;
	if (title[0] == 'r') {
		m->in = IN_REGION;
		m->regions[c->n_regions] = (struct rfs_region_decl){.name = name, .line = lineno};
		c->n_regions++;
	} else if (title[0] == 'v') {
		m->in = IN_VIEW;
		m->views[c->n_views] = (struct rfs_view_decl){.name = name, .line = lineno};
		c->n_views++;
	} else {
		m->in = IN_DIR;
		m->dirs[c->n_dirs] = (struct rfs_dir_decl){.name = name, .line = lineno};
		c->n_dirs++;
	}
	return REF_ACCEPT;
}

/* "key = value" (or "key: value"): inih splits at the first '=' or ':'. */
static enum ref_verdict ref_key(struct ref_model *m, char *line)
{
	struct rfs_config *c = &m->cfg;
	char *sep = strpbrk(line, "=:"), *v;
	size_t i;

	if (!sep || m->in == IN_NONE)
		return REF_REFUSE;
	*sep = '\0';
	ref_rstrip(line);
	v = sep + 1 + strspn(sep + 1, " ");
	/* README: "repeated keys ... are errors", whatever the key. */
	for (i = 0; i < m->n_keys; i++)
		if (!strcmp(m->keys[i], line))
			return REF_REFUSE;
	if (m->n_keys == REF_KEYS)
		return REF_PASS;
	m->keys[m->n_keys++] = line;
	switch (m->in) {
	case IN_GLOBAL:
		return ref_global_key(m, line, v);
	case IN_REGION:
		return ref_region_key(&m->regions[c->n_regions - 1], line, v);
	case IN_VIEW:
		return ref_view_key(&m->views[c->n_views - 1], line, v);
	default:
		return ref_dir_key(&m->dirs[c->n_dirs - 1], line, v);
	}
}

/* What loading text must give, REF_PASS for text outside ref_plain(). Cuts text. */
static enum ref_verdict ref_load(char *text, struct ref_model *m)
{
	enum ref_verdict r = REF_ACCEPT;
	char *line, *next;
	int lineno = 0;

	memset(m, 0, sizeof(*m));
	m->cfg.regions = m->regions;
	m->cfg.views = m->views;
	m->cfg.dirs = m->dirs;
	m->cfg.allowed_roots = m->roots;
	if (!ref_plain(text))
		return REF_PASS;
	for (line = text; r == REF_ACCEPT && *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		lineno++;
		ref_rstrip(line);
		if (!line[0] || line[0] == ' ' || line[0] == ';' || line[0] == '#')
			continue;
		if (line[0] != '[')
			r = ref_key(m, line);
		else if (!strchr(line, ']'))
			r = REF_REFUSE; /* inih: no closing ']' */
		else
			r = ref_open(m, (*strchr(line, ']') = '\0', line + 1), lineno);
	}
	return r == REF_ACCEPT ? ref_close(m) : r;
}

/* The loader and the model agree on plain text. */
static void check_model(const char *text, int ret, const struct rfs_config *cfg, const char *err)
{
	static struct ref_model m;
	char *copy = strdup(text);
	enum ref_verdict r;
	const char *d;

	if (!copy)
		return;
	r = ref_load(copy, &m);
	if (r == REF_ACCEPT) {
		CHECK(ret == 0 || ret == -ENOMEM, "refused (%s), model accepts", err);
		d = ret ? NULL : cfg_diff(cfg, &m.cfg);
		CHECK(!d, "%s differs from the model's", d);
	} else if (r == REF_REFUSE) {
		CHECK(ret != 0, "accepted, model refuses");
	}
	free(copy);
}

/* The error message without its "label:" prefix. */
static const char *after_label(const char *err, const char *label)
{
	size_t n = strlen(label);

	return !strncmp(err, label, n) && err[n] == ':' ? err + n + 1 : NULL;
}

/* A memfd reachable by path, to feed the same bytes to rfs_config_load_file(). */
static int file_fd = -2;
static char file_path[64];

static int put_file(const uint8_t *data, size_t size)
{
	if (file_fd == -2) {
		file_fd = memfd_create("fuzz_config", MFD_CLOEXEC);
		if (file_fd >= 0)
			snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
		if (file_fd >= 0 && access(file_path, R_OK)) {
			close(file_fd);
			file_fd = -1;
		}
	}
	if (file_fd < 0)
		return -1;
	if (ftruncate(file_fd, 0) || (size && pwrite(file_fd, data, size, 0) != (ssize_t)size))
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfs_config cfg, again;
	char err[RFS_ERR_MAX], small[6], ferr[RFS_ERR_MAX];
	const char *a, *b;
	char *text;
	bool has_nul;
	int ret, ret2;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	has_nul = memchr(data, '\0', size) != NULL;

	memset(err, 0, sizeof(err));
	ret = rfs_config_load_string(text, LABEL, &cfg, err, sizeof(err));
	CHECK(memchr(err, '\0', sizeof(err)), "error message not terminated");
	if (ret == 0) {
		CHECK(!err[0], "success with an error message '%s'", err);
		check_success(&cfg);
	} else {
		check_failure(ret, &cfg, err);
	}
	if (!has_nul)
		check_model(text, ret, &cfg, err);

	/* Tiny and missing error buffers: same result, no overflow. */
	memset(small, 'X', sizeof(small));
	ret2 = rfs_config_load_string(text, LABEL, &again, small, sizeof(small) - 1);
	CHECK(ret2 == ret, "return %d with a full error buffer, %d with a tiny one", ret, ret2);
	CHECK(small[sizeof(small) - 1] == 'X', "tiny error buffer overrun");
	CHECK(ret == 0 || !strncmp(small, err, sizeof(small) - 2),
	      "tiny error '%s' is no prefix of '%s'", small, err);
	if (ret2 == 0) {
		check_same(&cfg, &again, "tiny error buffer");
		rfs_config_free(&again);
	}
	ret2 = rfs_config_load_string(text, NULL, &again, NULL, 0);
	CHECK(ret2 == ret, "return %d with an error buffer, %d without", ret, ret2);
	rfs_config_free(&again);

	/* The file reader (getline) must agree with the string reader. */
	if (put_file(data, size) == 0) {
		ferr[0] = '\0';
		ret2 = rfs_config_load_file(file_path, &again, ferr, sizeof(ferr));
		if (has_nul) {
			/* The string stops at the NUL; the file reports it (or agrees). */
			CHECK(ret2 == -EINVAL || ret2 == ret, "file with NUL: return %d", ret2);
		} else {
			CHECK(ret2 == ret, "string returns %d ('%s'), file %d ('%s')", ret, err,
			      ret2, ferr);
			if (ret) {
				a = after_label(err, LABEL);
				b = after_label(ferr, file_path);
				CHECK(a && b && !strcmp(a, b), "string error '%s', file error '%s'",
				      err, ferr);
			}
		}
		if (ret2 == 0) {
			CHECK(again.path && !strcmp(again.path, file_path), "file config path");
			if (!has_nul)
				check_same(&cfg, &again, "file reader");
			rfs_config_free(&again);
		}
	}

	rfs_config_free(&cfg);
	CHECK(cfg.regions == NULL && cfg.n_regions == 0, "rfs_config_free left regions");
	rfs_config_free(&cfg); /* idempotent */
	free(text);
	return 0;
}
