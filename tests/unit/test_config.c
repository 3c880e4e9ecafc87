/*
 * Unit tests for conf/: scalar parsers, names, and INI loading with exact
 * "file:line: reason" messages. Run from the source tree (or set SRCDIR) so
 * the shipped conf/ INI files can be loaded too.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "conf/command.h"
#include "conf/config.h"

#define LABEL "t.ini"

static int load(const char *text, struct rfs_config *cfg, char *err)
{
	err[0] = '\0';
	return rfs_config_load_string(text, LABEL, cfg, err, RFS_ERR_MAX);
}

/* Loading text must fail with -EINVAL and exactly this message. */
#define ck_load_error(text, msg)                                                                   \
	do {                                                                                       \
		struct rfs_config c_;                                                              \
		char e_[RFS_ERR_MAX];                                                              \
		ck_assert_int_eq(load((text), &c_, e_), -EINVAL);                                  \
		ck_assert_str_eq(e_, (msg));                                                       \
		ck_assert_ptr_null(c_.regions);                                                    \
	} while (0)

/* Write text to a fresh temporary file; the caller unlinks path. */
static void write_temp(char *path, size_t len, const char *text, size_t textlen)
{
	const char *dir = getenv("TMPDIR");
	FILE *fp;
	int fd;

	snprintf(path, len, "%s/rfs-config-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, textlen, fp), textlen);
	ck_assert_int_eq(fclose(fp), 0);
}

/* ---- sizes ---- */

START_TEST(size_valid)
{
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{"0", 0},
		{"4096", 4096},
		{"0x1000", 4096},
		{"0X1f", 31},
		{"0x1B", 27}, /* hex digit, not the byte suffix */
		{"2K", 2048},
		{"64M", 64ull << 20},
		{"64m", 64ull << 20},
		{"64MB", 64ull << 20},
		{"64MiB", 64ull << 20},
		{"1kib", 1024},
		{"4G", 4ull << 30},
		{"1T", 1ull << 40},
		{"0x10M", 16ull << 20},
		{"512B", 512},
		{"007", 7},
		{"16777215T", 16777215ull << 40},
		{"18446744073709551615", UINT64_MAX},
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = 1;
		ck_assert_msg(rfs_parse_size(ok[i].s, &v) == 0, "'%s' rejected", ok[i].s);
		ck_assert_msg(v == ok[i].v, "'%s' gave %llu", ok[i].s, (unsigned long long)v);
	}
}
END_TEST

START_TEST(size_invalid)
{
	static const char *const bad[] = {
		"",   "-1",  "+1",  " 1",  "1 ",   "1 M", "1.5G", "0x",	 "0xg", "M",
		"1Q", "1MM", "1iB", "1Mi", "1MBB", "abc", "1e6",  "0b1", "1P",
	};
	uint64_t v = 42;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rfs_parse_size(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
	ck_assert_int_eq(rfs_parse_size(NULL, &v), -EINVAL);
	ck_assert_uint_eq(v, 42); /* untouched on failure */
}
END_TEST

START_TEST(size_overflow)
{
	uint64_t v = 42;

	ck_assert_int_eq(rfs_parse_size("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(rfs_parse_size("99999999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(rfs_parse_size("0x10000000000000000", &v), -ERANGE);
	ck_assert_int_eq(rfs_parse_size("16777216T", &v), -ERANGE);
	ck_assert_int_eq(rfs_parse_size("17179869184G", &v), -ERANGE);
	ck_assert_uint_eq(v, 42);
}
END_TEST

/* ---- modes and booleans ---- */

START_TEST(mode_parse)
{
	static const char *const bad[] = {
		"", "8", "0x1", "10000", "-1", "64 4", "0o644", "+644", "99999999999999999999"};
	mode_t m = 0;
	size_t i;

	ck_assert_int_eq(rfs_parse_mode("0644", &m), 0);
	ck_assert_uint_eq(m, 0644);
	ck_assert_int_eq(rfs_parse_mode("755", &m), 0);
	ck_assert_uint_eq(m, 0755);
	ck_assert_int_eq(rfs_parse_mode("07777", &m), 0);
	ck_assert_uint_eq(m, 07777);
	ck_assert_int_eq(rfs_parse_mode("0000000600", &m), 0);
	ck_assert_uint_eq(m, 0600);
	ck_assert_int_eq(rfs_parse_mode("0", &m), 0);
	ck_assert_uint_eq(m, 0);
	m = 0123;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rfs_parse_mode(bad[i], &m) < 0, "'%s' accepted", bad[i]);
	ck_assert_uint_eq(m, 0123);
}
END_TEST

START_TEST(bool_parse)
{
	static const char *const yes[] = {"yes", "YES", "True", "on", "1"};
	static const char *const no[] = {"no", "False", "OFF", "0"};
	static const char *const bad[] = {"", "2", "y", "enable", " yes", "yes ", "nope"};
	bool b;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		ck_assert_int_eq(rfs_parse_bool(yes[i], &b), 0);
		ck_assert_msg(b, "'%s' is not true", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		ck_assert_int_eq(rfs_parse_bool(no[i], &b), 0);
		ck_assert_msg(!b, "'%s' is not false", no[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(rfs_parse_bool(bad[i], &b) == -EINVAL, "'%s' accepted", bad[i]);
}
END_TEST

/* ---- names ---- */

#define ck_name_bad(name, reason)                                                                  \
	do {                                                                                       \
		char w_[64] = "";                                                                  \
		ck_assert_int_eq(rfs_name_check((name), w_, sizeof(w_)), -EINVAL);                 \
		ck_assert_str_eq(w_, (reason));                                                    \
	} while (0)

START_TEST(name_check)
{
	char buf[RFS_PATH_MAX + 2];
	int i;

	ck_assert_int_eq(rfs_name_check("telemetry", NULL, 0), 0);
	ck_assert_int_eq(rfs_name_check("ipc/ring", NULL, 0), 0);
	ck_assert_int_eq(rfs_name_check("a/.regionfs", NULL, 0), 0);
	ck_assert_int_eq(rfs_name_check(".regionfsx", NULL, 0), 0);
	ck_assert_int_eq(rfs_name_check("...", NULL, 0), 0);
	ck_name_bad("", "empty name");
	ck_name_bad("/a", "empty component");
	ck_name_bad("a/", "empty component");
	ck_name_bad("a//b", "empty component");
	ck_name_bad(".", "component '.' not allowed");
	ck_name_bad("a/./b", "component '.' not allowed");
	ck_name_bad("..", "component '..' not allowed");
	ck_name_bad("a/..", "component '..' not allowed");
	ck_name_bad(".regionfs", "'.regionfs' is reserved");
	ck_name_bad(".regionfs/x", "'.regionfs' is reserved");
	ck_assert_int_eq(rfs_name_check(NULL, NULL, 0), -EINVAL);

	memset(buf, 'x', RFS_NAME_MAX);
	buf[RFS_NAME_MAX] = '\0';
	ck_assert_int_eq(rfs_name_check(buf, NULL, 0), 0);
	buf[RFS_NAME_MAX] = 'x';
	buf[RFS_NAME_MAX + 1] = '\0';
	ck_name_bad(buf, "component too long");

	/* 16 components of 255 plus 15 slashes: 4095 bytes, the longest allowed. */
	for (i = 0; i < RFS_PATH_MAX + 1; i++)
		buf[i] = (i % 256 == 255) ? '/' : 'y';
	buf[RFS_PATH_MAX - 1] = '\0';
	ck_assert_int_eq(rfs_name_check(buf, NULL, 0), 0);
	buf[RFS_PATH_MAX - 1] = 'y';
	buf[RFS_PATH_MAX] = '\0';
	ck_name_bad(buf, "name too long");
}
END_TEST

/* ---- sections and keys ---- */

START_TEST(full_config)
{
	static const char text[] = "; leading comment\n"
				   "[regionfs]\n"
				   "size = 4G            ; inline comment\n"
				   "allowed_roots = /data /srv/img\n"
				   "xattr = yes\n"
				   "owner_only = yes\n"
				   "\n"
				   "# hash comment\n"
				   "[region:telemetry]\n"
				   "size = 64M\n"
				   "mode = 0660\n"
				   "prealloc = yes\n"
				   "uid = 0\n"
				   "gid = 0\n"
				   "[ region: ipc/ring ]\n"
				   "size: 1M\n"
				   "[view:ImgA]\n"
				   "file = /data/ExtremelyLargeImage.data\n"
				   "offset = 256M\n"
				   "length = 512M\n"
				   "access = cow\n"
				   "mode = 0440\n";
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load(text, &cfg, err), 0);
	ck_assert_str_eq(err, "");
	ck_assert_ptr_null(cfg.path);
	ck_assert(cfg.has_size);
	ck_assert_uint_eq(cfg.size, 4ull << 30);
	ck_assert(cfg.xattr);
	ck_assert(cfg.owner_only);
	ck_assert(!cfg.noswap);
	ck_assert_uint_eq(cfg.n_allowed_roots, 2);
	ck_assert_str_eq(cfg.allowed_roots[0], "/data");
	ck_assert_str_eq(cfg.allowed_roots[1], "/srv/img");
	ck_assert_ptr_null(cfg.allowed_roots[2]);

	ck_assert_uint_eq(cfg.n_regions, 2);
	ck_assert_str_eq(cfg.regions[0].name, "telemetry");
	ck_assert_uint_eq(cfg.regions[0].size, 64ull << 20);
	ck_assert(cfg.regions[0].prealloc);
	ck_assert(cfg.regions[0].owner.has_mode);
	ck_assert_uint_eq(cfg.regions[0].owner.mode, 0660);
	ck_assert(cfg.regions[0].owner.has_uid && cfg.regions[0].owner.uid == 0);
	ck_assert(cfg.regions[0].owner.has_gid && cfg.regions[0].owner.gid == 0);
	ck_assert_int_eq(cfg.regions[0].line, 9);
	ck_assert_str_eq(cfg.regions[1].name, "ipc/ring");
	ck_assert_uint_eq(cfg.regions[1].size, 1ull << 20);
	ck_assert(!cfg.regions[1].prealloc);
	ck_assert(!cfg.regions[1].owner.has_mode);
	ck_assert_int_eq(cfg.regions[1].line, 15);

	ck_assert_uint_eq(cfg.n_views, 1);
	ck_assert_str_eq(cfg.views[0].name, "ImgA");
	ck_assert_str_eq(cfg.views[0].file, "/data/ExtremelyLargeImage.data");
	ck_assert_uint_eq(cfg.views[0].offset, 256ull << 20);
	ck_assert(cfg.views[0].has_length);
	ck_assert_uint_eq(cfg.views[0].length, 512ull << 20);
	ck_assert_int_eq(cfg.views[0].access, RFS_ACCESS_COW);
	ck_assert_uint_eq(cfg.views[0].owner.mode, 0440);
	ck_assert_int_eq(cfg.views[0].line, 17);

	rfs_config_free(&cfg);
	ck_assert_ptr_null(cfg.regions);
	ck_assert_uint_eq(cfg.n_views, 0);
	rfs_config_free(&cfg); /* a freed config may be freed again */
}
END_TEST

START_TEST(huge_key)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load("[regionfs]\nhuge = within_size\n", &cfg, err), 0);
	ck_assert_str_eq(cfg.huge, "within_size");
	rfs_config_free(&cfg);
	ck_assert_int_eq(load("[regionfs]\nhuge = sometimes\n", &cfg, err), -EINVAL);
	ck_assert_str_eq(
		err, "t.ini:2: huge = sometimes: expected never, within_size, always or advise in "
		     "[regionfs]");
}
END_TEST

START_TEST(noswap_key)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load("[regionfs]\nnoswap = on\n", &cfg, err), 0);
	ck_assert(cfg.noswap);
	rfs_config_free(&cfg);
	ck_assert_int_eq(load("[regionfs]\nnoswap = maybe\n", &cfg, err), -EINVAL);
	ck_assert_str_eq(err,
			 "t.ini:2: invalid noswap 'maybe' (yes/no, true/false, on/off, 1/0) in "
			 "[regionfs]");
}
END_TEST

START_TEST(seals_key)
{
	struct rfs_config cfg;
	struct rfs_command cmd;
	char err[RFS_ERR_MAX];
	unsigned int seals;

	ck_assert_int_eq(rfs_parse_seals("grow,shrink", &seals), 0);
	ck_assert_uint_eq(seals, RFS_DECL_SEAL_GROW | RFS_DECL_SEAL_SHRINK);
	ck_assert_int_eq(rfs_parse_seals("future_write", &seals), 0);
	ck_assert_uint_eq(seals, RFS_DECL_SEAL_FUTURE_WRITE);
	ck_assert_int_eq(rfs_parse_seals("grow,grow", &seals), -EINVAL);
	ck_assert_int_eq(rfs_parse_seals("grow,", &seals), -EINVAL);
	ck_assert_int_eq(rfs_parse_seals("", &seals), -EINVAL);
	ck_assert_int_eq(rfs_parse_seals("writes", &seals), -EINVAL);
	ck_assert_int_eq(load("[region:r]\nsize = 4K\nseals = write,shrink\n", &cfg, err), 0);
	ck_assert_uint_eq(cfg.regions[0].seals, RFS_DECL_SEAL_WRITE | RFS_DECL_SEAL_SHRINK);
	rfs_config_free(&cfg);
	ck_assert_int_eq(load("[region:r]\nsize = 4K\nseals = tight\n", &cfg, err), -EINVAL);
	ck_assert_str_eq(err, "t.ini:3: invalid seals 'tight' (shrink, grow, write, future_write, "
			      "joined by commas) in [region:r]");
	ck_assert_int_eq(
		rfs_command_parse("seal 'my ring' grow write,shrink", &cmd, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd.verb, RFS_CMD_SEAL);
	ck_assert_str_eq(cmd.name, "my ring");
	ck_assert_uint_eq(cmd.seals,
			  RFS_DECL_SEAL_GROW | RFS_DECL_SEAL_WRITE | RFS_DECL_SEAL_SHRINK);
	rfs_command_free(&cmd);
	ck_assert_int_eq(rfs_command_parse("seal ring", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "usage: seal NAME shrink|grow|write|future_write[,...]");
	rfs_command_free(&cmd);
}
END_TEST

START_TEST(defaults)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load("", &cfg, err), 0);
	ck_assert(!cfg.has_size && !cfg.xattr && !cfg.owner_only && !cfg.noswap);
	ck_assert_ptr_null(cfg.huge);
	ck_assert_uint_eq(cfg.n_regions + cfg.n_views + cfg.n_allowed_roots, 0);
	/* Always a valid NULL-terminated list, even when not given. */
	ck_assert_ptr_nonnull(cfg.allowed_roots);
	ck_assert_ptr_null(cfg.allowed_roots[0]);
	rfs_config_free(&cfg);

	/* Empty sections are fine; a region's size defaults to 0. */
	ck_assert_int_eq(load("[regionfs]\n[region:empty]\n", &cfg, err), 0);
	ck_assert_uint_eq(cfg.n_regions, 1);
	ck_assert_uint_eq(cfg.regions[0].size, 0);
	rfs_config_free(&cfg);
}
END_TEST

START_TEST(allowed_roots)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	/* Indented lines continue the list, Python configparser style. */
	ck_assert_int_eq(load("[regionfs]\nallowed_roots = /data\n\t/srv/img  /\n", &cfg, err), 0);
	ck_assert_uint_eq(cfg.n_allowed_roots, 3);
	ck_assert_str_eq(cfg.allowed_roots[1], "/srv/img");
	ck_assert_str_eq(cfg.allowed_roots[2], "/");
	ck_assert_ptr_null(cfg.allowed_roots[3]);
	rfs_config_free(&cfg);

	ck_load_error("[regionfs]\nallowed_roots = /data srv\n",
		      "t.ini:2: allowed root 'srv' is not an absolute path free of '.' and '..' in "
		      "[regionfs]");
	ck_load_error(
		"[regionfs]\nallowed_roots = /data/../etc\n",
		"t.ini:2: allowed root '/data/../etc' is not an absolute path free of '.' and "
		"'..' in [regionfs]");
}
END_TEST

START_TEST(owners)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load("[region:a]\nuid = root\ngid = root\n", &cfg, err), 0);
	ck_assert(cfg.regions[0].owner.has_uid && cfg.regions[0].owner.uid == 0);
	ck_assert(cfg.regions[0].owner.has_gid && cfg.regions[0].owner.gid == 0);
	rfs_config_free(&cfg);

	ck_assert_int_eq(load("[region:a]\nuid = 4294967294\ngid = 1000\n", &cfg, err), 0);
	ck_assert_uint_eq(cfg.regions[0].owner.uid, 4294967294u);
	ck_assert_uint_eq(cfg.regions[0].owner.gid, 1000);
	rfs_config_free(&cfg);

	ck_load_error("[region:a]\nuid = rfs-no-such-user\n",
		      "t.ini:2: unknown user 'rfs-no-such-user' in [region:a]");
	ck_load_error("[region:a]\ngid = rfs-no-such-group\n",
		      "t.ini:2: unknown group 'rfs-no-such-group' in [region:a]");
	ck_load_error("[region:a]\nuid = 4294967295\n",
		      "t.ini:2: user id '4294967295' out of range in [region:a]");
	ck_load_error("[region:a]\ngid =\n", "t.ini:2: empty group in [region:a]");
	ck_load_error("[region:a]\nmode = 0888\n",
		      "t.ini:2: invalid mode '0888' (octal, at most 07777) in [region:a]");
	ck_load_error("[region:a]\nprealloc = maybe\n",
		      "t.ini:2: invalid prealloc 'maybe' (yes/no, true/false, on/off, 1/0) in "
		      "[region:a]");
}
END_TEST

/* ---- errors, with exact file:line ---- */

START_TEST(error_lines)
{
	ck_load_error("[region:foo]\nsize = 1M\n\n; note\nsise = 2M\n",
		      "t.ini:5: unknown key 'sise' in [region:foo]");
	ck_load_error("[regionfs]\nsize = 1G\nfoo = 1\n",
		      "t.ini:3: unknown key 'foo' in [regionfs]");
	ck_load_error("\n\n[foo]\n", "t.ini:3: unknown section [foo]");
	ck_load_error("[Region:a]\n", "t.ini:1: unknown section [Region:a]");
	ck_load_error("size = 1\n", "t.ini:1: key 'size' outside of any section");
	ck_load_error("[region:a]\nsize = 12Q\n",
		      "t.ini:2: invalid size '12Q' (bytes, optional K/M/G/T suffix) in [region:a]");
	ck_load_error("[region:a]\nsize = 1M\n  2M\n",
		      "t.ini:3: indented line continues the value of 'size' in [region:a]");
	/* inih reads an indented header after a key as a continuation: so do we. */
	ck_load_error("[region:a]\nsize = 1M\n  [region:b]\n",
		      "t.ini:3: indented line continues the value of 'size' in [region:a]");
	ck_load_error("[region:a//b]\n", "t.ini:1: invalid name 'a//b': empty component");
	ck_load_error("[region:]\n", "t.ini:1: invalid name '': empty name");
	ck_load_error("[view:.regionfs]\n",
		      "t.ini:1: invalid name '.regionfs': '.regionfs' is reserved");
}
END_TEST

START_TEST(syntax_errors)
{
	/* Lines inih rejects by itself: any non-zero ini_parse result fails. */
	ck_load_error("[regionfs]\nsize 1G\n",
		      "t.ini:2: syntax error (expected '[section]' or 'key = value')");
	ck_load_error("[region:a\nsize = 1\n",
		      "t.ini:1: syntax error (expected '[section]' or 'key = value')");
	/* The first problem wins, even when a later one is ours. */
	ck_load_error("[regionfs]\nbogus\nfoo = 1\n",
		      "t.ini:2: syntax error (expected '[section]' or 'key = value')");
	ck_load_error("[view:v]\nbogus\n",
		      "t.ini:2: syntax error (expected '[section]' or 'key = value')");
}
END_TEST

START_TEST(decl_check_line)
{
	/* Whole-section checks report the header line, at EOF or at the next header. */
	ck_load_error("[view:v]\noffset = 1\n",
		      "t.ini:1: missing key 'file' or 'region' in [view:v]");
	ck_load_error("[view:v]", "t.ini:1: missing key 'file' or 'region' in [view:v]");
	ck_load_error("[regionfs]\n\n[view:v]\naccess = ro\n\n[region:r]\nsize = 1\n",
		      "t.ini:3: missing key 'file' or 'region' in [view:v]");
}
END_TEST

START_TEST(long_line)
{
	char text[400];

	snprintf(text, sizeof(text), "[view:v]\nfile = /%0300d\n", 0);
	ck_load_error(text, "t.ini:2: line too long (at most 198 bytes)");
}
END_TEST

START_TEST(error_buffer)
{
	struct rfs_config cfg;
	char err[8];

	/* No buffer, or a short one: still an error, never an overrun. */
	ck_assert_int_eq(rfs_config_load_string("[foo]\n", "t.ini", &cfg, NULL, 0), -EINVAL);
	memset(err, 'Z', sizeof(err));
	ck_assert_int_eq(rfs_config_load_string("[foo]\n", "t.ini", &cfg, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "t.ini:1");
	ck_assert_int_eq(rfs_config_load_string("[foo]\n", NULL, &cfg, err, 4), -EINVAL);
	ck_assert_str_eq(err, "<st");
}
END_TEST

/* ---- views ---- */

START_TEST(views)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(
		load("[view:v]\nfile = /data/x\n[view:w]\nfile=/y\naccess=ro\n", &cfg, err), 0);
	ck_assert_uint_eq(cfg.n_views, 2);
	ck_assert(!cfg.views[0].has_length);
	ck_assert_uint_eq(cfg.views[0].length, 0);
	ck_assert_uint_eq(cfg.views[0].offset, 0);
	ck_assert_int_eq(cfg.views[0].access, RFS_ACCESS_RW);
	ck_assert_int_eq(cfg.views[1].access, RFS_ACCESS_RO);
	rfs_config_free(&cfg);

	ck_load_error("[view:v]\nfile = data/x\n",
		      "t.ini:2: file 'data/x' is not an absolute path in [view:v]");
	ck_load_error("[view:v]\nfile = /x\naccess = wo\n",
		      "t.ini:3: invalid access 'wo' (ro, rw or cow) in [view:v]");
	ck_load_error("[view:v]\nfile = /x\nlength = 0\n",
		      "t.ini:3: length 0 (leave length out to map to end of file) in [view:v]");
	ck_load_error("[view:v]\nfile = /x\nprealloc = yes\n",
		      "t.ini:3: unknown key 'prealloc' in [view:v]");
}
END_TEST

START_TEST(decl_api)
{
	struct rfs_view_decl v = {0};
	struct rfs_region_decl r = {0};
	char err[RFS_ERR_MAX];

	/* The control plane's path: reasons carry no file:line prefix. */
	v.name = strdup("img");
	ck_assert_int_eq(rfs_view_decl_check(&v, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "missing key 'file' or 'region'");
	ck_assert_int_eq(rfs_view_decl_set(&v, "file", "/a", err, sizeof(err)), 0);
	ck_assert_int_eq(rfs_view_decl_set(&v, "file", "/b", err, sizeof(err)), 0);
	ck_assert_str_eq(v.file, "/b");
	ck_assert_int_eq(rfs_view_decl_set(&v, "offset", "4K", err, sizeof(err)), 0);
	ck_assert_int_eq(rfs_view_decl_set(&v, "access", "cow", err, sizeof(err)), 0);
	ck_assert_int_eq(rfs_view_decl_set(&v, "sizee", "1", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "unknown key 'sizee'");
	ck_assert_int_eq(rfs_view_decl_check(&v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v.offset, 4096);
	rfs_view_decl_free(&v);
	ck_assert_ptr_null(v.file);

	ck_assert_int_eq(rfs_region_decl_set(&r, "size", "1M", err, sizeof(err)), 0);
	ck_assert_int_eq(rfs_region_decl_set(&r, "mode", "600", err, sizeof(err)), 0);
	ck_assert_uint_eq(r.size, 1u << 20);
	ck_assert_int_eq(rfs_region_decl_check(&r, err, sizeof(err)), -EINVAL); /* no name */
	ck_assert_str_eq(err, "invalid name '': empty name");
	r.name = strdup("ok/name");
	ck_assert_int_eq(rfs_region_decl_check(&r, err, sizeof(err)), 0);
	rfs_region_decl_free(&r);
	ck_assert_ptr_null(r.name);
}
END_TEST

START_TEST(region_windows)
{
	struct rfs_command cmd;
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	/* DESIGN.md's sample: a window of a region of the mount. */
	ck_assert_int_eq(load("[region:telemetry]\nsize = 64M\n"
			      "[view:slot1]\nregion = telemetry\noffset = 4097\nlength = 8192\n"
			      "access = ro\n",
			      &cfg, err),
			 0);
	ck_assert_uint_eq(cfg.n_views, 1);
	ck_assert_ptr_null(cfg.views[0].file);
	ck_assert_str_eq(cfg.views[0].region, "telemetry");
	ck_assert_uint_eq(cfg.views[0].offset, 4097);
	ck_assert_uint_eq(cfg.views[0].length, 8192);
	ck_assert_int_eq(cfg.views[0].access, RFS_ACCESS_RO);
	rfs_config_free(&cfg);

	ck_load_error("[view:v]\nregion = r\nfile = /x\n",
		      "t.ini:1: keys 'file' and 'region' exclude each other in [view:v]");
	ck_load_error("[view:v]\nregion = /r\n",
		      "t.ini:2: invalid region name '/r': empty component in [view:v]");
	ck_load_error("[view:v]\nregion = .regionfs/stats\n",
		      "t.ini:2: invalid region name '.regionfs/stats': '.regionfs' is reserved in "
		      "[view:v]");

	/* The same key through control, the name quoted as stats prints it. */
	ck_assert_int_eq(rfs_command_parse("view w region='my ring' offset=1 length=2 access=cow",
					   &cmd, err, sizeof(err)),
			 0);
	ck_assert_int_eq(cmd.verb, RFS_CMD_VIEW);
	ck_assert_str_eq(cmd.view.region, "my ring");
	ck_assert_ptr_null(cmd.view.file);
	ck_assert_int_eq(cmd.view.access, RFS_ACCESS_COW);
	rfs_command_free(&cmd);
	ck_assert_int_eq(rfs_command_parse("view w offset=1", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "missing key 'file' or 'region'");
	ck_assert_int_eq(rfs_command_parse("view w region=a file=/b", &cmd, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "keys 'file' and 'region' exclude each other");
}
END_TEST

/* ---- overflow ---- */

START_TEST(window_overflow)
{
	struct rfs_view_decl v = {0};
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_load_error("[view:v]\nfile = /x\noffset = 0x7fffffffffffffff\nlength = 1\n",
		      "t.ini:4: offset + length is past the largest file offset in [view:v]");
	/* Order of the keys does not matter. */
	ck_load_error("[view:v]\nfile = /x\nlength = 2\noffset = 0x7ffffffffffffffe\n",
		      "t.ini:4: offset + length is past the largest file offset in [view:v]");
	ck_load_error("[view:v]\nfile = /x\noffset = 18446744073709551615\n",
		      "t.ini:3: offset '18446744073709551615' is too large in [view:v]");
	ck_load_error("[view:v]\nfile = /x\nlength = 16777216T\n",
		      "t.ini:3: length '16777216T' is too large in [view:v]");
	ck_load_error("[regionfs]\nsize = 16777216T\n",
		      "t.ini:2: size '16777216T' is too large in [regionfs]");
	ck_load_error("[region:a]\nsize = 8388608T\n",
		      "t.ini:2: size '8388608T' is too large in [region:a]");

	/* The largest window that still ends inside off_t. */
	ck_assert_int_eq(
		load("[view:v]\nfile = /x\noffset = 0x7ffffffffffffffe\nlength = 1\n", &cfg, err),
		0);
	rfs_config_free(&cfg);

	/* decl_check catches a window built without decl_set. */
	v.name = (char *)"v";
	v.file = (char *)"/x";
	v.offset = 1;
	v.length = (uint64_t)INT64_MAX;
	v.has_length = true;
	ck_assert_int_eq(rfs_view_decl_check(&v, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "offset + length is past the largest file offset");
}
END_TEST

/* ---- duplicates ---- */

START_TEST(duplicates)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_load_error("[region:a]\n[region:a]\n",
		      "t.ini:2: duplicate name 'a' (first declared at line 1)");
	ck_load_error("[region:a]\nsize = 1\n[view:a]\nfile = /x\n",
		      "t.ini:3: duplicate name 'a' (first declared at line 1)");
	ck_load_error(
		"[region:a]\n[region:a/b]\n",
		"t.ini:2: name 'a/b' clashes with 'a' declared at line 1 (a file cannot also be "
		"a directory)");
	ck_load_error("[view:x/y/z]\nfile = /f\n[region:x/y]\n",
		      "t.ini:3: name 'x/y' clashes with 'x/y/z' declared at line 1 (a file cannot "
		      "also be a directory)");
	ck_load_error("[region:a]\nsize = 1\nsize = 2\n",
		      "t.ini:3: key 'size' given twice in [region:a]");
	ck_load_error("[region:s]\nseals = grow\nseals = shrink\n",
		      "t.ini:3: key 'seals' given twice in [region:s]");
	ck_load_error("[view:v]\nfile = /x\nmode = 0600\nmode = 0600\n",
		      "t.ini:4: key 'mode' given twice in [view:v]");
	ck_load_error("[regionfs]\nsize = 1G\n[regionfs]\n",
		      "t.ini:3: section [regionfs] given twice");

	/* Prefixes that are not directories, siblings, and the same key in two sections. */
	ck_assert_int_eq(load("[region:a]\nsize=1\n[region:ab]\nsize=1\n[region:ipc/x]\n"
			      "[region:ipc/y]\n",
			      &cfg, err),
			 0);
	ck_assert_uint_eq(cfg.n_regions, 4);
	rfs_config_free(&cfg);
}
END_TEST

/* ---- lifetimes and directories ---- */

START_TEST(lifetimes)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load("[dir:ipc]\nlifetime = close\nmode = 1777\n"
			      "[dir:keep]\n"
			      "[region:ipc/a]\nsize = 1\n"
			      "[region:ipc/b]\nlifetime = persist\n"
			      "[region:c]\nlifetime = close\n",
			      &cfg, err),
			 0);
	ck_assert_uint_eq(cfg.n_dirs, 2);
	ck_assert_str_eq(cfg.dirs[0].name, "ipc");
	ck_assert_int_eq(cfg.dirs[0].lifetime, RFS_LIFE_CLOSE);
	ck_assert(cfg.dirs[0].owner.has_mode);
	ck_assert_uint_eq(cfg.dirs[0].owner.mode, 01777);
	ck_assert_int_eq(cfg.dirs[0].line, 1);
	ck_assert_int_eq(cfg.dirs[1].lifetime, RFS_LIFE_UNSET);
	ck_assert_uint_eq(cfg.n_regions, 3);
	ck_assert_int_eq(cfg.regions[0].lifetime, RFS_LIFE_UNSET);
	ck_assert_int_eq(cfg.regions[1].lifetime, RFS_LIFE_PERSIST);
	ck_assert_int_eq(cfg.regions[2].lifetime, RFS_LIFE_CLOSE);
	rfs_config_free(&cfg);

	ck_load_error("[region:a]\nlifetime = forever\n",
		      "t.ini:2: invalid lifetime 'forever' (persist or close) in [region:a]");
	ck_load_error("[dir:d]\nlifetime = close\nlifetime = close\n",
		      "t.ini:3: key 'lifetime' given twice in [dir:d]");
	ck_load_error("[dir:d]\nsize = 1\nsize = 2\n",
		      "t.ini:3: key 'size' given twice in [dir:d]");
	ck_load_error("[dir:d]\nsize = lots\n",
		      "t.ini:2: invalid size 'lots' (bytes, optional K/M/G/T suffix) in [dir:d]");
	ck_load_error("[view:v]\nfile = /x\nlifetime = close\n",
		      "t.ini:3: unknown key 'lifetime' in [view:v]");
	/* A directory may hold declared files, but be none, nor be under one. */
	ck_load_error("[dir:d]\n[dir:d]\n",
		      "t.ini:2: duplicate name 'd' (first declared at line 1)");
	ck_load_error("[region:d]\n[dir:d]\n",
		      "t.ini:2: duplicate name 'd' (first declared at line 1)");
	ck_load_error("[region:d]\n[dir:d/e]\n",
		      "t.ini:2: name 'd/e' clashes with 'd' declared at line 1 (a file cannot "
		      "also be a directory)");
	ck_load_error("[dir:d/e]\n[view:d]\nfile = /x\n",
		      "t.ini:2: name 'd' clashes with 'd/e' declared at line 1 (a file cannot "
		      "also be a directory)");
	ck_assert_int_eq(load("[region:d/e/f]\n[dir:d]\n[dir:d/e]\n[region:d/g]\n", &cfg, err), 0);
	rfs_config_free(&cfg);
}
END_TEST

START_TEST(dir_budgets)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(load("[regionfs]\nuser_size = 1G\ngroup_size = 2G\n"
			      "[user:1000]\nsize = 4G\n[group:root]\nsize = 0\n",
			      &cfg, err),
			 0);
	ck_assert_uint_eq(cfg.user_size, 1ULL << 30);
	ck_assert_uint_eq(cfg.group_size, 2ULL << 30);
	ck_assert_uint_eq(cfg.n_owners, 2);
	ck_assert(!cfg.owners[0].group);
	ck_assert_uint_eq(cfg.owners[0].id, 1000);
	ck_assert_uint_eq(cfg.owners[0].size, 4ULL << 30);
	ck_assert(cfg.owners[1].group);
	ck_assert_uint_eq(cfg.owners[1].id, 0);
	ck_assert(rfs_config_has_owner_budgets(&cfg));
	rfs_config_free(&cfg);
	ck_load_error("[user:1000]\n", "t.ini:1: missing key 'size' in [user:1000]");
	ck_load_error("[user:1000]\nsize = 1\n[user:1000]\nsize = 2\n",
		      "t.ini:3: user 1000 given twice (first at line 1)");
	ck_load_error("[group:1]\nmode = 1\n", "t.ini:2: unknown key 'mode' in [group:1]");
	ck_load_error("[user:no-such-user-here]\nsize = 1\n",
		      "t.ini:1: unknown user 'no-such-user-here' in [user:no-such-user-here]");
	ck_load_error("[regionfs]\nuser_size = 1\nuser_size = 1\n",
		      "t.ini:3: key 'user_size' given twice in [regionfs]");

	ck_assert_int_eq(load("[dir:t1]\nsize = 64M\n[dir:t2]\nsize = 0\n[dir:t3]\n", &cfg, err),
			 0);
	ck_assert(cfg.dirs[0].has_size);
	ck_assert_uint_eq(cfg.dirs[0].size, 64 << 20);
	ck_assert(cfg.dirs[1].has_size);
	ck_assert_uint_eq(cfg.dirs[1].size, 0);
	ck_assert(!cfg.dirs[2].has_size);
	rfs_config_free(&cfg);
}
END_TEST

START_TEST(dir_command)
{
	struct rfs_command cmd;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(
		rfs_command_parse("dir ipc/x lifetime=close mode=0770", &cmd, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd.verb, RFS_CMD_DIR);
	ck_assert_str_eq(cmd.dir.name, "ipc/x");
	ck_assert_int_eq(cmd.dir.lifetime, RFS_LIFE_CLOSE);
	ck_assert_uint_eq(cmd.dir.owner.mode, 0770);
	rfs_command_free(&cmd);
	ck_assert_int_eq(
		rfs_command_parse("region r size=1 lifetime=close", &cmd, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd.region.lifetime, RFS_LIFE_CLOSE);
	rfs_command_free(&cmd);
	ck_assert_int_eq(rfs_command_parse("dir", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(
		err, "usage: dir NAME [lifetime=persist|close] [size=N] [mode=M] [uid=U] [gid=G]");
	ck_assert_int_eq(rfs_command_parse("dir d lifetime=now", &cmd, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "invalid lifetime 'now' (persist or close)");
	ck_assert_int_eq(rfs_command_parse("dir .regionfs/x", &cmd, err, sizeof(err)), -EINVAL);
}
END_TEST

/* ---- files ---- */

START_TEST(load_file)
{
	static const char good[] = "[regionfs]\nsize = 1G\n[region:r]\nsize = 4K\n";
	static const char bad[] = "[regionfs]\n\nsise = 1G\n";
	static const char nul[] = "[regionfs]\nsize = 1\0G\n";
	char path[256], msg[RFS_ERR_MAX + 256], err[RFS_ERR_MAX];
	struct rfs_config cfg;

	write_temp(path, sizeof(path), good, sizeof(good) - 1);
	ck_assert_int_eq(rfs_config_load_file(path, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_uint_eq(cfg.size, 1ull << 30);
	ck_assert_uint_eq(cfg.regions[0].size, 4096);
	rfs_config_free(&cfg);
	unlink(path);

	write_temp(path, sizeof(path), bad, sizeof(bad) - 1);
	ck_assert_int_eq(rfs_config_load_file(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:3: unknown key 'sise' in [regionfs]", path);
	ck_assert_str_eq(err, msg);
	ck_assert_ptr_null(cfg.path);
	unlink(path);

	/* inih would stop reading at the NUL and accept "size = 1". */
	write_temp(path, sizeof(path), nul, sizeof(nul) - 1);
	ck_assert_int_eq(rfs_config_load_file(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:2: NUL byte in line", path);
	ck_assert_str_eq(err, msg);
	unlink(path);
}
END_TEST

START_TEST(missing_file)
{
	struct rfs_config cfg;
	char err[RFS_ERR_MAX];

	ck_assert_int_eq(rfs_config_load_file("/nonexistent/rfs.ini", &cfg, err, sizeof(err)),
			 -ENOENT);
	ck_assert_str_eq(err, "/nonexistent/rfs.ini: No such file or directory");
	ck_assert_int_eq(rfs_config_load_file("/", &cfg, err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "/: Is a directory");
	ck_assert_ptr_null(cfg.path);
}
END_TEST

START_TEST(shipped_files)
{
	static const char *const files[] = {"conf/demo.ini", "conf/example.ini"};
	const char *dir = getenv("SRCDIR");
	char path[4096], err[RFS_ERR_MAX];
	struct rfs_config cfg;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", files[i]);
		ck_assert_msg(rfs_config_load_file(path, &cfg, err, sizeof(err)) == 0, "%s", err);
		ck_assert(cfg.has_size);
		ck_assert_uint_ge(cfg.n_regions, 2);
		rfs_config_free(&cfg);
	}
	/* What make install puts in /etc: valid, and empty until edited. */
	snprintf(path, sizeof(path), "%s/conf/regionfs.ini", dir ? dir : ".");
	ck_assert_msg(rfs_config_load_file(path, &cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!cfg.has_size);
	ck_assert_uint_eq(cfg.n_regions, 0);
	ck_assert_uint_eq(cfg.n_views, 0);
	rfs_config_free(&cfg);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	struct {
		const char *name;
		const TTest *tests[8];
	} cases[] = {
		{"sizes", {size_valid, size_invalid, size_overflow}},
		{"modes_bools", {mode_parse, bool_parse}},
		{"names", {name_check}},
		{"sections_keys",
		 {full_config, defaults, huge_key, noswap_key, seals_key, allowed_roots, owners}},
		{"errors", {error_lines, syntax_errors, decl_check_line, long_line, error_buffer}},
		{"views", {views, decl_api, region_windows}},
		{"overflow", {window_overflow}},
		{"duplicates", {duplicates}},
		{"lifetimes", {lifetimes, dir_command, dir_budgets}},
		{"files", {load_file, missing_file, shipped_files}},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_set_timeout(tc, 10);
		for (j = 0; j < 8 && cases[i].tests[j]; j++)
			tcase_add_test(tc, cases[i].tests[j]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return rfs_check_run(config_suite());
}
