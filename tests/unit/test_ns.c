/*
 * Unit tests for lib/ns.c: names, links, renames, directory link counts,
 * readdir cookies, node lifetimes, setattr and usage counts. No FUSE: the
 * namespace is driven directly. Run under -fsanitize=address,undefined too;
 * every test frees the namespace so leaks show up.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "lib/store.h"
#include "lib/mapping.h"
#include "lib/ns.h"

static struct rfs_store *store;
static struct rfs_ns *ns;
static struct rfs_node *root;
static const struct rfs_cred me = {.uid = 1000, .gid = 1000};

/* Bytes the region store has allocated. */
static uint64_t used(void)
{
	struct rfs_store_usage u;

	rfs_store_usage(store, &u);
	return u.bytes_used;
}

static void setup(void)
{
	store = NULL;
	ns = NULL;
	ck_assert_int_eq(rfs_store_new(1ULL << 30, 1024, RFS_STORE_TMPFS, &store), 0);
	ck_assert_ptr_nonnull(store);
	ck_assert_int_eq(rfs_ns_new(store, 0755, me, &ns), 0);
	ck_assert_ptr_nonnull(ns);
	root = rfs_ns_root(ns);
	ck_assert_ptr_nonnull(root);
}

static void teardown(void)
{
	rfs_ns_free(ns);
	ns = NULL;
	/* Every region was freed with the namespace: nothing stays allocated. */
	ck_assert_uint_eq(used(), 0);
	rfs_store_free(store);
}

/* Create name in dir; the caller keeps the reference create took. */
static struct rfs_node *mk_ref(struct rfs_node *dir, const char *name, mode_t mode)
{
	struct rfs_new what = {.mode = mode, .cred = me};
	struct rfs_node *n = NULL;

	if (S_ISLNK(mode))
		what.target = "target";
	ck_assert_int_eq(rfs_ns_create(ns, dir, name, &what, &n), 0);
	ck_assert_ptr_nonnull(n);
	return n;
}

/* Create name in dir and drop the reference: the name keeps it alive. */
static struct rfs_node *mk(struct rfs_node *dir, const char *name, mode_t mode)
{
	struct rfs_node *n = mk_ref(dir, name, mode);

	rfs_ns_forget(ns, n, 1);
	return n;
}

/* The node called name in dir, or NULL (-ENOENT); no reference kept. */
static struct rfs_node *lk(struct rfs_node *dir, const char *name)
{
	struct rfs_node *n = NULL;
	int err = rfs_ns_lookup(ns, dir, name, &n);

	if (err) {
		ck_assert_int_eq(err, -ENOENT);
		return NULL;
	}
	ck_assert_ptr_nonnull(n);
	rfs_ns_forget(ns, n, 1);
	return n;
}

static nlink_t nlink_of(struct rfs_node *n)
{
	struct stat st;

	rfs_ns_stat(ns, n, &st);
	return st.st_nlink;
}

static uint64_t nodes(void)
{
	struct rfs_ns_usage u = {.nodes = 12345};

	rfs_ns_usage(ns, &u);
	return u.nodes;
}

static void write_str(struct rfs_node *n, const char *s, uint64_t off)
{
	struct rfs_mapping *m = rfs_node_mapping(n);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(rfs_mapping_write(m, s, strlen(s), off), (ssize_t)strlen(s));
}

/* Read up to len bytes at off into buf (NUL-terminated); returns the count. */
static size_t read_str(struct rfs_node *n, char *buf, size_t len, uint64_t off)
{
	struct rfs_mapping *m = rfs_node_mapping(n);
	struct rfs_io io;
	size_t got = 0;
	int i;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(rfs_mapping_read_begin(m, off, len, &io), 0);
	for (i = 0; i < io.n; i++) {
		memcpy(buf + got, io.iov[i].iov_base, io.iov[i].iov_len);
		got += io.iov[i].iov_len;
	}
	rfs_mapping_read_end(m, &io);
	ck_assert_uint_eq(got, io.len);
	buf[got] = '\0';
	return got;
}

static void long_name(char *buf, size_t len)
{
	memset(buf, 'n', len);
	buf[len] = '\0';
}

/* ---- readdir collection ---- */

#define MAX_LIST 256

struct listing {
	char names[MAX_LIST][256];
	struct rfs_node *nodes[MAX_LIST];
	uint64_t next[MAX_LIST];
	int n;
	int limit; /* stop once n reaches limit (the entry is not taken); 0: none */
};

static int collect(void *ctx, const char *name, struct rfs_node *node, uint64_t next)
{
	struct listing *l = ctx;

	if (l->limit && l->n >= l->limit)
		return 1;
	ck_assert_int_lt(l->n, MAX_LIST);
	ck_assert_uint_lt(strlen(name), sizeof(l->names[0]));
	strcpy(l->names[l->n], name);
	l->nodes[l->n] = node;
	l->next[l->n] = next;
	l->n++;
	return 0;
}

static int count_name(const struct listing *l, const char *name)
{
	int i, c = 0;

	for (i = 0; i < l->n; i++)
		c += strcmp(l->names[i], name) == 0;
	return c;
}

/* ---- create, lookup, remove ---- */

START_TEST(create_file)
{
	struct rfs_node *f = mk_ref(root, "f", S_IFREG | 0640), *g;
	struct stat st;

	rfs_ns_stat(ns, f, &st);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0640);
	ck_assert_uint_eq(st.st_uid, 1000);
	ck_assert_uint_eq(st.st_gid, 1000);
	ck_assert_uint_eq(st.st_nlink, 1);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_uint_eq(rfs_node_type(f), S_IFREG);
	ck_assert_ptr_nonnull(rfs_node_mapping(f));
	ck_assert_int_eq(rfs_mapping_kind(rfs_node_mapping(f)), RFS_KIND_REGION);
	ck_assert_uint_eq(rfs_mapping_size(rfs_node_mapping(f)), 0);

	ck_assert_int_eq(rfs_ns_lookup(ns, root, "f", &g), 0);
	ck_assert_ptr_eq(g, f);
	rfs_ns_forget(ns, g, 1);
	rfs_ns_forget(ns, f, 1);
	ck_assert_ptr_eq(lk(root, "f"), f); /* the name keeps it */

	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", false), 0);
	ck_assert_ptr_null(lk(root, "f"));
	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", false), -ENOENT);
}
END_TEST

START_TEST(create_dir)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0750);
	struct rfs_node *f = mk(d, "inner", S_IFREG | 0644);
	struct stat st;

	rfs_ns_stat(ns, d, &st);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0750);
	ck_assert_uint_eq(st.st_nlink, 2 + 0);
	ck_assert_uint_eq(nlink_of(root), 3);
	ck_assert_uint_eq(rfs_node_type(d), S_IFDIR);
	ck_assert_ptr_null(rfs_node_mapping(d));
	ck_assert_ptr_eq(lk(d, "."), d);
	ck_assert_ptr_eq(lk(d, ".."), root);
	ck_assert_ptr_eq(lk(root, ".."), root);
	ck_assert_ptr_eq(lk(d, "inner"), f);
	ck_assert_ptr_null(lk(root, "inner"));

	ck_assert_int_eq(rfs_ns_remove(ns, d, "inner", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "d", true), 0);
	ck_assert_ptr_null(lk(root, "d"));
	ck_assert_uint_eq(nlink_of(root), 2);
}
END_TEST

START_TEST(create_symlink)
{
	struct rfs_new what = {.mode = S_IFLNK | 0777, .cred = me, .target = "../some/where"};
	struct rfs_node *l = NULL, *f = mk(root, "f", S_IFREG | 0644);
	char buf[64];
	struct stat st;

	ck_assert_int_eq(rfs_ns_create(ns, root, "l", &what, &l), 0);
	ck_assert_uint_eq(rfs_node_type(l), S_IFLNK);
	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(rfs_ns_readlink(ns, l, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "../some/where");
	rfs_ns_stat(ns, l, &st);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(st.st_size, (off_t)strlen("../some/where"));
	ck_assert_uint_eq(st.st_nlink, 1);
	ck_assert_ptr_null(rfs_node_mapping(l));
	ck_assert_int_eq(rfs_ns_readlink(ns, f, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(rfs_ns_readlink(ns, root, buf, sizeof(buf)), -EINVAL);
	rfs_ns_forget(ns, l, 1);
	ck_assert_ptr_eq(lk(root, "l"), l);

	/* A symlink without a target is refused. */
	what.target = NULL;
	ck_assert_int_eq(rfs_ns_create(ns, root, "l2", &what, &l), -EINVAL);
	ck_assert_ptr_null(lk(root, "l2"));

	/* unlink removes a symlink; rmdir refuses it. */
	ck_assert_int_eq(rfs_ns_remove(ns, root, "l", true), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "l", false), 0);
	ck_assert_ptr_null(lk(root, "l"));
}
END_TEST

START_TEST(create_special)
{
	struct rfs_new chr = {.mode = S_IFCHR | 0600, .cred = me, .rdev = makedev(1, 3)};
	struct rfs_node *p = mk(root, "fifo", S_IFIFO | 0620), *c = NULL;
	struct stat st;

	ck_assert_uint_eq(rfs_node_type(p), S_IFIFO);
	ck_assert_ptr_null(rfs_node_mapping(p));
	rfs_ns_stat(ns, p, &st);
	ck_assert_uint_eq(st.st_mode, S_IFIFO | 0620);
	ck_assert_uint_eq(st.st_nlink, 1);
	ck_assert_ptr_eq(lk(root, "fifo"), p);

	ck_assert_int_eq(rfs_ns_create(ns, root, "null", &chr, &c), 0);
	rfs_ns_stat(ns, c, &st);
	ck_assert_uint_eq(st.st_mode, S_IFCHR | 0600);
	ck_assert_uint_eq(st.st_rdev, makedev(1, 3));
	rfs_ns_forget(ns, c, 1);

	ck_assert_int_eq(rfs_ns_remove(ns, root, "fifo", true), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "fifo", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "null", false), 0);
	ck_assert_ptr_null(lk(root, "fifo"));
	ck_assert_ptr_null(lk(root, "null"));
	ck_assert_uint_eq(nodes(), 1);
}
END_TEST

START_TEST(create_errors)
{
	struct rfs_new file = {.mode = S_IFREG | 0644, .cred = me};
	struct rfs_new dir = {.mode = S_IFDIR | 0755, .cred = me};
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644), *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *out = NULL;

	mk(d, "x", S_IFREG | 0644);
	/* -EEXIST whatever the types, and the old node stays. */
	ck_assert_int_eq(rfs_ns_create(ns, root, "f", &file, &out), -EEXIST);
	ck_assert_int_eq(rfs_ns_create(ns, root, "f", &dir, &out), -EEXIST);
	ck_assert_int_eq(rfs_ns_create(ns, root, "d", &file, &out), -EEXIST);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_ptr_eq(lk(root, "d"), d);
	/* -ENOENT */
	ck_assert_int_eq(rfs_ns_lookup(ns, root, "missing", &out), -ENOENT);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "missing", false), -ENOENT);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "missing", true), -ENOENT);
	/* -ENOTDIR: a file used as a directory, rmdir of a file. */
	ck_assert_int_eq(rfs_ns_lookup(ns, f, "x", &out), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_create(ns, f, "x", &file, &out), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_remove(ns, f, "x", false), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", true), -ENOTDIR);
	/* -EISDIR: unlink of a directory. */
	ck_assert_int_eq(rfs_ns_remove(ns, root, "d", false), -EISDIR);
	/* -ENOTEMPTY */
	ck_assert_int_eq(rfs_ns_remove(ns, root, "d", true), -ENOTEMPTY);
	ck_assert_ptr_eq(lk(root, "d"), d);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_uint_eq(nodes(), 4);
}
END_TEST

START_TEST(name_length)
{
	struct rfs_new file = {.mode = S_IFREG | 0644, .cred = me};
	char n255[256], n256[257];
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644), *out = NULL, *g;
	struct listing *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	long_name(n255, 255);
	long_name(n256, 256);
	ck_assert_int_eq(rfs_ns_create(ns, root, n256, &file, &out), -ENAMETOOLONG);
	ck_assert_int_eq(rfs_ns_lookup(ns, root, n256, &out), -ENAMETOOLONG);
	ck_assert_int_eq(rfs_ns_link(ns, f, root, n256), -ENAMETOOLONG);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, n256, 0), -ENAMETOOLONG);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_uint_eq(nodes(), 2);

	g = mk(root, n255, S_IFREG | 0644);
	ck_assert_ptr_eq(lk(root, n255), g);
	ck_assert_int_eq(rfs_ns_readdir(ns, root, 0, NULL, collect, l), 0);
	ck_assert_int_eq(count_name(l, n255), 1);
	ck_assert_int_eq(rfs_ns_remove(ns, root, n255, false), 0);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, n255, 0), 0);
	ck_assert_ptr_eq(lk(root, n255), f);
	ck_assert_int_eq(rfs_ns_link(ns, f, root, "f2"), 0);
	rfs_ns_forget(ns, f, 1);
	free(l);
}
END_TEST

START_TEST(create_in_removed_dir)
{
	struct rfs_new file = {.mode = S_IFREG | 0644, .cred = me};
	struct rfs_node *d = mk_ref(root, "d", S_IFDIR | 0755), *out = NULL;

	ck_assert_int_eq(rfs_ns_remove(ns, root, "d", true), 0);
	ck_assert_uint_eq(nlink_of(d), 0);
	ck_assert_int_eq(rfs_ns_create(ns, d, "x", &file, &out), -ENOENT);
	ck_assert_int_eq(rfs_ns_lookup(ns, d, "x", &out), -ENOENT);
	ck_assert_uint_eq(nodes(), 2);
	rfs_ns_forget(ns, d, 1);
	ck_assert_uint_eq(nodes(), 1);
}
END_TEST

/* ---- hard links ---- */

START_TEST(hard_links)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644);
	struct rfs_node *g;
	char buf[16];
	struct stat a, b;

	ck_assert_int_eq(rfs_ns_link(ns, f, d, "g"), 0);
	rfs_ns_forget(ns, f, 1); /* link hands out a reference */
	ck_assert_uint_eq(nlink_of(f), 2);
	ck_assert_uint_eq(nlink_of(d), 2); /* a file link is not a subdirectory */
	g = lk(d, "g");
	ck_assert_ptr_eq(g, f);
	ck_assert_ptr_eq(rfs_node_mapping(g), rfs_node_mapping(f));
	rfs_ns_stat(ns, f, &a);
	rfs_ns_stat(ns, g, &b);
	ck_assert_uint_eq(a.st_ino, b.st_ino);

	/* Data written through one name is read through the other. */
	write_str(lk(root, "f"), "hello", 0);
	ck_assert_uint_eq(read_str(lk(d, "g"), buf, sizeof(buf) - 1, 0), 5);
	ck_assert_str_eq(buf, "hello");

	ck_assert_int_eq(rfs_ns_link(ns, f, root, "h"), 0);
	rfs_ns_forget(ns, f, 1);
	ck_assert_uint_eq(nlink_of(f), 3);

	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", false), 0);
	ck_assert_uint_eq(nlink_of(f), 2);
	ck_assert_ptr_eq(lk(root, "h"), f);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "h", false), 0);
	ck_assert_uint_eq(nlink_of(f), 1);
	ck_assert_uint_eq(read_str(lk(d, "g"), buf, sizeof(buf) - 1, 0), 5);
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(nodes(), 3);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "g", false), 0);
	ck_assert_uint_eq(nodes(), 2);
}
END_TEST

START_TEST(link_errors)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644);
	struct rfs_node *e = mk(root, "e", S_IFREG | 0644);
	struct rfs_node *gone = mk_ref(root, "gone", S_IFREG | 0644);

	ck_assert_int_eq(rfs_ns_link(ns, d, root, "d2"), -EPERM);
	ck_assert_int_eq(rfs_ns_link(ns, f, root, "e"), -EEXIST);
	ck_assert_ptr_eq(lk(root, "e"), e);
	ck_assert_int_eq(rfs_ns_link(ns, f, f, "x"), -ENOTDIR);
	ck_assert_uint_eq(nlink_of(f), 1);
	/* A node without a name cannot get one back. */
	ck_assert_int_eq(rfs_ns_remove(ns, root, "gone", false), 0);
	ck_assert_int_eq(rfs_ns_link(ns, gone, root, "back"), -ENOENT);
	ck_assert_ptr_null(lk(root, "back"));
	ck_assert_uint_eq(nlink_of(gone), 0);
	rfs_ns_forget(ns, gone, 1);
	ck_assert_uint_eq(nodes(), 4);
}
END_TEST

/* ---- rename ---- */

START_TEST(rename_plain)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755), *b = mk(root, "b", S_IFDIR | 0755);
	struct rfs_node *f = mk(a, "f", S_IFREG | 0644), *s = mk(a, "s", S_IFDIR | 0755);

	/* Same directory. */
	ck_assert_int_eq(rfs_ns_rename(ns, a, "f", a, "g", 0), 0);
	ck_assert_ptr_null(lk(a, "f"));
	ck_assert_ptr_eq(lk(a, "g"), f);
	ck_assert_uint_eq(nlink_of(f), 1);
	/* Across directories. */
	ck_assert_int_eq(rfs_ns_rename(ns, a, "g", b, "f", 0), 0);
	ck_assert_ptr_null(lk(a, "g"));
	ck_assert_ptr_eq(lk(b, "f"), f);
	ck_assert_uint_eq(nlink_of(a), 3);
	ck_assert_uint_eq(nlink_of(b), 2);
	/* A directory across directories: link counts and ".." follow. */
	ck_assert_int_eq(rfs_ns_rename(ns, a, "s", b, "t", 0), 0);
	ck_assert_ptr_eq(lk(b, "t"), s);
	ck_assert_ptr_eq(lk(s, ".."), b);
	ck_assert_uint_eq(nlink_of(a), 2);
	ck_assert_uint_eq(nlink_of(b), 3);
	ck_assert_uint_eq(nlink_of(s), 2);
	ck_assert_uint_eq(nlink_of(root), 4);
	/* Missing source. */
	ck_assert_int_eq(rfs_ns_rename(ns, a, "nothing", b, "x", 0), -ENOENT);
	ck_assert_ptr_null(lk(b, "x"));
	/* Into a file as a directory. */
	ck_assert_int_eq(rfs_ns_rename(ns, b, "t", f, "x", 0), -ENOTDIR);
	ck_assert_ptr_eq(lk(b, "t"), s);
	ck_assert_uint_eq(nodes(), 5);
}
END_TEST

START_TEST(rename_over_file)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644);
	struct rfs_node *g = mk_ref(root, "g", S_IFREG | 0644);
	char buf[8];

	write_str(f, "new", 0);
	write_str(g, "old", 0);
	ck_assert_uint_eq(nodes(), 3);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "g", 0), 0);
	ck_assert_ptr_null(lk(root, "f"));
	ck_assert_ptr_eq(lk(root, "g"), f);
	ck_assert_uint_eq(nlink_of(f), 1);
	/* The replaced file lost its name but lives while referenced. */
	ck_assert_uint_eq(nlink_of(g), 0);
	ck_assert_uint_eq(nodes(), 3);
	ck_assert_uint_eq(read_str(g, buf, 3, 0), 3);
	ck_assert_str_eq(buf, "old");
	rfs_ns_forget(ns, g, 1);
	ck_assert_uint_eq(nodes(), 2);
	ck_assert_uint_eq(read_str(lk(root, "g"), buf, 3, 0), 3);
	ck_assert_str_eq(buf, "new");

	/* Without a reference, the replaced node goes at once. */
	mk(root, "h", S_IFREG | 0644);
	ck_assert_uint_eq(nodes(), 3);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "h", root, "g", 0), 0);
	ck_assert_uint_eq(nodes(), 2);
}
END_TEST

START_TEST(rename_noreplace)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644), *g = mk(root, "g", S_IFREG | 0644);

	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "g", RFS_RENAME_NOREPLACE), -EEXIST);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_ptr_eq(lk(root, "g"), g);
	ck_assert_uint_eq(nodes(), 3);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "h", RFS_RENAME_NOREPLACE), 0);
	ck_assert_ptr_eq(lk(root, "h"), f);
	ck_assert_ptr_null(lk(root, "f"));
	/* NOREPLACE and EXCHANGE together, or unknown flags: -EINVAL. */
	ck_assert_int_eq(
		rfs_ns_rename(ns, root, "h", root, "g", RFS_RENAME_NOREPLACE | RFS_RENAME_EXCHANGE),
		-EINVAL);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "h", root, "x", 1U << 5), -EINVAL);
	ck_assert_ptr_eq(lk(root, "h"), f);
	ck_assert_ptr_eq(lk(root, "g"), g);
}
END_TEST

START_TEST(rename_exchange_files)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644), *g = mk(root, "g", S_IFLNK | 0777);

	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "g", RFS_RENAME_EXCHANGE), 0);
	ck_assert_ptr_eq(lk(root, "f"), g);
	ck_assert_ptr_eq(lk(root, "g"), f);
	ck_assert_uint_eq(nlink_of(f), 1);
	ck_assert_uint_eq(nlink_of(g), 1);
	ck_assert_uint_eq(nodes(), 3);
	/* EXCHANGE needs both names. */
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "missing", RFS_RENAME_EXCHANGE),
			 -ENOENT);
	ck_assert_ptr_eq(lk(root, "f"), g);
	ck_assert_ptr_null(lk(root, "missing"));
}
END_TEST

START_TEST(rename_exchange_dirs)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755), *b = mk(root, "b", S_IFDIR | 0755);
	struct rfs_node *x = mk(a, "x", S_IFDIR | 0755), *y = mk(b, "y", S_IFREG | 0644);
	struct rfs_node *z = mk(b, "z", S_IFDIR | 0755);

	mk(x, "xx", S_IFDIR | 0755);
	ck_assert_uint_eq(nlink_of(a), 3);
	ck_assert_uint_eq(nlink_of(b), 3);

	/* Directory a/x with file b/y: a loses a subdirectory, b gains one. */
	ck_assert_int_eq(rfs_ns_rename(ns, a, "x", b, "y", RFS_RENAME_EXCHANGE), 0);
	ck_assert_ptr_eq(lk(a, "x"), y);
	ck_assert_ptr_eq(lk(b, "y"), x);
	ck_assert_ptr_eq(lk(x, ".."), b);
	ck_assert_uint_eq(nlink_of(a), 2);
	ck_assert_uint_eq(nlink_of(b), 4);
	ck_assert_uint_eq(nlink_of(x), 3);
	ck_assert_uint_eq(nlink_of(y), 1);

	/* Directory with directory across parents: counts unchanged, ".." swapped. */
	ck_assert_int_eq(rfs_ns_rename(ns, b, "z", root, "a", RFS_RENAME_EXCHANGE), 0);
	ck_assert_ptr_eq(lk(root, "a"), z);
	ck_assert_ptr_eq(lk(b, "z"), a);
	ck_assert_ptr_eq(lk(z, ".."), root);
	ck_assert_ptr_eq(lk(a, ".."), b);
	ck_assert_uint_eq(nlink_of(root), 4);
	ck_assert_uint_eq(nlink_of(b), 4);
	ck_assert_uint_eq(nlink_of(a), 2);
	ck_assert_uint_eq(nlink_of(z), 2);

	/* A directory cannot be exchanged with its own descendant. */
	ck_assert_int_eq(rfs_ns_rename(ns, root, "b", x, "xx", RFS_RENAME_EXCHANGE), -EINVAL);
	ck_assert_int_eq(rfs_ns_rename(ns, x, "xx", root, "b", RFS_RENAME_EXCHANGE), -EINVAL);
	ck_assert_ptr_eq(lk(b, "y"), x);
	ck_assert_uint_eq(nlink_of(b), 4);
	ck_assert_uint_eq(nodes(), 7);
}
END_TEST

START_TEST(rename_into_subtree)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *s = mk(d, "s", S_IFDIR | 0755);

	ck_assert_int_eq(rfs_ns_rename(ns, root, "d", s, "x", 0), -EINVAL);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "d", d, "x", 0), -EINVAL);
	ck_assert_ptr_eq(lk(root, "d"), d);
	ck_assert_ptr_eq(lk(d, "s"), s);
	ck_assert_ptr_null(lk(s, "x"));
	ck_assert_ptr_null(lk(d, "x"));
	ck_assert_uint_eq(nlink_of(root), 3);
	ck_assert_uint_eq(nlink_of(d), 3);
	ck_assert_uint_eq(nlink_of(s), 2);
}
END_TEST

START_TEST(rename_type_errors)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644);
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *e = mk(root, "e", S_IFDIR | 0755);
	struct rfs_node *full = mk(root, "full", S_IFDIR | 0755);

	mk(full, "x", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "d", 0), -EISDIR);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "d", root, "f", 0), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "d", root, "full", 0), -ENOTEMPTY);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_ptr_eq(lk(root, "d"), d);
	ck_assert_ptr_eq(lk(root, "full"), full);
	ck_assert_uint_eq(nodes(), 6);
	ck_assert_uint_eq(nlink_of(root), 5);

	/* A directory over an empty one replaces it. */
	ck_assert_int_eq(rfs_ns_rename(ns, root, "d", root, "e", 0), 0);
	ck_assert_ptr_eq(lk(root, "e"), d);
	ck_assert_ptr_null(lk(root, "d"));
	ck_assert_uint_eq(nodes(), 5);
	ck_assert_uint_eq(nlink_of(root), 4);
	(void)e;
}
END_TEST

START_TEST(rename_same_node)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644);
	struct stat before, after;

	ck_assert_int_eq(rfs_ns_link(ns, f, root, "g"), 0);
	rfs_ns_forget(ns, f, 1);
	rfs_ns_stat(ns, root, &before);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "g", 0), 0);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_ptr_eq(lk(root, "g"), f);
	ck_assert_uint_eq(nlink_of(f), 2);
	rfs_ns_stat(ns, root, &after);
	ck_assert_int_eq(after.st_size, before.st_size); /* still two entries */
	ck_assert_uint_eq(nodes(), 2);
	/* And to itself. */
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", root, "f", 0), 0);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_uint_eq(nlink_of(f), 2);
}
END_TEST

/* ---- directory link counts, setgid ---- */

START_TEST(dir_nlink)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755), *e = mk(root, "e", S_IFDIR | 0755);
	char name[8];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		mk(d, name, S_IFDIR | 0755);
		snprintf(name, sizeof(name), "f%d", i);
		mk(d, name, S_IFREG | 0644);
	}
	ck_assert_uint_eq(nlink_of(d), 2 + 5);
	ck_assert_uint_eq(nlink_of(root), 2 + 2);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "s0", true), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "f0", false), 0);
	ck_assert_uint_eq(nlink_of(d), 2 + 4);
	ck_assert_int_eq(rfs_ns_rename(ns, d, "s1", e, "s1", 0), 0);
	ck_assert_int_eq(rfs_ns_rename(ns, d, "f1", e, "f1", 0), 0);
	ck_assert_uint_eq(nlink_of(d), 2 + 3);
	ck_assert_uint_eq(nlink_of(e), 2 + 1);
	/* A directory renamed within its parent does not change the count. */
	ck_assert_int_eq(rfs_ns_rename(ns, d, "s2", d, "s9", 0), 0);
	ck_assert_uint_eq(nlink_of(d), 2 + 3);
	/* Directory over empty directory in the same parent: one fewer. */
	ck_assert_int_eq(rfs_ns_rename(ns, d, "s3", d, "s4", 0), 0);
	ck_assert_uint_eq(nlink_of(d), 2 + 2);
	ck_assert_uint_eq(nodes(), 1 + 2 + 3 + 4);
}
END_TEST

START_TEST(setgid_inherit)
{
	struct rfs_new sg = {.mode = S_IFDIR | S_ISGID | 02775, .cred = {.uid = 7, .gid = 500}};
	struct rfs_node *d = NULL, *f, *s, *plain, *q;
	struct stat st;

	ck_assert_int_eq(rfs_ns_create(ns, root, "sg", &sg, &d), 0);
	rfs_ns_forget(ns, d, 1);
	rfs_ns_stat(ns, d, &st);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 02775);
	ck_assert_uint_eq(st.st_gid, 500);

	f = mk(d, "f", S_IFREG | 0644); /* created by gid 1000 */
	rfs_ns_stat(ns, f, &st);
	ck_assert_uint_eq(st.st_gid, 500);
	ck_assert_uint_eq(st.st_uid, 1000);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0644); /* files do not get S_ISGID */

	s = mk(d, "s", S_IFDIR | 0755);
	rfs_ns_stat(ns, s, &st);
	ck_assert_uint_eq(st.st_gid, 500);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | S_ISGID | 0755);
	/* ... and so on down. */
	q = mk(s, "q", S_IFIFO | 0644);
	rfs_ns_stat(ns, q, &st);
	ck_assert_uint_eq(st.st_gid, 500);

	plain = mk(root, "plain", S_IFDIR | 0755);
	f = mk(plain, "f", S_IFREG | 0644);
	rfs_ns_stat(ns, f, &st);
	ck_assert_uint_eq(st.st_gid, 1000);
	s = mk(plain, "s", S_IFDIR | 0755);
	rfs_ns_stat(ns, s, &st);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0755);
}
END_TEST

/* ---- readdir ---- */

START_TEST(readdir_all)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct listing *l = calloc(1, sizeof(*l));
	char name[16];
	int i;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "e%03d", i);
		mk(d, name, i % 3 ? S_IFREG | 0644 : S_IFDIR | 0755);
	}
	ck_assert_int_eq(rfs_ns_readdir(ns, d, 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 102);
	ck_assert_str_eq(l->names[0], ".");
	ck_assert_ptr_eq(l->nodes[0], d);
	ck_assert_str_eq(l->names[1], "..");
	ck_assert_ptr_eq(l->nodes[1], root);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "e%03d", i);
		ck_assert_int_eq(count_name(l, name), 1);
	}
	for (i = 2; i < l->n; i++)
		ck_assert_ptr_eq(l->nodes[i], lk(d, l->names[i]));

	/* The root is its own "..". */
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(rfs_ns_readdir(ns, root, 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 3);
	ck_assert_str_eq(l->names[0], ".");
	ck_assert_str_eq(l->names[1], "..");
	ck_assert_ptr_eq(l->nodes[1], root);
	ck_assert_str_eq(l->names[2], "d");

	/* Empty directory: just the two. Not a directory: -ENOTDIR. */
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(rfs_ns_readdir(ns, lk(d, "e000"), 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 2);
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(rfs_ns_readdir(ns, lk(d, "e001"), 0, NULL, collect, l), -ENOTDIR);
	ck_assert_int_eq(l->n, 0);
	free(l);
}
END_TEST

/* The control plane's directory: reachable by name, never listed at the root. */
START_TEST(readdir_hides_reserved)
{
	struct rfs_node *ctl, *f, *d = mk(root, "d", S_IFDIR | 0755);
	struct listing *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(rfs_ns_create_special(ns, root, RFS_NS_RESERVED, S_IFDIR | 0755, me,
					       (void *)1, &ctl),
			 0);
	ck_assert_int_eq(rfs_ns_create_special(ns, ctl, "stats", S_IFREG | 0444, me, (void *)2, &f),
			 0);
	rfs_ns_forget(ns, f, 1);
	mk(root, "z", S_IFREG | 0644);
	ck_assert_ptr_eq(lk(root, RFS_NS_RESERVED), ctl);
	ck_assert_int_eq(rfs_ns_readdir(ns, root, 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 4);
	ck_assert_int_eq(count_name(l, RFS_NS_RESERVED), 0);
	ck_assert_int_eq(count_name(l, "d"), 1);
	ck_assert_int_eq(count_name(l, "z"), 1);
	/* Resuming from each cookie never brings it back either. */
	for (int i = 0; i < 4; i++) {
		struct listing *r = calloc(1, sizeof(*r));

		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(rfs_ns_readdir(ns, root, l->next[i], NULL, collect, r), 0);
		ck_assert_int_eq(r->n, 3 - i);
		ck_assert_int_eq(count_name(r, RFS_NS_RESERVED), 0);
		free(r);
	}
	/* Its own entries are listed, and so is a ".regionfs" below the root. */
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(rfs_ns_readdir(ns, ctl, 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 3);
	ck_assert_int_eq(count_name(l, "stats"), 1);
	mk(d, RFS_NS_RESERVED, S_IFREG | 0644);
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(rfs_ns_readdir(ns, d, 0, NULL, collect, l), 0);
	ck_assert_int_eq(count_name(l, RFS_NS_RESERVED), 1);
	rfs_ns_forget(ns, ctl, 1);
	free(l);
}
END_TEST

/*
 * An open listing under renames, creations and removals in the same
 * directory: every entry present throughout comes exactly once, and the
 * listing ends (a renamed entry takes a new cookie: without the listing's
 * end bound it would come round again).
 */
START_TEST(readdir_listing_under_renames)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct listing *batch = calloc(1, sizeof(*batch));
	struct rfs_listing *cur;
	int seen[200] = {0}, calls = 0, total = 0, renamed = 0;
	uint64_t cookie = 0;
	char name[32], to[32];

	ck_assert_ptr_nonnull(batch);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "s%03d", i);
		mk(d, name, S_IFREG | 0644);
	}
	ck_assert_int_eq(rfs_ns_listing_open(ns, d, &cur), 0);
	for (;;) {
		memset(batch, 0, sizeof(*batch));
		batch->limit = 7;
		ck_assert_int_eq(rfs_ns_readdir(ns, d, cookie, cur, collect, batch), 0);
		if (batch->n == 0)
			break;
		ck_assert_int_lt(++calls, 1000);
		for (int i = 0; i < batch->n; i++) {
			int k;

			total++;
			if (sscanf(batch->names[i], "s%d", &k) == 1)
				seen[k]++;
		}
		cookie = batch->next[batch->n - 1];
		/* Between batches: rename one listed and one not yet listed
		 * entry (odd numbers only), make one and remove one. */
		for (int k = 1; k < 200 && renamed < 2 * calls; k += 2) {
			snprintf(name, sizeof(name), "s%03d", k);
			if (!lk(d, name))
				continue;
			snprintf(to, sizeof(to), "r%03d-%d", k, calls);
			ck_assert_int_eq(rfs_ns_rename(ns, d, name, d, to, 0), 0);
			renamed++;
		}
		snprintf(name, sizeof(name), "n%d", calls);
		mk(d, name, S_IFREG | 0644);
		snprintf(name, sizeof(name), "n%d", calls - 1);
		if (calls > 1)
			ck_assert_int_eq(rfs_ns_remove(ns, d, name, false), 0);
	}
	rfs_ns_listing_close(ns, cur);
	/* Every even entry (never renamed) exactly once; nothing twice. */
	for (int k = 0; k < 200; k += 2)
		ck_assert_msg(seen[k] == 1, "s%03d seen %d times", k, seen[k]);
	for (int k = 1; k < 200; k += 2)
		ck_assert_int_le(seen[k], 1);
	ck_assert_int_le(total, 202 + calls);
	free(batch);
}
END_TEST

START_TEST(rename_whiteout)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755), *f = mk(root, "f", S_IFREG | 0644), *w;
	const struct rfs_cred bob = {.uid = 2000, .gid = 2000};
	struct stat st;
	uint64_t before = nodes();

	ck_assert_int_eq(rfs_ns_rename_as(ns, root, "f", d, "g", RFS_RENAME_WHITEOUT, bob), 0);
	ck_assert_ptr_eq(lk(d, "g"), f);
	w = lk(root, "f");
	ck_assert_ptr_nonnull(w);
	rfs_ns_stat(ns, w, &st);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_uint_eq(st.st_rdev, 0);
	ck_assert_uint_eq(st.st_uid, 2000);
	ck_assert_uint_eq(nodes(), before + 1);
	ck_assert_int_eq(rfs_ns_rename_as(ns, d, "g", root, "f",
					  RFS_RENAME_WHITEOUT | RFS_RENAME_EXCHANGE, bob),
			 -EINVAL);
	ck_assert_int_eq(rfs_ns_rename_as(ns, d, "nope", root, "x", RFS_RENAME_WHITEOUT, bob),
			 -ENOENT);
	ck_assert_uint_eq(nodes(), before + 1);
}
END_TEST

/* Node numbers: the root's is 1; each node is found by its number while it
 * lives (named or referenced), never after; numbers are not reused. */
START_TEST(numbers_find_nodes)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755), *f = mk(d, "f", S_IFREG | 0644), *g, *w;
	uint64_t fi = rfs_node_ino(f), gi;

	ck_assert_uint_eq(rfs_node_ino(root), 1);
	ck_assert_ptr_eq(rfs_ns_node(ns, 1), root);
	ck_assert_ptr_eq(rfs_ns_node(ns, fi), f);
	ck_assert_ptr_null(rfs_ns_node(ns, fi + 1000));
	/* Found by number, referenced: it outlives its last name. */
	ck_assert_int_eq(rfs_ns_find(ns, fi, &g), 0);
	ck_assert_ptr_eq(g, f);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "f", false), 0);
	ck_assert_ptr_eq(rfs_ns_node(ns, fi), f);
	rfs_ns_forget(ns, f, 1);
	ck_assert_ptr_null(rfs_ns_node(ns, fi));
	ck_assert_int_eq(rfs_ns_find(ns, fi, &g), -ESTALE);
	ck_assert_ptr_null(g);
	/* A new node takes a new number; a whiteout gets one too. */
	g = mk(d, "f", S_IFREG | 0644);
	gi = rfs_node_ino(g);
	ck_assert_uint_gt(gi, fi);
	ck_assert_int_eq(rfs_ns_rename_as(ns, d, "f", root, "g", RFS_RENAME_WHITEOUT, me), 0);
	w = lk(d, "f");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_gt(rfs_node_ino(w), gi);
	ck_assert_ptr_eq(rfs_ns_node(ns, rfs_node_ino(w)), w);
	ck_assert_ptr_eq(rfs_ns_node(ns, gi), g);
}
END_TEST

/* Extended attributes: kept per node, flags as setxattr's, a pool shared
 * by the namespace (ENOSPC when used up, back when removed or freed). */
START_TEST(xattrs_kept_and_bounded)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644);
	static char big[65536];
	char buf[16], name[32];
	int i, n = 0;

	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.a", "v1", 2, 0), 0);
	ck_assert_int_eq(rfs_ns_getxattr(ns, f, "user.a", buf, sizeof(buf)), 2);
	ck_assert_mem_eq(buf, "v1", 2);
	ck_assert_int_eq(rfs_ns_getxattr(ns, f, "user.a", buf, 1), -ERANGE);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.a", "x", 1, XATTR_CREATE), -EEXIST);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.b", "x", 1, XATTR_REPLACE), -ENODATA);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "other.b", "x", 1, 0), -EOPNOTSUPP);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.", "x", 1, 0), -EINVAL);
	ck_assert_int_eq(rfs_ns_listxattr(ns, f, false, NULL, 0), 7);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "trusted.t", "x", 1, 0), 0);
	ck_assert_int_eq(rfs_ns_listxattr(ns, f, false, NULL, 0), 7);
	ck_assert_int_eq(rfs_ns_listxattr(ns, f, true, NULL, 0), 17);
	ck_assert_int_eq(rfs_ns_listxattr(ns, f, true, buf, 8), -ERANGE);
	/* A buffer sized for none while names exist: ERANGE, not a count. */
	ck_assert_int_eq(rfs_ns_listxattr(ns, f, true, buf, 0), -ERANGE);
	/* Fill the pool with 64 KiB values; then nothing more fits. */
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "user.big%d", i);
		if (rfs_ns_setxattr(ns, f, name, big, sizeof(big), 0))
			break;
		n++;
	}
	ck_assert_int_gt(n, 0);
	ck_assert_int_lt(n, 10000);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, name, big, sizeof(big), 0), -ENOSPC);
	ck_assert_int_eq(rfs_ns_removexattr(ns, f, "user.big0"), 0);
	ck_assert_int_eq(rfs_ns_removexattr(ns, f, "user.big0"), -ENODATA);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, name, big, sizeof(big), 0), 0);
	/* A freed node gives its bytes back. */
	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", false), 0);
	f = mk(root, "g", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.big", big, sizeof(big), 0), 0);
}
END_TEST

/* Set-user-ID, set-group-ID where group-executable, and capabilities go. */
START_TEST(kill_priv)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 06755), *g = mk(root, "g", S_IFREG | 02745);
	struct stat st;

	ck_assert(rfs_ns_holds_priv(ns, f));
	rfs_ns_kill_priv(ns, f);
	rfs_ns_stat(ns, f, &st);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	ck_assert(!rfs_ns_holds_priv(ns, f));
	ck_assert(!rfs_ns_holds_priv(ns, g)); /* set-group-ID without x: a lock mark */
	rfs_ns_kill_priv(ns, g);
	rfs_ns_stat(ns, g, &st);
	ck_assert_uint_eq(st.st_mode & 07777, 02745);
	ck_assert_int_eq(rfs_ns_setxattr(ns, g, "security.capability", "c", 1, 0), 0);
	ck_assert(rfs_ns_holds_priv(ns, g));
	rfs_ns_kill_priv(ns, g);
	ck_assert_int_eq(rfs_ns_getxattr(ns, g, "security.capability", NULL, 0), -ENODATA);
}
END_TEST

/* O_TMPFILE: a region with no name, found by number; link names it once. */
START_TEST(tmpfile_then_link)
{
	struct rfs_new what = {.mode = S_IFREG | 0666, .cred = me, .umask = 022};
	struct rfs_node *t = NULL, *d = mk(root, "d", S_IFDIR | 0755);
	struct stat st;

	ck_assert_int_eq(rfs_ns_create(ns, d, NULL, &what, &t), 0);
	rfs_ns_stat(ns, t, &st);
	ck_assert_uint_eq(st.st_nlink, 0);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0644);
	ck_assert_ptr_eq(rfs_ns_node(ns, st.st_ino), t);
	ck_assert_int_eq(rfs_ns_link(ns, t, d, "named"), 0);
	ck_assert_ptr_eq(lk(d, "named"), t);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "named", false), 0);
	/* unlinked again: no more names for it */
	ck_assert_int_eq(rfs_ns_link(ns, t, d, "again"), -ENOENT);
	what.mode = S_IFDIR | 0755;
	ck_assert_int_eq(rfs_ns_create(ns, d, NULL, &what, &t), -EINVAL);
	rfs_ns_forget(ns, t, 2);
}
END_TEST

/* chattr flags: +i and +a refuse what tmpfs refuses, at the namespace. */
START_TEST(iflags_refuse)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755), *f = mk(d, "f", S_IFREG | 0644);
	struct stat st = {.st_mode = 0600, .st_size = 0};

	ck_assert_int_eq(rfs_ns_set_iflags(ns, f, FS_COMPR_FL), -EOPNOTSUPP);
	ck_assert_int_eq(rfs_ns_set_iflags(ns, f, FS_IMMUTABLE_FL), 0);
	ck_assert_uint_eq(rfs_ns_iflags(f), FS_IMMUTABLE_FL);
	ck_assert_int_eq(rfs_ns_may_open(f, O_RDONLY), 0);
	ck_assert_int_eq(rfs_ns_may_open(f, O_WRONLY | O_APPEND), -EPERM);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_MODE, &st), -EPERM);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_ATIME | RFS_SET_TOUCH, &st), -EPERM);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.a", "1", 1, 0), -EPERM);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "f", false), -EPERM);
	ck_assert_int_eq(rfs_ns_rename(ns, d, "f", root, "g", 0), -EPERM);
	ck_assert_int_eq(rfs_ns_link(ns, f, root, "g"), -EPERM);
	/* append-only: appends and touch only */
	ck_assert_int_eq(rfs_ns_set_iflags(ns, f, FS_APPEND_FL), 0);
	ck_assert_int_eq(rfs_ns_may_open(f, O_WRONLY | O_APPEND), 0);
	ck_assert_int_eq(rfs_ns_may_open(f, O_WRONLY), -EPERM);
	ck_assert_int_eq(rfs_ns_may_open(f, O_WRONLY | O_APPEND | O_TRUNC), -EPERM);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_SIZE, &st), -EPERM);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_MTIME, &st), -EPERM);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_MTIME | RFS_SET_TOUCH, &st), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "f", false), -EPERM);
	ck_assert_int_eq(rfs_ns_set_iflags(ns, f, 0), 0);
	/* a directory: +i takes no entries, +a takes new ones only */
	ck_assert_int_eq(rfs_ns_set_iflags(ns, d, FS_IMMUTABLE_FL), 0);
	ck_assert_int_eq(rfs_ns_create(ns, d, "n", &(struct rfs_new){.mode = S_IFREG | 0644}, &f),
			 -EPERM);
	ck_assert_int_eq(rfs_ns_set_iflags(ns, d, FS_APPEND_FL), 0);
	f = mk(d, "n", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "n", false), -EPERM);
	ck_assert_int_eq(rfs_ns_rename(ns, d, "n", root, "n", 0), -EPERM);
	mk(root, "m", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "m", d, "m", 0), 0);
	ck_assert_int_eq(rfs_ns_set_iflags(ns, d, 0), 0);
}
END_TEST

START_TEST(readdir_resume)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct listing *l = calloc(1, sizeof(*l)), *all = calloc(1, sizeof(*all));
	char name[16];
	int i, stop;

	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(all);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		mk(d, name, S_IFREG | 0644);
	}
	ck_assert_int_eq(rfs_ns_readdir(ns, d, 0, NULL, collect, all), 0);
	ck_assert_int_eq(all->n, 42);
	/* Stop after every possible count, then resume: together exactly all. */
	for (stop = 1; stop < 42; stop++) {
		memset(l, 0, sizeof(*l));
		l->limit = stop;
		ck_assert_int_eq(rfs_ns_readdir(ns, d, 0, NULL, collect, l), 0);
		ck_assert_int_eq(l->n, stop);
		l->limit = 0;
		ck_assert_int_eq(rfs_ns_readdir(ns, d, l->next[stop - 1], NULL, collect, l), 0);
		ck_assert_int_eq(l->n, 42);
		for (i = 0; i < 42; i++)
			ck_assert_str_eq(l->names[i], all->names[i]);
	}
	/* Resuming from the last cookie gives nothing more. */
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(rfs_ns_readdir(ns, d, all->next[41], NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 0);
	free(l);
	free(all);
}
END_TEST

START_TEST(readdir_remove_during)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct listing *l = calloc(1, sizeof(*l));
	char name[16];
	int i;

	ck_assert_ptr_nonnull(l);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		mk(d, name, S_IFREG | 0644);
	}
	l->limit = 2 + 10; /* ".", "..", e00..e09 */
	ck_assert_int_eq(rfs_ns_readdir(ns, d, 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 12);
	ck_assert_str_eq(l->names[11], "e09");
	/* Remove the entry the cookie points after, one before it, and one not
	 * yet seen; add one. */
	ck_assert_int_eq(rfs_ns_remove(ns, d, "e09", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "e05", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "e15", false), 0);
	mk(d, "new", S_IFREG | 0644);
	l->limit = 0;
	ck_assert_int_eq(rfs_ns_readdir(ns, d, l->next[11], NULL, collect, l), 0);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		ck_assert_int_eq(count_name(l, name), i == 15 ? 0 : 1);
	}
	ck_assert_int_eq(count_name(l, "new"), 1);
	ck_assert_int_eq(count_name(l, "."), 1);
	ck_assert_int_eq(count_name(l, ".."), 1);
	ck_assert_int_eq(l->n, 12 + 10 - 1 + 1);
	free(l);
}
END_TEST

/* ---- lifetime ---- */

START_TEST(removed_file_lives)
{
	struct rfs_node *f = mk_ref(root, "f", S_IFREG | 0644), *out;
	struct rfs_mapping *m = rfs_node_mapping(f);
	char buf[32];

	write_str(f, "before", 0);
	ck_assert_uint_gt(used(), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", false), 0);
	ck_assert_int_eq(rfs_ns_lookup(ns, root, "f", &out), -ENOENT);
	ck_assert_uint_eq(nlink_of(f), 0);
	ck_assert_uint_eq(nodes(), 2);
	/* Still readable and writable through the reference. */
	ck_assert_ptr_eq(rfs_node_mapping(f), m);
	ck_assert_uint_eq(read_str(f, buf, sizeof(buf) - 1, 0), 6);
	ck_assert_str_eq(buf, "before");
	write_str(f, " after", 6);
	ck_assert_uint_eq(read_str(f, buf, sizeof(buf) - 1, 0), 12);
	ck_assert_str_eq(buf, "before after");
	ck_assert_uint_eq(rfs_mapping_size(m), 12);
	/* Two more references; it goes with the last one. */
	rfs_ns_ref(ns, f);
	rfs_ns_ref(ns, f);
	rfs_ns_forget(ns, f, 2);
	ck_assert_uint_eq(nodes(), 2);
	ck_assert_uint_eq(read_str(f, buf, sizeof(buf) - 1, 0), 12);
	rfs_ns_forget(ns, f, 1);
	ck_assert_uint_eq(nodes(), 1);
	ck_assert_uint_eq(used(), 0); /* the region was freed */
}
END_TEST

START_TEST(forget_named_keeps)
{
	struct rfs_node *f = mk_ref(root, "f", S_IFREG | 0644);

	write_str(f, "x", 0);
	rfs_ns_forget(ns, f, 1);
	ck_assert_uint_eq(nodes(), 2);
	ck_assert_ptr_eq(lk(root, "f"), f);
	ck_assert_uint_gt(used(), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "f", false), 0);
	ck_assert_uint_eq(nodes(), 1);
	ck_assert_uint_eq(used(), 0);
}
END_TEST

START_TEST(removed_dir_lives)
{
	struct rfs_node *d = mk_ref(root, "d", S_IFDIR | 0755);
	struct listing *l = calloc(1, sizeof(*l));
	struct stat st;

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "d", true), 0);
	ck_assert_uint_eq(nlink_of(root), 2);
	rfs_ns_stat(ns, d, &st);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_nlink, 0);
	ck_assert_int_eq(rfs_ns_readdir(ns, d, 0, NULL, collect, l), 0);
	ck_assert_int_eq(l->n, 2);
	ck_assert_uint_eq(nodes(), 2);
	rfs_ns_forget(ns, d, 1);
	ck_assert_uint_eq(nodes(), 1);
	free(l);
}
END_TEST

/* An open directory whose parent is removed too: its ".." must stay valid. */
static int stat_each(void *ctx, const char *name, struct rfs_node *node, uint64_t next)
{
	struct stat st;

	(void)next;
	rfs_ns_stat_locked(node, &st); /* what the FUSE driver's emit does */
	if (strcmp(name, "..") == 0)
		*(mode_t *)ctx = st.st_mode;
	return 0;
}

/*
 * b removed while referenced (an open directory), then its parent a removed
 * too: b's ".." must still be a valid directory node.
 */
static struct rfs_node *orphan_dir(void)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755);
	struct rfs_node *b = mk_ref(a, "b", S_IFDIR | 0755);

	ck_assert_int_eq(rfs_ns_remove(ns, a, "b", true), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "a", true), 0);
	return b;
}

START_TEST(removed_dir_parent_gone_readdir)
{
	struct rfs_node *b = orphan_dir();
	mode_t dotdot = 0;

	ck_assert_int_eq(rfs_ns_readdir(ns, b, 0, NULL, stat_each, &dotdot), 0);
	ck_assert_msg(S_ISDIR(dotdot), "\"..\" of a removed directory is not a directory (0%o)",
		      (unsigned int)dotdot);
	rfs_ns_forget(ns, b, 1);
	ck_assert_uint_eq(nodes(), 1);
}
END_TEST

START_TEST(removed_dir_parent_gone_lookup)
{
	struct rfs_node *b = orphan_dir(), *p = NULL;
	int err = rfs_ns_lookup(ns, b, "..", &p);

	if (err == 0) {
		struct stat st;

		rfs_ns_stat(ns, p, &st);
		ck_assert_msg(S_ISDIR(st.st_mode),
			      "\"..\" of a removed directory is not a directory (0%o)",
			      (unsigned int)st.st_mode);
		rfs_ns_forget(ns, p, 1);
	} else {
		ck_assert_int_eq(err, -ENOENT);
	}
	rfs_ns_forget(ns, b, 1);
	ck_assert_uint_eq(nodes(), 1);
}
END_TEST

/* ---- setattr, usage ---- */

START_TEST(setattr_fields)
{
	struct rfs_node *f = mk(root, "f", S_IFREG | 0644), *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *l = mk(root, "l", S_IFLNK | 0777);
	struct stat st, got;
	struct timespec t0;
	char buf[16];

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | 04711; /* the type is ignored */
	st.st_uid = 42;
	st.st_gid = 43;
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_MODE | RFS_SET_UID | RFS_SET_GID, &st), 0);
	rfs_ns_stat(ns, f, &got);
	ck_assert_uint_eq(got.st_mode, S_IFREG | 04711);
	ck_assert_uint_eq(got.st_uid, 42);
	ck_assert_uint_eq(got.st_gid, 43);

	/* Only the named fields change. */
	st.st_uid = 99;
	st.st_mode = 0600;
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_GID, &st), 0);
	rfs_ns_stat(ns, f, &got);
	ck_assert_uint_eq(got.st_mode, S_IFREG | 04711);
	ck_assert_uint_eq(got.st_uid, 42);

	/* Times: exactly as given; ctime too when asked, else now. */
	st.st_atim = (struct timespec){.tv_sec = 1000, .tv_nsec = 1};
	st.st_mtim = (struct timespec){.tv_sec = 2000, .tv_nsec = 999999999};
	st.st_ctim = (struct timespec){.tv_sec = 3000, .tv_nsec = 5};
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_ATIME | RFS_SET_MTIME | RFS_SET_CTIME, &st),
			 0);
	rfs_ns_stat(ns, f, &got);
	ck_assert_int_eq(got.st_atim.tv_sec, 1000);
	ck_assert_int_eq(got.st_atim.tv_nsec, 1);
	ck_assert_int_eq(got.st_mtim.tv_sec, 2000);
	ck_assert_int_eq(got.st_mtim.tv_nsec, 999999999);
	ck_assert_int_eq(got.st_ctim.tv_sec, 3000);
	ck_assert_int_eq(got.st_ctim.tv_nsec, 5);
	clock_gettime(CLOCK_REALTIME, &t0);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_GID, &st), 0);
	rfs_ns_stat(ns, f, &got);
	ck_assert_int_ge(got.st_ctim.tv_sec, t0.tv_sec);
	ck_assert_int_eq(got.st_mtim.tv_sec, 2000);

	/* Size: regular files grow and shrink; content survives. */
	write_str(f, "abcdef", 0);
	st.st_size = 5000;
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_SIZE, &st), 0);
	rfs_ns_stat(ns, f, &got);
	ck_assert_int_eq(got.st_size, 5000);
	ck_assert_int_ge(got.st_mtim.tv_sec, t0.tv_sec);
	ck_assert_uint_eq(rfs_mapping_size(rfs_node_mapping(f)), 5000);
	st.st_size = 3;
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_SIZE, &st), 0);
	ck_assert_uint_eq(read_str(f, buf, sizeof(buf) - 1, 0), 3);
	ck_assert_str_eq(buf, "abc");
	st.st_size = 1;
	ck_assert_int_eq(rfs_ns_setattr(ns, d, RFS_SET_SIZE, &st), -EISDIR);
	ck_assert_int_eq(rfs_ns_setattr(ns, l, RFS_SET_SIZE, &st), -EINVAL);
	st.st_size = (off_t)(RFS_REGION_MAX + 1);
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_SIZE | RFS_SET_UID, &st), -EFBIG);
	rfs_ns_stat(ns, f, &got);
	ck_assert_int_eq(got.st_size, 3);
	ck_assert_uint_eq(got.st_uid, 42); /* a failed setattr changes nothing */

	/* Directories take mode and ownership too. */
	st.st_mode = 01777;
	st.st_uid = 5;
	ck_assert_int_eq(rfs_ns_setattr(ns, d, RFS_SET_MODE | RFS_SET_UID, &st), 0);
	rfs_ns_stat(ns, d, &got);
	ck_assert_uint_eq(got.st_mode, S_IFDIR | 01777);
	ck_assert_uint_eq(got.st_uid, 5);
}
END_TEST

START_TEST(dir_times)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct stat st, got;

	memset(&st, 0, sizeof(st));
	st.st_mtim.tv_sec = 1;
	st.st_ctim.tv_sec = 1;
	ck_assert_int_eq(rfs_ns_setattr(ns, d, RFS_SET_MTIME | RFS_SET_CTIME, &st), 0);
	mk(d, "f", S_IFREG | 0644);
	rfs_ns_stat(ns, d, &got);
	ck_assert_int_gt(got.st_mtim.tv_sec, 1);
	ck_assert_int_gt(got.st_ctim.tv_sec, 1);

	ck_assert_int_eq(rfs_ns_setattr(ns, d, RFS_SET_MTIME | RFS_SET_CTIME, &st), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "f", false), 0);
	rfs_ns_stat(ns, d, &got);
	ck_assert_int_gt(got.st_mtim.tv_sec, 1);

	/* rfs_ns_touch stamps a file's mtime and ctime. */
	mk(d, "g", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_setattr(ns, lk(d, "g"), RFS_SET_MTIME | RFS_SET_CTIME, &st), 0);
	rfs_ns_touch(lk(d, "g"));
	rfs_ns_stat(ns, lk(d, "g"), &got);
	ck_assert_int_gt(got.st_mtim.tv_sec, 1);
	ck_assert_int_gt(got.st_ctim.tv_sec, 1);
}
END_TEST

/* ---- walk as a reader ---- */

static int collect_path(void *ctx, const char *path, struct rfs_node *node)
{
	(void)node;
	return collect(ctx, path, node, 0);
}

/* The paths who is shown, space-separated in walk order. */
static const char *walk_as(const struct rfs_reader *who)
{
	static char out[1024];
	struct listing *l = calloc(1, sizeof(*l));

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(rfs_ns_walk_as(ns, who, collect_path, l), 0);
	out[0] = '\0';
	for (int i = 0; i < l->n; i++) {
		strcat(out, i ? " " : "");
		strcat(out, l->names[i]);
	}
	free(l);
	return out;
}

static void own(struct rfs_node *n, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st = {.st_mode = mode, .st_uid = uid, .st_gid = gid};

	ck_assert_int_eq(rfs_ns_setattr(ns, n, RFS_SET_MODE | RFS_SET_UID | RFS_SET_GID, &st), 0);
}

START_TEST(walk_as_reader)
{
	const gid_t staff[] = {50, 60};
	const struct rfs_reader owner = {.uid = 1000, .gid = 1000};
	const struct rfs_reader other = {.uid = 2000, .gid = 2000};
	const struct rfs_reader member = {.uid = 2000, .gid = 2000, .groups = staff, .ngroups = 2};
	const struct rfs_reader superuser = {.uid = 0, .gid = 0};
	struct rfs_node *pub, *grp, *deep;

	mk(root, "top", S_IFREG | 0600);
	pub = mk(root, "pub", S_IFDIR | 0755);
	mk(mk(root, "priv", S_IFDIR | 0700), "b", S_IFREG | 0644);
	grp = mk(root, "grp", S_IFDIR | 0750);
	deep = mk(mk(root, "drop", S_IFDIR | 0711), "deep", S_IFDIR | 0755);
	mk(pub, "a", S_IFREG | 0600);
	mk(grp, "c", S_IFREG | 0644);
	mk(deep, "d", S_IFREG | 0644);
	own(grp, S_IFDIR | 0750, 1000, 60);

	ck_assert_str_eq(walk_as(NULL), "top pub/a priv/b grp/c drop/deep/d");
	ck_assert_str_eq(walk_as(&superuser), "top pub/a priv/b grp/c drop/deep/d");
	ck_assert_str_eq(walk_as(&owner), "top pub/a priv/b grp/c drop/deep/d");
	/* A file's own mode does not hide it (ls shows it); its directories do. */
	ck_assert_str_eq(walk_as(&other), "top pub/a");
	ck_assert_str_eq(walk_as(&member), "top pub/a grp/c");
	/* The owner's bits count for the owner even when other bits say more. */
	own(pub, S_IFDIR | 0055, 1000, 1000);
	ck_assert_str_eq(walk_as(&owner), "top priv/b grp/c drop/deep/d");
	ck_assert_str_eq(walk_as(&other), "top pub/a");
	/* A root nobody else may read shows others nothing. */
	own(root, S_IFDIR | 0711, 1000, 1000);
	ck_assert_str_eq(walk_as(&other), "");
	ck_assert_str_eq(walk_as(&superuser), "top pub/a priv/b grp/c drop/deep/d");
}
END_TEST

START_TEST(usage_counts)
{
	struct rfs_node *d, *f, *held;

	ck_assert_uint_eq(nodes(), 1);
	d = mk(root, "d", S_IFDIR | 0755);
	ck_assert_uint_eq(nodes(), 2);
	f = mk(d, "f", S_IFREG | 0644);
	mk(d, "p", S_IFIFO | 0644);
	mk(d, "l", S_IFLNK | 0777);
	ck_assert_uint_eq(nodes(), 5);
	ck_assert_int_eq(rfs_ns_link(ns, f, root, "f2"), 0); /* no new node */
	rfs_ns_forget(ns, f, 1);
	ck_assert_uint_eq(nodes(), 5);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "f", false), 0);
	ck_assert_uint_eq(nodes(), 5);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "f2", false), 0);
	ck_assert_uint_eq(nodes(), 4);
	held = mk_ref(d, "held", S_IFREG | 0644);
	ck_assert_uint_eq(nodes(), 5);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "held", false), 0);
	ck_assert_uint_eq(nodes(), 5);
	rfs_ns_forget(ns, held, 1);
	ck_assert_uint_eq(nodes(), 4);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "p", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "l", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "d", true), 0);
	ck_assert_uint_eq(nodes(), 1);
}
END_TEST

/* ---- lifetime close ---- */

/* Create a region name in dir with lifetime l; the caller keeps the reference. */
static struct rfs_node *mk_life(struct rfs_node *dir, const char *name, enum rfs_lifetime l)
{
	struct rfs_new what = {.mode = S_IFREG | 0644, .cred = me, .lifetime = l};
	struct rfs_node *n = NULL;

	ck_assert_int_eq(rfs_ns_create(ns, dir, name, &what, &n), 0);
	return n;
}

START_TEST(close_last_user_removes)
{
	struct rfs_node *f = mk_life(root, "f", RFS_LIFETIME_CLOSE);
	struct rfs_gone gone = {0};

	ck_assert_int_eq(rfs_node_lifetime(f), RFS_LIFETIME_CLOSE);
	write_str(f, "data", 0);
	rfs_node_opened(f);
	rfs_node_opened(f);
	ck_assert_uint_eq(rfs_node_opens(f), 2);
	ck_assert(!rfs_ns_closed(ns, f, &gone));
	ck_assert_ptr_eq(lk(root, "f"), f); /* one user left: still named */
	ck_assert(rfs_ns_closed(ns, f, &gone));
	ck_assert_ptr_eq(gone.dir, root);
	ck_assert_str_eq(gone.name, "f");
	rfs_ns_forget(ns, gone.dir, 1);
	ck_assert_uint_eq(rfs_node_opens(f), 0);
	ck_assert_ptr_null(lk(root, "f"));
	ck_assert_uint_eq(nlink_of(f), 0);
	/* Memory stays while referenced (a late opener), and goes with it. */
	ck_assert_uint_gt(used(), 0);
	rfs_ns_forget(ns, f, 1);
	ck_assert_uint_eq(nodes(), 1);
	ck_assert_uint_eq(used(), 0);
}
END_TEST

START_TEST(close_unused_stays)
{
	struct rfs_node *f = mk_life(root, "f", RFS_LIFETIME_CLOSE);
	struct rfs_node *p = mk_life(root, "p", RFS_LIFETIME_PERSIST);
	struct rfs_gone gone = {0};

	/* Never opened: it waits for its first user. */
	rfs_ns_forget(ns, f, 1);
	ck_assert_ptr_eq(lk(root, "f"), f);
	/* A persist region keeps its name whoever closes it. */
	rfs_node_opened(p);
	ck_assert(!rfs_ns_closed(ns, p, &gone));
	ck_assert_ptr_eq(lk(root, "p"), p);
	ck_assert_uint_eq(rfs_node_opens(p), 0);
	rfs_ns_forget(ns, p, 1);
	/* Its first user comes and goes: then it is gone. */
	rfs_ns_lookup(ns, root, "f", &f);
	rfs_node_opened(f);
	ck_assert(rfs_ns_closed(ns, f, &gone));
	rfs_ns_forget(ns, gone.dir, 1);
	rfs_ns_forget(ns, f, 1);
	ck_assert_ptr_null(lk(root, "f"));
	ck_assert_uint_eq(nodes(), 2);
}
END_TEST

START_TEST(close_unlinked_reopen)
{
	struct rfs_node *f = mk_life(root, "f", RFS_LIFETIME_CLOSE), *g;
	struct rfs_gone gone = {0};
	char buf[16];

	write_str(f, "old", 0);
	rfs_node_opened(f);
	ck_assert(rfs_ns_closed(ns, f, &gone));
	rfs_ns_forget(ns, gone.dir, 1);
	/* A lookup from before the removal still opens and reads the region. */
	rfs_node_opened(f);
	ck_assert_uint_eq(read_str(f, buf, sizeof(buf) - 1, 0), 3);
	ck_assert_str_eq(buf, "old");
	/* The name is free for a fresh region meanwhile. */
	g = mk_life(root, "f", RFS_LIFETIME_CLOSE);
	ck_assert_ptr_ne(g, f);
	ck_assert_uint_eq(rfs_mapping_size(rfs_node_mapping(g)), 0);
	/* The old one's last close touches the new name not at all. */
	ck_assert(!rfs_ns_closed(ns, f, &gone));
	ck_assert_ptr_eq(lk(root, "f"), g);
	rfs_ns_forget(ns, f, 1);
	rfs_ns_forget(ns, g, 1);
	ck_assert_uint_eq(nodes(), 2);
}
END_TEST

START_TEST(close_follows_renames)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *f = mk_life(root, "f", RFS_LIFETIME_CLOSE);
	struct rfs_node *x = mk_life(root, "x", RFS_LIFETIME_PERSIST);
	struct rfs_gone gone = {0};

	rfs_node_opened(f);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", d, "g", 0), 0);
	ck_assert_int_eq(rfs_ns_rename(ns, d, "g", root, "x", RFS_RENAME_EXCHANGE), 0);
	/* f is now root/x, the persist region d/g. */
	ck_assert_ptr_eq(lk(root, "x"), f);
	ck_assert(rfs_ns_closed(ns, f, &gone));
	ck_assert_ptr_eq(gone.dir, root);
	ck_assert_str_eq(gone.name, "x");
	rfs_ns_forget(ns, gone.dir, 1);
	ck_assert_ptr_null(lk(root, "x"));
	ck_assert_ptr_eq(lk(d, "g"), x);
	/* Renamed over: it lost its name already; its last close removes nothing. */
	rfs_ns_forget(ns, f, 1);
	f = mk_life(root, "f", RFS_LIFETIME_CLOSE);
	rfs_node_opened(f);
	ck_assert_int_eq(rfs_ns_rename(ns, d, "g", root, "f", 0), 0);
	ck_assert(!rfs_ns_closed(ns, f, &gone));
	ck_assert_ptr_eq(lk(root, "f"), x);
	rfs_ns_forget(ns, f, 1);
	rfs_ns_forget(ns, x, 1);
}
END_TEST

START_TEST(close_no_hard_links)
{
	struct rfs_node *f = mk_life(root, "f", RFS_LIFETIME_CLOSE);

	ck_assert_int_eq(rfs_ns_link(ns, f, root, "g"), -EMLINK);
	ck_assert_ptr_null(lk(root, "g"));
	rfs_ns_forget(ns, f, 1);
}
END_TEST

START_TEST(dir_default_lifetime)
{
	struct rfs_node *d = mk(root, "d", S_IFDIR | 0755), *sub, *f, *p, *l;
	struct rfs_new fifo = {.mode = S_IFIFO | 0644, .cred = me};

	ck_assert_int_eq(rfs_node_lifetime(root), RFS_LIFETIME_PERSIST);
	ck_assert_int_eq(rfs_node_lifetime(d), RFS_LIFETIME_PERSIST);
	ck_assert_int_eq(rfs_ns_set_lifetime(ns, d, RFS_LIFETIME_CLOSE), 0);
	ck_assert_int_eq(rfs_node_lifetime(d), RFS_LIFETIME_CLOSE);
	/* Regions and subdirectories made in it inherit; an explicit word wins. */
	f = mk_life(d, "f", RFS_LIFETIME_INHERIT);
	p = mk_life(d, "p", RFS_LIFETIME_PERSIST);
	sub = mk_ref(d, "sub", S_IFDIR | 0755);
	ck_assert_int_eq(rfs_node_lifetime(f), RFS_LIFETIME_CLOSE);
	ck_assert_int_eq(rfs_node_lifetime(p), RFS_LIFETIME_PERSIST);
	ck_assert_int_eq(rfs_node_lifetime(sub), RFS_LIFETIME_CLOSE);
	ck_assert_int_eq(rfs_ns_create(ns, d, "fifo", &fifo, &l), 0);
	ck_assert_int_eq(rfs_node_lifetime(l), RFS_LIFETIME_PERSIST);
	/* Changing the default leaves existing regions as they are. */
	ck_assert_int_eq(rfs_ns_set_lifetime(ns, d, RFS_LIFETIME_PERSIST), 0);
	ck_assert_int_eq(rfs_node_lifetime(f), RFS_LIFETIME_CLOSE);
	ck_assert_int_eq(rfs_ns_set_lifetime(ns, f, RFS_LIFETIME_CLOSE), -ENOTDIR);
	ck_assert_int_eq(rfs_ns_set_lifetime(ns, d, RFS_LIFETIME_INHERIT), -EINVAL);
	rfs_ns_forget(ns, f, 1);
	rfs_ns_forget(ns, p, 1);
	rfs_ns_forget(ns, sub, 1);
	rfs_ns_forget(ns, l, 1);
}
END_TEST

/* Openers racing the last close: each sees a live region, named or not. */
struct race {
	struct rfs_node *dir;
	int rounds;
	int removed;
};

static void *race_user(void *arg)
{
	struct race *r = arg;
	struct rfs_new what = {.mode = S_IFREG | 0644, .cred = me};
	struct rfs_gone gone;

	for (int i = 0; i < r->rounds; i++) {
		struct rfs_node *n;
		int err = rfs_ns_lookup(ns, r->dir, "f", &n);

		if (err == -ENOENT)
			err = rfs_ns_create(ns, r->dir, "f", &what, &n);
		if (err == -EEXIST)
			continue;
		ck_assert_int_eq(err, 0);
		rfs_node_opened(n);
		ck_assert_ptr_nonnull(rfs_node_mapping(n));
		ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(n), "x", 1, 0), 1);
		if (rfs_ns_closed(ns, n, &gone)) {
			ck_assert_str_eq(gone.name, "f");
			rfs_ns_forget(ns, gone.dir, 1);
			__atomic_fetch_add(&r->removed, 1, __ATOMIC_RELAXED);
		}
		rfs_ns_forget(ns, n, 1);
	}
	return NULL;
}

START_TEST(close_race)
{
	struct race r = {.dir = mk(root, "d", S_IFDIR | 0755), .rounds = 20000};
	pthread_t t[4];

	ck_assert_int_eq(rfs_ns_set_lifetime(ns, r.dir, RFS_LIFETIME_CLOSE), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race_user, &r), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_gt(r.removed, 0);
	/* Everyone left: the name went with the last of them, and every region's memory. */
	ck_assert_ptr_null(lk(r.dir, "f"));
	ck_assert_uint_eq(nodes(), 2);
	ck_assert_uint_eq(used(), 0);
}
END_TEST

/* Bytes charged to a store: its regions' pages and what is carved from it. */
static uint64_t charged(struct rfs_store *s)
{
	struct rfs_store_usage u;

	rfs_store_usage(s, &u);
	return u.bytes_used;
}

/* Fill n with len bytes from offset 0; what the store took. */
static ssize_t fill(struct rfs_node *n, size_t len)
{
	char *buf = malloc(len);
	ssize_t r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'b', len);
	r = rfs_mapping_write(rfs_node_mapping(n), buf, len, 0);
	free(buf);
	return r;
}

START_TEST(budget_bounds_its_regions)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755), *f, *g;
	struct rfs_store *s;

	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 1 << 20), 0);
	s = rfs_node_budget(a);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(rfs_store_parent(s), store);
	/* Carved from the mount's store from the start. */
	ck_assert_uint_eq(used(), 1 << 20);
	f = mk(a, "f", S_IFREG | 0644);
	ck_assert_ptr_eq(rfs_region_store(rfs_node_mapping(f)), s);
	ck_assert_int_eq(fill(f, 1 << 20), 1 << 20);
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(f), "x", 1, 1 << 20), -ENOSPC);
	/* Outside the budget there is room. */
	g = mk(root, "g", S_IFREG | 0644);
	ck_assert_int_eq(fill(g, 2 << 20), 2 << 20);
	/* statfs's store: the budget inside it, the mount's outside. */
	s = rfs_ns_store_of(ns, f);
	ck_assert_ptr_eq(s, rfs_node_budget(a));
	rfs_store_free(s);
	s = rfs_ns_store_of(ns, a);
	ck_assert_ptr_eq(s, rfs_node_budget(a));
	rfs_store_free(s);
	s = rfs_ns_store_of(ns, g);
	ck_assert_ptr_eq(s, store);
	rfs_store_free(s);
	/* Shrinking below the use, taking it away: -EBUSY; growing: yes. */
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 4096), -EBUSY);
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 0), -EBUSY);
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 2 << 20), 0);
	ck_assert_int_eq(rfs_mapping_write(rfs_node_mapping(f), "x", 1, 1 << 20), 1);
	ck_assert_uint_eq(used(), (2 << 20) + (2 << 20));
	/* A budget larger than the room above: -ENOSPC, nothing changed. */
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 1ULL << 31), -ENOSPC);
	ck_assert_uint_eq(rfs_store_cap(rfs_node_budget(a)), 2 << 20);
	/* Once its regions are gone the budget may go, and gives its room back. */
	ck_assert_int_eq(rfs_ns_remove(ns, a, "f", false), 0);
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 0), 0);
	ck_assert_ptr_null(rfs_node_budget(a));
	ck_assert_uint_eq(used(), 2 << 20);
	ck_assert_int_eq(rfs_ns_set_budget(ns, root, 1 << 20), -EPERM);
	ck_assert_int_eq(rfs_ns_set_budget(ns, g, 1 << 20), -ENOTDIR);
}
END_TEST

START_TEST(budget_given_before_regions)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755);
	struct rfs_node *b = mk(a, "b", S_IFDIR | 0755);

	mk(b, "f", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 1 << 20), -EBUSY);
	ck_assert_int_eq(rfs_ns_set_budget(ns, b, 1 << 20), -EBUSY);
	ck_assert_ptr_null(rfs_node_budget(a));
	ck_assert_uint_eq(used(), 0);
}
END_TEST

START_TEST(budget_nesting)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755);
	struct rfs_node *b = mk(a, "b", S_IFDIR | 0755), *c = mk(a, "c", S_IFDIR | 0755);
	struct rfs_store *sa, *sb;

	/* The inner one first: giving the outer one later carves it anew. */
	ck_assert_int_eq(rfs_ns_set_budget(ns, b, 1 << 20), 0);
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 512 << 10), -ENOSPC);
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 3 << 20), 0);
	sa = rfs_node_budget(a);
	sb = rfs_node_budget(b);
	ck_assert_ptr_eq(rfs_store_parent(sb), sa);
	ck_assert_uint_eq(charged(sa), 1 << 20);
	ck_assert_uint_eq(used(), 3 << 20);
	/* The outer one cannot shrink below what is carved from it. */
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 512 << 10), -EBUSY);
	/* Nor go while a budget is carved from it. */
	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 0), -EBUSY);
	/* Regions of c count against a, b's are b's, and b's room is taken from a. */
	ck_assert_int_eq(fill(mk(c, "f", S_IFREG | 0644), 3 << 20), 2 << 20);
	ck_assert_int_eq(fill(mk(b, "g", S_IFREG | 0644), 1 << 20), 1 << 20);
	ck_assert_uint_eq(charged(sa), 3 << 20);
	/* A budget moves with its directory, carved from where it lands. */
	ck_assert_int_eq(rfs_ns_rename(ns, a, "b", root, "b", 0), 0);
	ck_assert_ptr_eq(rfs_store_parent(sb), store);
	ck_assert_uint_eq(charged(sa), 2 << 20);
	ck_assert_uint_eq(used(), 4 << 20);
	/* Back it does not fit once a's own regions take the room. */
	ck_assert_int_eq(fill(mk(c, "f2", S_IFREG | 0644), 1 << 20), 1 << 20);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "b", a, "b", 0), -ENOSPC);
	ck_assert_ptr_eq(lk(root, "b"), b);
	ck_assert_ptr_null(lk(a, "b"));
	ck_assert_ptr_eq(rfs_store_parent(sb), store);
}
END_TEST

START_TEST(budget_exdev)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755), *d = mk(root, "d", S_IFDIR | 0755);
	struct rfs_node *e = mk(root, "e", S_IFDIR | 0755), *f, *v;
	struct rfs_new sym = {.mode = S_IFLNK | 0777, .cred = me, .target = "x"};

	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 1 << 20), 0);
	f = mk(root, "f", S_IFREG | 0644);
	mk(d, "inner", S_IFREG | 0644);
	/* Regions, and directories holding them, stay on their side. */
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", a, "f", 0), -EXDEV);
	ck_assert_int_eq(rfs_ns_link(ns, f, a, "f"), -EXDEV);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "d", a, "d", 0), -EXDEV);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "f", a, "f", RFS_RENAME_EXCHANGE), -ENOENT);
	/* What keeps no bytes moves freely: symlinks, empty directories. */
	ck_assert_int_eq(rfs_ns_create(ns, root, "l", &sym, &v), 0);
	rfs_ns_forget(ns, v, 1);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "l", a, "l", 0), 0);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "e", a, "e", 0), 0);
	/* Inside one budget everything moves. */
	mk(e, "g", S_IFREG | 0644);
	ck_assert_int_eq(rfs_ns_rename(ns, e, "g", a, "g", 0), 0);
	ck_assert_int_eq(rfs_ns_link(ns, lk(a, "g"), e, "g2"), 0);
	/* A region made for another store may not be named here. */
	{
		struct rfs_new what = {.mode = S_IFREG | 0644, .cred = me};
		struct rfs_node *n;

		ck_assert_int_eq(rfs_region_new(store, &what.map), 0);
		ck_assert_int_eq(rfs_ns_create(ns, a, "h", &what, &n), -EXDEV);
		rfs_mapping_free(what.map);
	}
}
END_TEST

START_TEST(budget_outlives_its_directory)
{
	struct rfs_node *a = mk(root, "a", S_IFDIR | 0755), *f;
	struct rfs_store *s;

	ck_assert_int_eq(rfs_ns_set_budget(ns, a, 1 << 20), 0);
	s = rfs_node_budget(a);
	f = mk_ref(a, "f", S_IFREG | 0644);
	ck_assert_int_eq(fill(f, 4096), 4096);
	/* Unlinked but open, then its directory removed: the region keeps
	 * its store, and the store its carve, until the region goes. */
	ck_assert_int_eq(rfs_ns_remove(ns, a, "f", false), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "a", true), 0);
	ck_assert_ptr_eq(rfs_region_store(rfs_node_mapping(f)), s);
	ck_assert_uint_eq(used(), 1 << 20);
	rfs_ns_forget(ns, f, 1);
	ck_assert_uint_eq(used(), 0);
}
END_TEST

static Suite *ns_suite(void)
{
	Suite *s = suite_create("ns");
	struct {
		const char *name;
		const TTest *tests[8];
	} cases[] = {
		{"create_lookup",
		 {create_file, create_dir, create_symlink, create_special, create_in_removed_dir}},
		{"errors", {create_errors, name_length}},
		{"hard_links", {hard_links, link_errors}},
		{"rename",
		 {rename_plain, rename_over_file, rename_noreplace, rename_same_node,
		  rename_into_subtree, rename_type_errors}},
		{"rename_exchange", {rename_exchange_files, rename_exchange_dirs, rename_whiteout}},
		{"dirs", {dir_nlink, setgid_inherit, dir_times}},
		{"readdir",
		 {readdir_all, readdir_hides_reserved, readdir_resume, readdir_remove_during,
		  readdir_listing_under_renames}},
		{"lifetime",
		 {removed_file_lives, forget_named_keeps, removed_dir_lives,
		  removed_dir_parent_gone_readdir, removed_dir_parent_gone_lookup}},
		{"lifetime_close",
		 {close_last_user_removes, close_unused_stays, close_unlinked_reopen,
		  close_follows_renames, close_no_hard_links, dir_default_lifetime, close_race}},
		{"setattr", {setattr_fields}},
		{"numbers", {numbers_find_nodes}},
		{"xattrs", {xattrs_kept_and_bounded, kill_priv, tmpfile_then_link}},
		{"iflags", {iflags_refuse}},
		{"usage", {usage_counts}},
		{"walk", {walk_as_reader}},
		{"budgets",
		 {budget_bounds_its_regions, budget_given_before_regions, budget_nesting,
		  budget_exdev, budget_outlives_its_directory}},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_set_timeout(tc, 30);
		tcase_add_checked_fixture(tc, setup, teardown);
		for (j = 0; j < 8 && cases[i].tests[j]; j++)
			tcase_add_test(tc, cases[i].tests[j]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return rfs_check_run(ns_suite());
}
