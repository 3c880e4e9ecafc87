/*
 * INI loading (inih) into struct rfs_config. What each key means is decl.c's
 * business; this file finds sections and keys, and reports where they are.
 *
 * inih calls us once per "key = value" line and never for a section header,
 * so an empty section, the line of a header and an over-long line (inih
 * silently splits it in two) would go unseen. We therefore feed inih through
 * our own line reader, which watches for headers the way inih recognises
 * them, opens and closes sections, and stops the parse at the first error so
 * the message names the first problem in the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "conf/config_i.h"

/* inih keeps at most this many bytes of a section name (MAX_SECTION - 1). */
#define INI_SECTION_KEPT 49

enum sect_kind {
	SECT_NONE = 0,
	SECT_GLOBAL,
	SECT_REGION,
	SECT_VIEW,
	SECT_DIR,
	SECT_OWNER,
};

/*
 * Every key of every section (bit = index in parse_ctx.seen): one given twice
 * in a section is an error. A key left out here would silently take its
 * last value; fuzz_config's model of the grammar catches that.
 */
static const char *const tracked_keys[] = {
	"size",	  "mode",   "uid",	  "gid",	   "prealloc",	   "file",
	"offset", "length", "access",	  "allowed_roots", "xattr",	   "lifetime",
	"region", "huge",   "window_max", "writeback",	   "strict_dirty", "owner_only",
	"noswap", "seals",  "user_size",  "group_size",
};

_Static_assert(sizeof(tracked_keys) / sizeof(tracked_keys[0]) <= 32, "parse_ctx.seen is 32 bits");

struct parse_ctx {
	struct rfs_config *cfg;
	const char *label; /* file name in messages */
	char *err;
	size_t errlen;
	int ret;   /* first error (0/-errno); once set, parsing stops */
	int found; /* line being read when that error was found */
	int lineno;

	/* line source: a string or a stream */
	const char *text;
	FILE *fp;
	char *buf;
	size_t cap;

	/* the open section */
	enum sect_kind kind;
	char *title;			/* "region:foo", for messages */
	char raw[INI_SECTION_KEPT + 1]; /* the section string inih hands us */
	int sect_line;
	unsigned int seen; /* tracked_keys given so far */
	bool have_global;
	bool after_key; /* inih's prev_name: an indented line now continues it */
	bool cont;	/* the line being handled is such a continuation */
};

/* Record the first error as "label:line: reason"; later ones are dropped. */
__attribute__((format(printf, 3, 4))) static int fail_at(struct parse_ctx *ctx, int line,
							 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ctx->ret)
		return ctx->ret;
	ctx->ret = -EINVAL;
	ctx->found = ctx->lineno;
	if (!ctx->err || !ctx->errlen)
		return ctx->ret;
	n = snprintf(ctx->err, ctx->errlen, "%s:%d: ", ctx->label, line);
	if (n >= 0 && (size_t)n < ctx->errlen) {
		va_start(ap, fmt);
		vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return ctx->ret;
}

static int fail_nomem(struct parse_ctx *ctx)
{
	if (!ctx->ret) {
		fail_at(ctx, ctx->lineno, "out of memory");
		ctx->ret = -ENOMEM;
	}
	return ctx->ret;
}

/* ---- sections ---- */

/*
 * Equal names, or one would have to be a directory of the other ("a",
 * "a/b") while it is declared a file. a_dir, b_dir: declared [dir:].
 */
static bool names_clash(const char *a, bool a_dir, const char *b, bool b_dir)
{
	size_t la = strlen(a), lb = strlen(b);

	if (memcmp(a, b, la < lb ? la : lb))
		return false;
	if (la == lb)
		return true;
	if ((la < lb ? b[la] : a[lb]) != '/')
		return false;
	return la < lb ? !a_dir : !b_dir;
}

/* Claim name for a new declaration (a directory if is_dir). */
static int name_claim(struct parse_ctx *ctx, const char *name, bool is_dir)
{
	const struct rfs_config *cfg = ctx->cfg;
	size_t i, n_files = cfg->n_regions + cfg->n_views;
	const char *other;
	char why[128];
	int line;

	if (rfs_name_check(name, why, sizeof(why)))
		return fail_at(ctx, ctx->lineno, "invalid name '%s': %s", name, why);
	for (i = 0; i < n_files + cfg->n_dirs; i++) {
		if (i < cfg->n_regions) {
			other = cfg->regions[i].name;
			line = cfg->regions[i].line;
		} else if (i < n_files) {
			other = cfg->views[i - cfg->n_regions].name;
			line = cfg->views[i - cfg->n_regions].line;
		} else {
			other = cfg->dirs[i - n_files].name;
			line = cfg->dirs[i - n_files].line;
		}
		if (!names_clash(name, is_dir, other, i >= n_files))
			continue;
		if (!strcmp(name, other))
			return fail_at(ctx, ctx->lineno,
				       "duplicate name '%s' (first declared at line %d)", name,
				       line);
		return fail_at(ctx, ctx->lineno,
			       "name '%s' clashes with '%s' declared at line %d (a file cannot "
			       "also be a directory)",
			       name, other, line);
	}
	return 0;
}

static int region_open(struct parse_ctx *ctx, const char *name)
{
	struct rfs_config *cfg = ctx->cfg;
	struct rfs_region_decl *r;

	if (name_claim(ctx, name, false))
		return ctx->ret;
	r = reallocarray(cfg->regions, cfg->n_regions + 1, sizeof(*r));
	if (!r)
		return fail_nomem(ctx);
	cfg->regions = r;
	r += cfg->n_regions;
	memset(r, 0, sizeof(*r));
	r->line = ctx->lineno;
	r->name = strdup(name);
	if (!r->name)
		return fail_nomem(ctx);
	cfg->n_regions++;
	ctx->kind = SECT_REGION;
	return 0;
}

static int view_open(struct parse_ctx *ctx, const char *name)
{
	struct rfs_config *cfg = ctx->cfg;
	struct rfs_view_decl *v;

	if (name_claim(ctx, name, false))
		return ctx->ret;
	v = reallocarray(cfg->views, cfg->n_views + 1, sizeof(*v));
	if (!v)
		return fail_nomem(ctx);
	cfg->views = v;
	v += cfg->n_views;
	memset(v, 0, sizeof(*v));
	v->line = ctx->lineno;
	v->name = strdup(name);
	if (!v->name)
		return fail_nomem(ctx);
	cfg->n_views++;
	ctx->kind = SECT_VIEW;
	return 0;
}

static int dir_open(struct parse_ctx *ctx, const char *name)
{
	struct rfs_config *cfg = ctx->cfg;
	struct rfs_dir_decl *dd;

	if (name_claim(ctx, name, true))
		return ctx->ret;
	dd = reallocarray(cfg->dirs, cfg->n_dirs + 1, sizeof(*dd));
	if (!dd)
		return fail_nomem(ctx);
	cfg->dirs = dd;
	dd += cfg->n_dirs;
	memset(dd, 0, sizeof(*dd));
	dd->line = ctx->lineno;
	dd->name = strdup(name);
	if (!dd->name)
		return fail_nomem(ctx);
	cfg->n_dirs++;
	ctx->kind = SECT_DIR;
	return 0;
}

/* [user:NAME] or [group:NAME]: once per owner. */
static int owner_open(struct parse_ctx *ctx, const char *name, bool group)
{
	struct rfs_config *cfg = ctx->cfg;
	struct rfs_owner_budget *b;
	char why[RFS_ERR_MAX];
	uint32_t id;

	if (rfs_owner_id(name, group, &id, why, sizeof(why)))
		return fail_at(ctx, ctx->lineno, "%s in [%s]", why, ctx->title);
	for (size_t i = 0; i < cfg->n_owners; i++)
		if (cfg->owners[i].group == group && cfg->owners[i].id == id)
			return fail_at(ctx, ctx->lineno, "%s %u given twice (first at line %d)",
				       group ? "group" : "user", id, cfg->owners[i].line);
	b = reallocarray(cfg->owners, cfg->n_owners + 1, sizeof(*b));
	if (!b)
		return fail_nomem(ctx);
	cfg->owners = b;
	b[cfg->n_owners++] =
		(struct rfs_owner_budget){.group = group, .id = id, .line = ctx->lineno};
	ctx->kind = SECT_OWNER;
	return 0;
}

/* Whole-declaration checks, reported at the section's header line. */
static int section_close(struct parse_ctx *ctx)
{
	struct rfs_config *cfg = ctx->cfg;
	char why[RFS_ERR_MAX];
	int ret = 0;

	if (ctx->kind == SECT_REGION)
		ret = rfs_region_decl_check(&cfg->regions[cfg->n_regions - 1], why, sizeof(why));
	else if (ctx->kind == SECT_VIEW)
		ret = rfs_view_decl_check(&cfg->views[cfg->n_views - 1], why, sizeof(why));
	else if (ctx->kind == SECT_DIR)
		ret = rfs_dir_decl_check(&cfg->dirs[cfg->n_dirs - 1], why, sizeof(why));
	else if (ctx->kind == SECT_OWNER && !cfg->owners[cfg->n_owners - 1].has_size)
		ret = (rfs_set_err(why, sizeof(why), "missing key 'size'"), -EINVAL);
	ctx->kind = SECT_NONE;
	if (ret)
		return fail_at(ctx, ctx->sect_line, "%s in [%s]", why, ctx->title);
	return 0;
}

static int section_open(struct parse_ctx *ctx, const char *raw, size_t len)
{
	size_t kept = len < INI_SECTION_KEPT ? len : INI_SECTION_KEPT;
	const char *name;
	char *title;

	memcpy(ctx->raw, raw, kept);
	ctx->raw[kept] = '\0';
	/* inih keeps the blanks in "[ region:a ]"; names should not get them. */
	while (len && rfs_is_space(*raw)) {
		raw++;
		len--;
	}
	while (len && rfs_is_space(raw[len - 1]))
		len--;
	title = strndup(raw, len);
	if (!title)
		return fail_nomem(ctx);
	free(ctx->title);
	ctx->title = title;
	ctx->sect_line = ctx->lineno;
	ctx->seen = 0;
	ctx->after_key = false;

	if (!strcmp(title, "regionfs")) {
		if (ctx->have_global)
			return fail_at(ctx, ctx->lineno, "section [regionfs] given twice");
		ctx->have_global = true;
		ctx->kind = SECT_GLOBAL;
		return 0;
	}
	name = strchr(title, ':');
	if (name) {
		size_t klen = (size_t)(name - title);

		for (name++; rfs_is_space(*name); name++)
			;
		if (klen == 6 && !memcmp(title, "region", klen))
			return region_open(ctx, name);
		if (klen == 4 && !memcmp(title, "view", klen))
			return view_open(ctx, name);
		if (klen == 3 && !memcmp(title, "dir", klen))
			return dir_open(ctx, name);
		if ((klen == 4 && !memcmp(title, "user", klen)) ||
		    (klen == 5 && !memcmp(title, "group", klen)))
			return owner_open(ctx, name, klen == 5);
	}
	return fail_at(ctx, ctx->lineno, "unknown section [%s]", title);
}

/*
 * Classify a line as inih will (ini_parse_stream in ini.c): comment, value
 * continuation, or section header, and open a section on a header.
 */
static int line_scan(struct parse_ctx *ctx, const char *line)
{
	const char *s = line, *e;

	if (ctx->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	while (rfs_is_space(*s))
		s++;
	ctx->cont = false;
	if (!*s || *s == ';' || *s == '#')
		return 0;
	if (ctx->after_key && s > line) {
		ctx->cont = true;
		return 0;
	}
	if (*s != '[')
		return 0;
	/* As inih's find_chars_or_comment(): ';' after a blank starts a comment. */
	for (e = s + 1; *e && *e != ']'; e++)
		if (*e == ';' && rfs_is_space(e[-1]))
			return 0;
	if (*e != ']')
		return 0; /* inih reports the missing ']' */
	if (section_close(ctx))
		return ctx->ret;
	return section_open(ctx, s + 1, (size_t)(e - s - 1));
}

static ssize_t line_next(struct parse_ctx *ctx, const char **line)
{
	const char *nl;
	size_t len;
	ssize_t n;

	if (ctx->fp) {
		n = getline(&ctx->buf, &ctx->cap, ctx->fp);
		*line = ctx->buf; /* getline() may have moved it */
		return n;
	}
	if (!*ctx->text)
		return -1;
	nl = strchr(ctx->text, '\n');
	len = nl ? (size_t)(nl - ctx->text) + 1 : strlen(ctx->text);
	*line = ctx->text;
	ctx->text += len;
	return (ssize_t)len;
}

/* ini_reader: fgets() on our source, plus the checks inih cannot make. */
static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	const char *line;
	ssize_t len;

	if (ctx->ret)
		return NULL; /* stop at the first error */
	errno = 0;
	len = line_next(ctx, &line);
	if (len < 0) {
		/* getline() reports ENOMEM without setting the error flag. */
		if (ctx->fp && (ferror(ctx->fp) || errno == ENOMEM)) {
			ctx->ret = errno ? -errno : -EIO;
			ctx->found = ctx->lineno;
			rfs_set_err(ctx->err, ctx->errlen, "%s: %s", ctx->label,
				    strerror(-ctx->ret));
		}
		return NULL;
	}
	ctx->lineno++;
	if (memchr(line, '\0', (size_t)len)) {
		fail_at(ctx, ctx->lineno, "NUL byte in line");
		return NULL;
	}
	if (len >= num) {
		fail_at(ctx, ctx->lineno, "line too long (at most %d bytes)", num - 2);
		return NULL;
	}
	memcpy(str, line, (size_t)len);
	str[len] = '\0';
	if (line_scan(ctx, str))
		return NULL;
	return str;
}

static int on_key(void *user, const char *section, const char *key, const char *value, int lineno)
{
	struct parse_ctx *ctx = user;
	char why[RFS_ERR_MAX];
	unsigned int i;
	int ret;

	if (ctx->ret)
		return 0;
	if (ctx->kind == SECT_NONE)
		return !fail_at(ctx, lineno, "key '%s' outside of any section", key);
	/* Cannot happen while line_scan() agrees with inih; guard anyway. */
	if (strcmp(section, ctx->raw))
		return !fail_at(ctx, lineno, "line not understood (indented section header?)");
	ctx->after_key = true;

	if (ctx->cont) {
		/* Only a list can sensibly go on over several lines. */
		if (ctx->kind != SECT_GLOBAL || strcmp(key, "allowed_roots"))
			return !fail_at(ctx, lineno,
					"indented line continues the value of '%s' in [%s]", key,
					ctx->title);
	} else {
		for (i = 0; i < sizeof(tracked_keys) / sizeof(tracked_keys[0]); i++) {
			if (strcmp(key, tracked_keys[i]))
				continue;
			if (ctx->seen & (1u << i))
				return !fail_at(ctx, lineno, "key '%s' given twice in [%s]", key,
						ctx->title);
			ctx->seen |= 1u << i;
		}
	}

	if (ctx->kind == SECT_GLOBAL)
		ret = rfs_global_set(ctx->cfg, key, value, why, sizeof(why));
	else if (ctx->kind == SECT_REGION)
		ret = rfs_region_decl_set(&ctx->cfg->regions[ctx->cfg->n_regions - 1], key, value,
					  why, sizeof(why));
	else if (ctx->kind == SECT_VIEW)
		ret = rfs_view_decl_set(&ctx->cfg->views[ctx->cfg->n_views - 1], key, value, why,
					sizeof(why));
	else if (ctx->kind == SECT_DIR)
		ret = rfs_dir_decl_set(&ctx->cfg->dirs[ctx->cfg->n_dirs - 1], key, value, why,
				       sizeof(why));
	else
		ret = rfs_owner_budget_set(&ctx->cfg->owners[ctx->cfg->n_owners - 1], key, value,
					   why, sizeof(why));
	if (ret == -ENOMEM)
		return !fail_nomem(ctx);
	if (ret)
		return !fail_at(ctx, lineno, "%s in [%s]", why, ctx->title);
	return 1;
}

static int load(struct parse_ctx *ctx)
{
	struct rfs_config *cfg = ctx->cfg;
	int r, ret;

	r = ini_parse_stream(read_line, ctx, on_key, ctx);
	if (!ctx->ret) {
		ctx->lineno++; /* end of file counts as the line after the last */
		section_close(ctx);
	}
	if (r == -2) {
		ctx->ret = 0;
		fail_nomem(ctx);
	} else if (r > 0 && (!ctx->ret || r < ctx->found)) {
		/* A line inih rejected on its own comes before anything we found. */
		ctx->ret = 0;
		fail_at(ctx, r, "syntax error (expected '[section]' or 'key = value')");
	}
	if (!ctx->ret && !cfg->allowed_roots) {
		cfg->allowed_roots = calloc(1, sizeof(*cfg->allowed_roots));
		if (!cfg->allowed_roots)
			fail_nomem(ctx);
	}
	ret = ctx->ret;
	free(ctx->title);
	free(ctx->buf);
	if (ret)
		rfs_config_free(cfg);
	return ret;
}

int rfs_config_load_string(const char *text, const char *label, struct rfs_config *cfg, char *err,
			   size_t errlen)
{
	struct parse_ctx ctx = {
		.cfg = cfg,
		.label = label ? label : "<string>",
		.err = err,
		.errlen = errlen,
		.text = text ? text : "",
	};

	memset(cfg, 0, sizeof(*cfg));
	return load(&ctx);
}

int rfs_config_load_file(const char *path, struct rfs_config *cfg, char *err, size_t errlen)
{
	struct parse_ctx ctx = {
		.cfg = cfg,
		.label = path,
		.err = err,
		.errlen = errlen,
	};
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	ctx.fp = fopen(path, "re");
	if (!ctx.fp) {
		ret = -errno;
		rfs_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	cfg->path = strdup(path);
	if (!cfg->path) {
		ret = -ENOMEM;
		rfs_set_err(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto out_close;
	}
	ret = load(&ctx);
out_close:
	fclose(ctx.fp);
	return ret;
}

void rfs_config_free(struct rfs_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_regions; i++)
		rfs_region_decl_free(&cfg->regions[i]);
	for (i = 0; i < cfg->n_views; i++)
		rfs_view_decl_free(&cfg->views[i]);
	for (i = 0; i < cfg->n_dirs; i++)
		rfs_dir_decl_free(&cfg->dirs[i]);
	for (i = 0; i < cfg->n_allowed_roots; i++)
		free(cfg->allowed_roots[i]);
	free(cfg->regions);
	free(cfg->views);
	free(cfg->dirs);
	free(cfg->owners);
	free(cfg->allowed_roots);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
