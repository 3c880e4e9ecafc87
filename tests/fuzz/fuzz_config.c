/*
 * libFuzzer harness for the INI config loader (conf/config.c, decl.c,
 * parse.c): rfs_config_load_string() on arbitrary text, and the same bytes
 * through rfs_config_load_file() (the getline() reader), with invariants that
 * must hold whatever the input:
 *
 *  - success: every name passes rfs_name_check() and clashes with no other,
 *    every view has an absolute file and a window that fits in off_t, every
 *    value is in range, allowed_roots is a NULL-terminated list of absolute
 *    paths, and the declaration checks agree;
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

#include "conf/config.h"

#define LABEL	"fuzz"
#define OFF_MAX ((uint64_t)INT64_MAX)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_config"
#define FUZZ_WHERE NULL
#include "tests/fuzz/check.h"

/* Same name, or one a directory of the other: written independently of config.c. */
static int clash(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la == lb)
		return !strcmp(a, b);
	if (la > lb) {
		const char *t = a;

		a = b;
		b = t;
		la = lb;
	}
	return !strncmp(a, b, la) && b[la] == '/';
}

static void check_owner(const struct rfs_owner *o, const char *name)
{
	CHECK(!o->has_mode ? o->mode == 0 : o->mode <= 07777, "mode %o of '%s'",
	      (unsigned int)o->mode, name);
	CHECK(!o->has_uid || o->uid != (uid_t)-1, "uid -1 accepted for '%s'", name);
	CHECK(!o->has_gid || o->gid != (gid_t)-1, "gid -1 accepted for '%s'", name);
}

static void check_success(const struct rfs_config *cfg)
{
	char why[RFS_ERR_MAX];
	const char *name;
	size_t i, j, n = cfg->n_regions + cfg->n_views;
	int prev_line = 0;

	CHECK(cfg->path == NULL, "path set for a string");
	CHECK(cfg->has_size || cfg->size == 0, "size %llu without has_size",
	      (unsigned long long)cfg->size);
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
	CHECK(n == 0 || (n <= 100000 && (cfg->regions || cfg->views)), "bad declaration arrays");

	for (i = 0; i < cfg->n_regions; i++) {
		const struct rfs_region_decl *r = &cfg->regions[i];

		CHECK(r->name, "region %zu without a name", i);
		CHECK(!rfs_name_check(r->name, why, sizeof(why)), "region name '%s' invalid: %s",
		      r->name, why);
		CHECK(r->size <= OFF_MAX, "region '%s' size %llu > INT64_MAX", r->name,
		      (unsigned long long)r->size);
		CHECK(r->line > prev_line, "region '%s' line %d after %d", r->name, r->line,
		      prev_line);
		prev_line = r->line;
		check_owner(&r->owner, r->name);
		CHECK(!rfs_region_decl_check(r, why, sizeof(why)), "region '%s' fails check: %s",
		      r->name, why);
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
	}

	/* No two names may clash, regions and views alike. */
	for (i = 0; i < n; i++) {
		name = i < cfg->n_regions ? cfg->regions[i].name
					  : cfg->views[i - cfg->n_regions].name;
		for (j = i + 1; j < n; j++) {
			const char *other = j < cfg->n_regions
						    ? cfg->regions[j].name
						    : cfg->views[j - cfg->n_regions].name;

			CHECK(!clash(name, other), "names '%s' and '%s' clash", name, other);
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

/* Compare two successful loads of the same text. */
static void check_same(const struct rfs_config *a, const struct rfs_config *b, const char *what)
{
	size_t i;

	CHECK(a->n_regions == b->n_regions && a->n_views == b->n_views &&
		      a->n_allowed_roots == b->n_allowed_roots && a->size == b->size &&
		      a->has_size == b->has_size && a->xattr == b->xattr,
	      "%s: different config", what);
	for (i = 0; i < a->n_regions; i++)
		CHECK(!strcmp(a->regions[i].name, b->regions[i].name) &&
			      a->regions[i].size == b->regions[i].size &&
			      a->regions[i].line == b->regions[i].line,
		      "%s: region %zu differs", what, i);
	for (i = 0; i < a->n_views; i++)
		CHECK(!strcmp(a->views[i].name, b->views[i].name) &&
			      !strcmp(a->views[i].file, b->views[i].file) &&
			      a->views[i].offset == b->views[i].offset &&
			      a->views[i].length == b->views[i].length &&
			      a->views[i].line == b->views[i].line,
		      "%s: view %zu differs", what, i);
	for (i = 0; i < a->n_allowed_roots; i++)
		CHECK(!strcmp(a->allowed_roots[i], b->allowed_roots[i]), "%s: root %zu differs",
		      what, i);
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
