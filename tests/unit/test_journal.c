/*
 * Unit tests for lib/journal.c and lib/ns_journal.c: records come back
 * field for field; a record being written when its process died is not in
 * the log; a log of another format is refused; a full log says so. A
 * namespace replayed from its journal equals the one that wrote it: every
 * node's number, names in listing order, mode, owner, times, links,
 * attributes, flags, lifetime and bytes, after scripted edge cases and
 * thousands of random changes.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "lib/acl.h"
#include "lib/journal.h"
#include "lib/mapping.h"
#include "lib/ns_i.h"
#include "lib/store.h"

static int count_records(void *ctx, struct rfs_rec *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static struct rfs_rec rec;

/* One record of each kind of field, made by request 77. */
static void append_sample(struct rfs_journal *j)
{
	rfs_journal_set_unique(77);
	rfs_rec_init(&rec, 5, -123456789);
	rfs_rec_put_u64(&rec, UINT64_MAX);
	rfs_rec_put_str(&rec, "a name with spaces");
	rfs_rec_put_str(&rec, NULL);
	rfs_rec_put_bytes(&rec, "\0\1\2", 3);
	rfs_rec_put_bytes(&rec, NULL, 0);
	ck_assert_int_eq(rfs_journal_append(j, &rec), 0);
	rfs_journal_set_unique(0);
}

START_TEST(fields_round_trip)
{
	struct rfs_journal *j;
	int n = 0;

	ck_assert_int_eq(rfs_journal_new(1 << 20, &j), 0);
	append_sample(j);
	ck_assert_uint_eq(rfs_journal_records(j), 1);
	ck_assert_uint_eq(rfs_journal_made_by(j, 77 | 1ULL << 63), 5);
	ck_assert_uint_eq(rfs_journal_made_by(j, 78), 0);
	/* a resent request's records are its own: found by its resend too */
	rfs_journal_set_unique(78 | 1ULL << 63);
	rfs_rec_init(&rec, 6, 0);
	ck_assert_int_eq(rfs_journal_append(j, &rec), 0);
	rfs_journal_set_unique(0);
	ck_assert_uint_eq(rfs_journal_made_by(j, 78), 6);
	ck_assert_uint_eq(rfs_journal_made_by(j, 78 | 1ULL << 63), 6);
	memset(&rec, 0xa5, sizeof(rec));
	ck_assert_int_eq(rfs_journal_replay(j, count_records, &n), 0);
	ck_assert_int_eq(n, 2);
	rfs_journal_free(j);
}
END_TEST

static int check_fields(void *ctx, struct rfs_rec *r)
{
	size_t n;
	const unsigned char *b;

	(void)ctx;
	ck_assert_uint_eq(r->type, 5);
	ck_assert_int_eq(r->time, -123456789);
	ck_assert_uint_eq(r->unique, 77);
	ck_assert_uint_eq(rfs_rec_get_u64(r), UINT64_MAX);
	ck_assert_str_eq(rfs_rec_get_str(r), "a name with spaces");
	ck_assert_ptr_null(rfs_rec_get_str(r));
	b = rfs_rec_get_bytes(r, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(b, "\0\1\2", 3), 0);
	rfs_rec_get_bytes(r, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert(!r->bad);
	rfs_rec_get_u64(r); /* past the end */
	ck_assert(r->bad);
	return 0;
}

START_TEST(fields_read_back)
{
	struct rfs_journal *j;

	ck_assert_int_eq(rfs_journal_new(1 << 20, &j), 0);
	append_sample(j);
	ck_assert_int_eq(rfs_journal_replay(j, check_fields, NULL), 0);
	rfs_journal_free(j);
}
END_TEST

/* A process killed while writing a record leaves bytes past the published
 * end: another process opening the journal sees only whole records. */
START_TEST(torn_record_is_not_there)
{
	struct rfs_journal *j, *again;
	char junk[4096];
	int n = 0;

	ck_assert_int_eq(rfs_journal_new(1 << 20, &j), 0);
	for (int i = 0; i < 3; i++) {
		rfs_rec_init(&rec, 1, i);
		rfs_rec_put_u64(&rec, (uint64_t)i);
		ck_assert_int_eq(rfs_journal_append(j, &rec), 0);
	}
	/* a record's fixed part and payload, half written, its length plausible */
	memset(junk, 0x5a, sizeof(junk));
	memcpy(junk, &(uint32_t){64}, sizeof(uint32_t));
	ck_assert_int_eq(
		pwrite(rfs_journal_fd(j), junk, sizeof(junk), (off_t)rfs_journal_end_offset(j)),
		(ssize_t)sizeof(junk));
	ck_assert_int_eq(rfs_journal_open(rfs_journal_fd(j), &again), 0);
	ck_assert_int_eq(rfs_journal_replay(again, count_records, &n), 0);
	ck_assert_int_eq(n, 3);
	rfs_journal_free(again);
	rfs_journal_free(j);
}
END_TEST

START_TEST(not_a_journal)
{
	struct rfs_journal *j;
	int fd = memfd_create("x", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(rfs_journal_open(fd, &j), -EPROTO); /* empty */
	ck_assert_int_eq(ftruncate(fd, 1 << 16), 0);
	ck_assert_int_eq(rfs_journal_open(fd, &j), -EPROTO); /* zeros */
	close(fd);
	/* another version of the format */
	ck_assert_int_eq(rfs_journal_new(1 << 16, &j), 0);
	fd = dup(rfs_journal_fd(j));
	rfs_journal_free(j);
	uint32_t v = RFS_JOURNAL_VERSION + 1;
	ck_assert_int_eq(pwrite(fd, &v, sizeof(v), 8), (ssize_t)sizeof(v));
	ck_assert_int_eq(rfs_journal_open(fd, &j), -EPROTO);
	close(fd);
}
END_TEST

START_TEST(full_and_too_big)
{
	struct rfs_journal *j;
	static char big[RFS_REC_MAX];
	int err = 0, n = 0;

	ck_assert_int_eq(rfs_journal_new(4096, &j), 0);
	while (!err) {
		rfs_rec_init(&rec, 1, 0);
		rfs_rec_put_bytes(&rec, big, 100);
		err = rfs_journal_append(j, &rec);
		n += !err;
	}
	ck_assert_int_eq(err, -ENOSPC);
	ck_assert_int_gt(n, 20);
	ck_assert_uint_eq(rfs_journal_records(j), (uint64_t)n);
	rfs_rec_init(&rec, 1, 0);
	rfs_rec_put_bytes(&rec, big, sizeof(big)); /* with its length, past the limit */
	ck_assert_int_eq(rfs_journal_append(j, &rec), -E2BIG);
	rfs_journal_free(j);
}
END_TEST

/* The namespace: one written with a journal, one replayed from it. */

static struct rfs_store *store;
static struct rfs_journal *journal;
static struct rfs_ns *ns;
static const struct rfs_cred me = {.uid = 1000, .gid = 1000};

static void setup(void)
{
	/* noatime: the comparison's own reads would move the files' atimes */
	struct rfs_store_tune tune = {.atime = RFS_STORE_NOATIME};

	ck_assert_int_eq(rfs_store_new_tuned(1ULL << 30, 100000, RFS_STORE_TMPFS, &tune, &store),
			 0);
	ck_assert_int_eq(rfs_store_kind(store), RFS_STORE_TMPFS);
	ck_assert_int_eq(rfs_journal_new(1ULL << 32, &journal), 0);
	ck_assert_int_eq(rfs_ns_new(store, 0755, me, &ns), 0);
	rfs_ns_set_journal(ns, journal);
}

static void teardown(void)
{
	rfs_ns_free(ns);
	rfs_journal_free(journal);
	rfs_store_free(store);
}

/* Everything a node is, as text, appended to out. */
static int dump_entry(void *ctx, const char *name, struct rfs_node *n, uint64_t next)
{
	char **out = ctx;
	char *s;

	ck_assert_int_ge(asprintf(&s, "%s  %s=%llu@%llu\n", *out, name, (unsigned long long)n->ino,
				  (unsigned long long)next),
			 0);
	free(*out);
	*out = s;
	return 0;
}

static void append(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(char **out, const char *fmt, ...)
{
	va_list ap;
	char *more, *s;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&more, fmt, ap), 0);
	va_end(ap);
	ck_assert_int_ge(asprintf(&s, "%s%s", *out, more), 0);
	free(more);
	free(*out);
	*out = s;
}

static char *dump(struct rfs_ns *d)
{
	char *out = strdup(""), names[4096], value[70000], bytes[8192];
	struct rfs_node *n;

	for (n = d->all.all_next; n != &d->all; n = n->all_next) {
		struct stat st;

		if (n->ino < RFS_NS_FIRST_INO && n != d->root)
			continue;
		rfs_ns_stat(d, n, &st);
		append(&out,
		       "%llu mode %o %u:%u nlink %llu size %lld a %lld.%ld m %lld.%ld c %lld.%ld b "
		       "%lld rdev %llu flags %x life %d linkable %d\n",
		       (unsigned long long)n->ino, st.st_mode, st.st_uid, st.st_gid,
		       (unsigned long long)st.st_nlink, (long long)st.st_size,
		       (long long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
		       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		       (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec, (long long)n->btime,
		       (unsigned long long)st.st_rdev, rfs_ns_iflags(n), (int)rfs_node_lifetime(n),
		       n->linkable);
		if (S_ISDIR(n->mode)) {
			append(&out, " parent %llu subdirs %zu\n",
			       (unsigned long long)n->dir.parent->ino, n->dir.subdirs);
			ck_assert_int_eq(rfs_ns_readdir(d, n, 0, NULL, dump_entry, &out), 0);
		} else if (S_ISLNK(n->mode)) {
			append(&out, " -> %s\n", n->target);
		} else if (S_ISREG(n->mode)) {
			ssize_t got = rfs_mapping_read_into(n->map, bytes, sizeof(bytes), 0);

			ck_assert_int_ge(got, 0);
			append(&out, " file %llu bytes",
			       (unsigned long long)rfs_region_file(n->map));
			for (ssize_t i = 0; i < got; i++)
				append(&out, "%02x", (unsigned char)bytes[i]);
			append(&out, "\n");
		}
		int len = rfs_ns_listxattr(d, n, true, names, sizeof(names));

		ck_assert_int_ge(len, 0);
		for (int at = 0; at < len; at += (int)strlen(names + at) + 1) {
			int vlen = rfs_ns_getxattr(d, n, names + at, value, sizeof(value));

			ck_assert_int_ge(vlen, 0);
			append(&out, " xattr %s (%d)", names + at, vlen);
			for (int i = 0; i < vlen && i < 16; i++)
				append(&out, "%02x", (unsigned char)value[i]);
			append(&out, "\n");
		}
	}
	return out;
}

/* got and want are equal; else the first line that differs fails (check's
 * messages are too short for whole dumps). */
static void same_text(const char *got, const char *want)
{
	while (*got || *want) {
		size_t g = strcspn(got, "\n"), w = strcspn(want, "\n");

		if (g != w || memcmp(got, want, g)) {
			ck_assert_msg(false, "replayed: %.*s\nwritten:  %.*s",
				      (int)(g > 400 ? 400 : g), got, (int)(w > 400 ? 400 : w),
				      want);
		}
		got += g + (got[g] != 0);
		want += w + (want[w] != 0);
	}
}

/*
 * A restart: the process that wrote the namespace goes (its region files
 * stay), a new one replays the journal over the same store, gives the
 * nodes numbered held[] the reference their user still has, and releases
 * the replay's. The two must be equal; the new one goes on journaling.
 */
static void restart(const uint64_t *held, size_t nheld)
{
	uint64_t nodes = ns->nodes, xattr_used = ns->xattr_used;
	struct rfs_node *n;
	char *want, *got;

	ck_assert_int_eq(rfs_ns_journal_error(ns), 0);
	want = dump(ns);
	rfs_store_keep_files(store, true);
	rfs_ns_free(ns);
	rfs_store_keep_files(store, false);
	ck_assert_int_eq(rfs_ns_new(store, 0755, me, &ns), 0);
	ck_assert_int_eq(rfs_ns_replay(ns, journal, NULL, NULL), 0);
	for (size_t i = 0; i < nheld; i++)
		ck_assert_int_eq(rfs_ns_find(ns, held[i], &n), 0);
	rfs_ns_replay_release(ns);
	rfs_ns_set_journal(ns, journal);
	got = dump(ns);
	same_text(got, want);
	ck_assert_uint_eq(ns->nodes, nodes);
	ck_assert_uint_eq(ns->xattr_used, xattr_used);
	free(want);
	free(got);
}

/* Drop the reference on node ino that restart gave back. */
static void let_go(uint64_t ino)
{
	struct rfs_node *n = rfs_ns_node(ns, ino);

	ck_assert_ptr_nonnull(n);
	rfs_ns_forget(ns, n, 1);
}

static struct rfs_node *make(struct rfs_node *dir, const char *name, mode_t mode,
			     const char *target)
{
	struct rfs_new what = {.mode = mode, .cred = me, .target = target, .umask = 022};
	struct rfs_node *n;

	if (S_ISCHR(mode))
		what.rdev = makedev(1, 3);
	ck_assert_int_eq(rfs_ns_create(ns, dir, name, &what, &n), 0);
	rfs_ns_forget(ns, n, 1);
	return n;
}

static void lookup(struct rfs_node *dir, const char *name, struct rfs_node **n)
{
	ck_assert_int_eq(rfs_ns_lookup(ns, dir, name, n), 0);
	rfs_ns_forget(ns, *n, 1); /* a name holds it */
}

START_TEST(replay_scripted)
{
	struct rfs_node *root = rfs_ns_root(ns), *d, *sub, *f, *g, *held, *tmp;
	struct rfs_new tmpfile = {.mode = S_IFREG | 0600, .cred = me};
	struct rfs_gone gone;
	struct stat st = {0};
	/* user::rwx group::r-x other::--- as a default ACL */
	const unsigned char acl[] = {2,	   0,	 0, 0, 1,    0,	   7,	 0,    0xff, 0xff,
				     0xff, 0xff, 4, 0, 5,    0,	   0xff, 0xff, 0xff, 0xff,
				     0x20, 0,	 0, 0, 0xff, 0xff, 0xff, 0xff};
	uint64_t keep[2];

	d = make(root, "dir with spaces", S_IFDIR | 02775, NULL);
	sub = make(d, "sub", S_IFDIR | 0700, NULL);
	f = make(d, "region", S_IFREG | 0666, NULL);
	ck_assert_int_eq(rfs_mapping_write(f->map, "hello", 5, 0), 5);
	make(d, "link", S_IFLNK | 0777, "region");
	make(sub, "null", S_IFCHR | 0600, NULL);
	make(sub, "fifo", S_IFIFO | 0644, NULL);
	ck_assert_int_eq(rfs_ns_link(ns, f, sub, "second name"), 0);
	rfs_ns_forget(ns, f, 1);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.colour", "blue", 4, 0), 0);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "user.colour", "red", 3, XATTR_REPLACE), 0);
	ck_assert_int_eq(rfs_ns_setxattr(ns, f, "trusted.x", "", 0, 0), 0);
	ck_assert_int_eq(rfs_ns_removexattr(ns, f, "trusted.x"), 0);
	ck_assert_int_eq(rfs_ns_setxattr(ns, sub, RFS_ACL_DEFAULT, acl, sizeof(acl), 0), 0);
	make(sub, "inherits", S_IFREG | 0666, NULL);
	st.st_mode = 04755;
	st.st_uid = 1001;
	st.st_atim.tv_sec = 1000000;
	st.st_mtim.tv_sec = 2000000;
	st.st_mtim.tv_nsec = 5;
	ck_assert_int_eq(rfs_ns_setattr(ns, f,
					RFS_SET_MODE | RFS_SET_UID | RFS_SET_ATIME | RFS_SET_MTIME,
					&st),
			 0);
	rfs_ns_kill_priv(ns, f); /* drops set-user-ID */
	st.st_size = 3;
	ck_assert_int_eq(rfs_ns_setattr(ns, f, RFS_SET_SIZE, &st), 0);
	ck_assert_int_eq(rfs_mapping_write(f->map, "LO", 2, 3), 2); /* after the truncate */
	ck_assert_int_eq(rfs_ns_set_iflags(ns, sub, FS_NODUMP_FL), 0);
	g = make(root, "g", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_ns_set_iflags(ns, g, FS_APPEND_FL | FS_NOATIME_FL), 0);
	/* renames: plain, over a name, exchange, whiteout */
	make(root, "a", S_IFREG | 0644, NULL);
	make(root, "b", S_IFDIR | 0755, NULL);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "a", d, "a2", 0), 0);
	make(root, "c", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "c", d, "a2", 0), 0); /* the old a2 goes */
	ck_assert_int_eq(rfs_ns_rename(ns, root, "b", d, "a2", RFS_RENAME_EXCHANGE), 0);
	ck_assert_int_eq(rfs_ns_rename_as(ns, d, "region", root, "moved", RFS_RENAME_WHITEOUT, me),
			 0);
	ck_assert_int_eq(rfs_ns_remove(ns, d, "link", false), 0);
	/* a file removed while something holds it, changed after */
	held = make(root, "held", S_IFREG | 0600, NULL);
	rfs_ns_ref(ns, held);
	ck_assert_int_eq(rfs_mapping_write(held->map, "kept", 4, 0), 4);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "held", false), 0);
	ck_assert_int_eq(rfs_ns_setxattr(ns, held, "user.after", "1", 1, 0), 0);
	/* a file removed and freed: its store file is gone */
	tmp = make(root, "gone", S_IFREG | 0600, NULL);
	ck_assert_int_eq(rfs_mapping_write(tmp->map, "x", 1, 0), 1);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "gone", false), 0);
	/* O_TMPFILE, named later; another never named but held */
	ck_assert_int_eq(rfs_ns_create(ns, d, NULL, &tmpfile, &tmp), 0);
	ck_assert_int_eq(rfs_ns_link(ns, tmp, root, "was tmpfile"), 0);
	rfs_ns_forget(ns, tmp, 2);
	ck_assert_int_eq(rfs_ns_create(ns, d, NULL, &tmpfile, &tmp), 0);
	/* lifetimes: a close region goes with its last user */
	ck_assert_int_eq(rfs_ns_set_lifetime(ns, sub, RFS_LIFETIME_CLOSE), 0);
	g = make(sub, "closes", S_IFREG | 0600, NULL);
	make(sub, "stays", S_IFREG | 0600, NULL);
	rfs_node_opened(g);
	ck_assert(rfs_ns_closed(ns, g, &gone));
	rfs_ns_forget(ns, gone.dir, 1);
	lookup(root, "moved", &f);
	ck_assert_ptr_nonnull(f);
	keep[0] = held->ino;
	keep[1] = tmp->ino;
	restart(keep, 2);
	/* the held files go with their last users, after the restart */
	let_go(keep[0]);
	let_go(keep[1]);
	ck_assert_ptr_null(rfs_ns_node(ns, keep[0]));
	restart(NULL, 0);
}
END_TEST

/* Thousands of random changes over a few names, most of which fail:
 * whatever sequence they make, the replay makes the same. */
/* Make count random changes; dirs[1..] are held by the caller. */
static void random_changes(struct rfs_node *dirs[4], int *made_dirs, unsigned int *seed, int count)
{
	const char *names[] = {"a", "b", "c", "d e", "f"};
	struct rfs_node *n;
	int made = *made_dirs;

	for (int i = 0; i < count; i++) {
		unsigned int r = (unsigned int)rand_r(seed);
		struct rfs_node *dir = dirs[r % (unsigned)made],
				*to = dirs[(r >> 4) % (unsigned)made];
		const char *name = names[(r >> 8) % 5], *other = names[(r >> 12) % 5];
		struct rfs_new what = {.cred = me, .umask = (r >> 16) & 077};
		struct stat st = {0};

		if (!dir->nlink)
			continue;
		switch ((r >> 20) % 10) {
		case 0:
		case 1:
			what.mode = (r >> 24) & 1 ? S_IFDIR | 0777 : S_IFREG | 0666;
			if (!rfs_ns_create(ns, dir, name, &what, &n)) {
				if (S_ISDIR(n->mode) && made < 4)
					dirs[made++] = n; /* keeps the reference */
				else
					rfs_ns_forget(ns, n, 1);
			}
			break;
		case 2:
			rfs_ns_rename(ns, dir, name, to, other,
				      (r >> 24) % 3 == 1 ? RFS_RENAME_EXCHANGE : 0);
			break;
		case 3:
			rfs_ns_remove(ns, dir, name, (r >> 24) & 1);
			break;
		case 4:
			if (!rfs_ns_lookup(ns, dir, name, &n)) {
				if (!rfs_ns_link(ns, n, to, other))
					rfs_ns_forget(ns, n, 1);
				rfs_ns_forget(ns, n, 1);
			}
			break;
		case 5:
			if (!rfs_ns_lookup(ns, dir, name, &n)) {
				st.st_mode = r & 07777;
				st.st_gid = r % 3;
				rfs_ns_setattr(ns, n, RFS_SET_MODE | RFS_SET_GID | RFS_SET_MTIME,
					       &st);
				rfs_ns_forget(ns, n, 1);
			}
			break;
		case 6:
			if (!rfs_ns_lookup(ns, dir, name, &n)) {
				rfs_ns_setxattr(ns, n, (r >> 24) & 1 ? "user.x" : "user.y", name, 1,
						(r >> 25) & 1 ? XATTR_CREATE : 0);
				rfs_ns_forget(ns, n, 1);
			}
			break;
		case 7:
			if (!rfs_ns_lookup(ns, dir, name, &n)) {
				if (S_ISREG(n->mode))
					rfs_mapping_write(n->map, &r, sizeof(r), r % 64);
				rfs_ns_forget(ns, n, 1);
			}
			break;
		case 8:
			rfs_ns_set_lifetime(
				ns, dir, (r >> 24) & 1 ? RFS_LIFETIME_CLOSE : RFS_LIFETIME_PERSIST);
			break;
		default:
			if (!rfs_ns_lookup(ns, dir, name, &n)) {
				if (rfs_node_lifetime(n) == RFS_LIFETIME_CLOSE &&
				    S_ISREG(n->mode)) {
					struct rfs_gone gone;

					rfs_node_opened(n);
					if (rfs_ns_closed(ns, n, &gone))
						rfs_ns_forget(ns, gone.dir, 1);
				}
				rfs_ns_forget(ns, n, 1);
			}
			break;
		}
	}
	*made_dirs = made;
}

START_TEST(replay_random)
{
	struct rfs_node *dirs[4] = {rfs_ns_root(ns)};
	unsigned int seed = 12345;
	uint64_t held[4];
	int made = 1;

	/* three processes in turn, each restarted from the journal */
	for (int round = 0; round < 3; round++) {
		random_changes(dirs, &made, &seed, 10000);
		for (int i = 1; i < made; i++)
			held[i - 1] = dirs[i]->ino;
		restart(held, (size_t)made - 1);
		dirs[0] = rfs_ns_root(ns);
		for (int i = 1; i < made; i++)
			dirs[i] = rfs_ns_node(ns, held[i - 1]);
	}
	for (int i = 1; i < made; i++)
		rfs_ns_forget(ns, dirs[i], 1);
	restart(NULL, 0);
	ck_assert_uint_gt(rfs_journal_records(journal), 2000);
}
END_TEST

/*
 * As under -o restart: the namespace is made (regions, directories), the
 * journal begins, a process forked then waits; the first makes changes,
 * among them to nodes made before the journal (removed, freed, renamed
 * over), and stops; the forked one replays the journal onto its copy of
 * the namespace as it was, over the same store, and must equal it.
 */
START_TEST(replay_onto_the_state_forked_before)
{
	struct rfs_node *root = rfs_ns_root(ns), *cfg, *r, *n;
	int go[2], done[2], status = 0;
	char *want, buf[1 << 16];
	size_t len = 0;
	ssize_t got;
	pid_t child;

	rfs_ns_set_journal(ns, NULL);
	cfg = make(root, "cfg", S_IFDIR | 0755, NULL);
	r = make(cfg, "r", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_mapping_write(r->map, "declared", 8, 0), 8);
	make(cfg, "kept", S_IFREG | 0644, NULL);
	make(cfg, "replaced", S_IFREG | 0644, NULL);
	rfs_ns_set_journal(ns, journal);
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(done), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* The successor: its namespace is the one before the changes. */
		char c;
		uint64_t nodes;

		close(go[1]);
		close(done[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		while ((got = read(go[0], buf + len, sizeof(buf) - 1 - len)) > 0)
			len += (size_t)got;
		buf[len] = '\0';
		sscanf(buf, "%llu", (unsigned long long *)&nodes);
		if (rfs_ns_replay(ns, journal, NULL, NULL))
			_exit(3);
		rfs_ns_replay_release(ns);
		want = dump(ns);
		_exit(strcmp(want, strchr(buf, '\n') + 1) || ns->nodes != nodes ? 4 : 0);
	}
	close(go[0]);
	close(done[1]);
	/* made before; held, removed, changed while held, then let go */
	ck_assert_int_eq(rfs_ns_lookup(ns, cfg, "r", &n), 0);
	ck_assert_int_eq(rfs_ns_remove(ns, cfg, "r", false), 0);
	ck_assert_int_eq(rfs_ns_setxattr(ns, n, "user.held", "1", 1, 0), 0);
	rfs_ns_forget(ns, n, 1);
	make(cfg, "new", S_IFREG | 0600, NULL);
	ck_assert_int_eq(rfs_ns_rename(ns, cfg, "new", cfg, "replaced", 0), 0);
	ck_assert_int_eq(rfs_ns_lookup(ns, cfg, "kept", &n), 0);
	ck_assert_int_eq(rfs_ns_setxattr(ns, n, "user.after", "1", 1, 0), 0);
	rfs_ns_forget(ns, n, 1);
	ck_assert_int_eq(rfs_ns_rename(ns, root, "cfg", root, "moved", 0), 0);
	want = dump(ns);
	ck_assert_int_eq(
		dprintf(go[1], "g%llu\n%s", (unsigned long long)ns->nodes, want),
		(int)(strlen(want) + 2 + snprintf(NULL, 0, "%llu", (unsigned long long)ns->nodes)));
	close(go[1]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the successor's replay: exit %d (3: does not replay, 4: differs)",
		      WEXITSTATUS(status));
	free(want);
}
END_TEST

/*
 * A region made and freed, then a store file a process killed before its
 * record made (the last file): a successor forked before them replays the
 * freed region into a file of its own, numbered past the orphan, which the
 * store skips.
 */
START_TEST(replay_past_an_orphan_file)
{
	struct rfs_node *root = rfs_ns_root(ns), *n;
	struct rfs_store_file orphan;
	int go[2], status = 0;
	pid_t child;
	char c;

	ck_assert_int_eq(pipe(go), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(rfs_ns_replay(ns, journal, NULL, NULL) ? 3 : 0);
	}
	close(go[0]);
	n = make(root, "gone", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_mapping_write(n->map, "x", 1, 0), 1);
	ck_assert_int_eq(rfs_ns_remove(ns, root, "gone", false), 0);
	ck_assert_int_eq(rfs_store_create(store, &orphan), 0);
	make(root, "after", S_IFDIR | 0755, NULL);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the successor's replay: exit %d (3: does not replay)", WEXITSTATUS(status));
	rfs_store_remove(store, &orphan);
}
END_TEST

/* What a supervisor keeps for a successor: budgets' instances, by number. */
static struct rfs_store_kept kept[8];
static size_t n_kept;

static int keep_made(void *ctx, uint64_t id, int dir)
{
	(void)ctx;
	ck_assert_uint_lt(n_kept, 8);
	kept[n_kept++] = (struct rfs_store_kept){id, fcntl(dir, F_DUPFD_CLOEXEC, 0)};
	return 0;
}

static void keep_gone(void *ctx, uint64_t id)
{
	(void)ctx;
	for (size_t i = 0; i < n_kept; i++)
		if (kept[i].id == id) {
			close(kept[i].dir);
			kept[i] = kept[--n_kept];
			return;
		}
}

static uint64_t budget_of(struct rfs_node *dir)
{
	struct rfs_store *b = rfs_node_budget(dir);

	return b ? rfs_store_cap(b) : 0;
}

/*
 * Budgets set, nested, grown and taken away: the successor's replay takes
 * each instance kept under its number, the regions in it as they were,
 * and carves the same caps from the mount's.
 */
START_TEST(replay_budgets)
{
	const struct rfs_store_hooks hooks = {keep_made, keep_gone, NULL}, none = {0};
	struct rfs_node *root = rfs_ns_root(ns), *t, *u, *v, *in, *r;
	struct rfs_store_usage use;
	struct rfs_io io = {0};
	char *want, *got;

	rfs_store_on_budgets(store, &hooks);
	t = make(root, "t", S_IFDIR | 0755, NULL);
	ck_assert_int_eq(rfs_ns_set_budget(ns, t, 1 << 20), 0);
	r = make(t, "r", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_mapping_write(r->map, "in the budget", 13, 0), 13);
	in = make(t, "in", S_IFDIR | 0755, NULL);
	ck_assert_int_eq(rfs_ns_set_budget(ns, in, 128 << 10), 0);
	u = make(root, "u", S_IFDIR | 0755, NULL);
	ck_assert_int_eq(rfs_ns_set_budget(ns, u, 512 << 10), 0);
	ck_assert_int_eq(rfs_ns_set_budget(ns, u, 768 << 10), 0);
	v = make(root, "v", S_IFDIR | 0755, NULL);
	ck_assert_int_eq(rfs_ns_set_budget(ns, v, 256 << 10), 0);
	ck_assert_int_eq(rfs_ns_set_budget(ns, v, 0), 0);
	ck_assert_uint_eq(n_kept, 3); /* t, in, u: v's went */

	/* The process dies: nothing it frees is told (no hooks), its files stay. */
	want = dump(ns);
	rfs_store_on_budgets(store, &none);
	rfs_store_keep_files(store, true);
	rfs_ns_free(ns);
	rfs_store_keep_files(store, false);
	ck_assert_int_eq(rfs_ns_new(store, 0755, me, &ns), 0);
	for (size_t i = 0; i < n_kept; i++)
		ck_assert_int_eq(rfs_store_keep_budget(store, kept[i].id,
						       fcntl(kept[i].dir, F_DUPFD_CLOEXEC, 0)),
				 0);
	rfs_store_on_budgets(store, &hooks);
	ck_assert_msg(rfs_ns_replay(ns, journal, NULL, NULL) == 0, "replay: %s",
		      rfs_ns_replay_failed(ns));
	rfs_ns_replay_release(ns);
	rfs_ns_set_journal(ns, journal);
	got = dump(ns);
	same_text(got, want);
	free(want);
	free(got);

	root = rfs_ns_root(ns);
	lookup(root, "t", &t);
	lookup(t, "in", &in);
	lookup(root, "u", &u);
	lookup(root, "v", &v);
	lookup(t, "r", &r);
	ck_assert_uint_eq(budget_of(t), 1 << 20);
	ck_assert_uint_eq(budget_of(in), 128 << 10);
	ck_assert_uint_eq(budget_of(u), 768 << 10);
	ck_assert_uint_eq(budget_of(v), 0);
	ck_assert_int_eq(rfs_mapping_read_begin(r->map, 0, 13, &io), 0);
	ck_assert_uint_eq(io.len, 13);
	ck_assert(memcmp(io.iov[0].iov_base, "in the budget", 13) == 0);
	rfs_mapping_read_end(r->map, &io);
	rfs_store_usage(store, &use);
	ck_assert_uint_eq(use.reserved, (1 << 20) + (768 << 10));
	ck_assert_uint_eq(n_kept, 3); /* every one taken: none let go */
	rfs_store_on_budgets(store, &none);
	for (size_t i = 0; i < n_kept; i++)
		close(kept[i].dir);
	n_kept = 0;
}
END_TEST

/* A journal that ran out of room says so, and so does one the namespace
 * cannot replay (a record naming a node it does not have). */
START_TEST(replay_refuses)
{
	struct rfs_journal *small;
	struct rfs_ns *other;
	struct rfs_node *root = rfs_ns_root(ns);

	make(root, "x", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_journal_new(64, &small), 0);
	rfs_ns_set_journal(ns, small);
	make(root, "y", S_IFREG | 0644, NULL);
	ck_assert_int_eq(rfs_ns_journal_error(ns), -ENOSPC);
	rfs_ns_set_journal(ns, NULL);
	rfs_journal_free(small);
	/* a namespace that has x already: its create does not apply */
	ck_assert_int_eq(rfs_ns_new(store, 0755, me, &other), 0);
	rfs_store_keep_files(store, true);
	ck_assert_int_eq(rfs_ns_replay(other, journal, NULL, NULL), 0);
	ck_assert_int_eq(rfs_ns_replay(other, journal, NULL, NULL), -EPROTO);
	rfs_ns_free(other);
	rfs_store_keep_files(store, false);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("log");
	TCase *ns_tc = tcase_create("namespace");

	tcase_add_test(tc, fields_round_trip);
	tcase_add_test(tc, fields_read_back);
	tcase_add_test(tc, torn_record_is_not_there);
	tcase_add_test(tc, not_a_journal);
	tcase_add_test(tc, full_and_too_big);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ns_tc, setup, teardown);
	tcase_set_timeout(ns_tc, 60);
	tcase_add_test(ns_tc, replay_scripted);
	tcase_add_test(ns_tc, replay_random);
	tcase_add_test(ns_tc, replay_onto_the_state_forked_before);
	tcase_add_test(ns_tc, replay_past_an_orphan_file);
	tcase_add_test(ns_tc, replay_budgets);
	tcase_add_test(ns_tc, replay_refuses);
	suite_add_tcase(s, ns_tc);
	return s;
}

int main(void)
{
	return rfs_check_run(journal_suite());
}
