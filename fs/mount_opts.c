/* mount(8)'s and fstab's options beside regionfs's own (see mount_opts.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "fs/mount_opts.h"

/* The mount's type in /proc/self/mountinfo (subtype=regionfs). */
#define RFS_FSTYPE "fuse.regionfs"

/* Kernel flags libfuse passes to mount(2) itself, noted for a remount. */
struct flag_opt {
	const char *name;
	unsigned long flag;
	bool on;
};

static const struct flag_opt kernel_flags[] = {
	{"ro", MS_RDONLY, true},	{"rw", MS_RDONLY, false},
	{"nosuid", MS_NOSUID, true},	{"suid", MS_NOSUID, false},
	{"nodev", MS_NODEV, true},	{"dev", MS_NODEV, false},
	{"noexec", MS_NOEXEC, true},	{"exec", MS_NOEXEC, false},
	{"sync", MS_SYNCHRONOUS, true}, {"async", MS_SYNCHRONOUS, false},
	{"dirsync", MS_DIRSYNC, true},
};

/* The atime options, as mount(8) reads them: the last one given wins. */
static const struct {
	const char *name;
	enum rfs_atime mode;
} atime_opts[] = {
	{"noatime", RFS_ATIME_NO},	   {"atime", RFS_ATIME_RELATIVE},
	{"relatime", RFS_ATIME_RELATIVE},  {"nostrictatime", RFS_ATIME_RELATIVE},
	{"strictatime", RFS_ATIME_STRICT}, {"norelatime", RFS_ATIME_STRICT},
};

/* mount(8)'s and systemd's options: meaningful before regionfs runs, not after. */
static const char *const host_only[] = {
	"defaults", "auto",  "noauto",	"user",	  "users",  "nouser",
	"owner",    "group", "_netdev", "nofail", "silent", "loud",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool is_host_only(const char *opt)
{
	if (!strncmp(opt, "x-", 2) || !strncmp(opt, "comment=", 8))
		return true;
	for (size_t i = 0; i < COUNT(host_only); i++)
		if (!strcmp(opt, host_only[i]))
			return true;
	return false;
}

/* What mount(8) repeats from /proc/mounts at a remount: the same by construction. */
static bool is_session_fact(const char *opt)
{
	static const char *const facts[] = {"user_id=", "group_id=", "rootmode=", "fsname=",
					    "subtype=", "max_read=", "blksize="};

	if (!strcmp(opt, "default_permissions") || !strcmp(opt, "allow_other"))
		return true;
	for (size_t i = 0; i < COUNT(facts); i++)
		if (!strncmp(opt, facts[i], strlen(facts[i])))
			return true;
	return false;
}

/* An atime option: noted in mo (and dropped from the arguments)? */
static bool take_atime(struct rfs_mount_opts *mo, const char *opt)
{
	for (size_t i = 0; i < COUNT(atime_opts); i++) {
		if (!strcmp(opt, atime_opts[i].name)) {
			mo->atime = atime_opts[i].mode;
			return true;
		}
	}
	if (!strcmp(opt, "nodiratime") || !strcmp(opt, "diratime")) {
		mo->nodiratime = opt[0] == 'n' ? 1 : -1;
		return true;
	}
	return false;
}

/* A kernel flag: noted in mo (and kept for libfuse)? */
static bool note_flag(struct rfs_mount_opts *mo, const char *opt)
{
	for (size_t i = 0; i < COUNT(kernel_flags); i++) {
		const struct flag_opt *f = &kernel_flags[i];

		if (!strcmp(opt, f->name)) {
			mo->set = f->on ? mo->set | f->flag : mo->set & ~f->flag;
			mo->clear = f->on ? mo->clear & ~f->flag : mo->clear | f->flag;
			return true;
		}
	}
	return false;
}

/* fuse_opt_parse's callback: 0 drops the option, 1 keeps it for libfuse. */
static int take_one(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct rfs_mount_opts *mo = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_OPT || arg[0] == '-') /* -f, -d, -s: not mount options */
		return 1;
	if (!strcmp(arg, "remount")) {
		mo->remount = true;
		return 0;
	}
	if (is_host_only(arg) || take_atime(mo, arg))
		return 0;
	if (!strncmp(arg, "fsname=", 7))
		mo->fsname = true;
	/* What a remount cannot change: said, not silently dropped. */
	if (!note_flag(mo, arg) && !is_session_fact(arg) && fuse_opt_add_opt(&mo->kept, arg))
		return -1;
	return 1;
}

int rfs_mount_opts_take(struct fuse_args *args, struct rfs_mount_opts *mo, char *err, size_t errlen)
{
	static const struct fuse_opt none[] = {FUSE_OPT_END};

	/* noatime goes back in once, the last word said: libfuse sets it, even
	 * through fusermount3. */
	if (fuse_opt_parse(args, mo, none, take_one) == -1 ||
	    (mo->atime == RFS_ATIME_NO && fuse_opt_add_arg(args, "-onoatime"))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int rfs_mount_opts_fsname(struct fuse_args *args, const struct rfs_mount_opts *mo,
			  const char *source)
{
	char *esc = NULL, *opt = NULL;
	int e = -ENOMEM;

	if (mo->fsname)
		return 0;
	/* Escaped: a comma in the source must not start another option. */
	if (fuse_opt_add_opt_escaped(&esc, source && *source ? source : "regionfs") == 0 &&
	    asprintf(&opt, "-ofsname=%s", esc) >= 0)
		e = fuse_opt_add_arg(args, opt) ? -ENOMEM : 0;
	free(opt);
	free(esc);
	return e;
}

int rfs_mount_opts_apply(const struct rfs_mount_opts *mo, const char *mountpoint, char *err,
			 size_t errlen)
{
	struct mount_attr a = {0};

	/* relatime is a new mount's default and libfuse sets noatime. */
	if (mo->atime == RFS_ATIME_STRICT) {
		a.attr_clr |= MOUNT_ATTR__ATIME;
		a.attr_set |= MOUNT_ATTR_STRICTATIME;
	}
	if (mo->nodiratime > 0)
		a.attr_set |= MOUNT_ATTR_NODIRATIME;
	if (!a.attr_set)
		return 0;
	/* Nothing here may ask the mount itself (statvfs would wait for this
	 * very process, which does not serve yet): mount_setattr only names it. */
	if (mount_setattr(AT_FDCWD, mountpoint, 0, &a, sizeof(a)) == 0)
		return 0;
	if (errno == EPERM)
		snprintf(err, errlen,
			 "-o strictatime, nodiratime: only a mount by root can set them "
			 "(fusermount3 knows noatime and relatime, the default)");
	else
		snprintf(err, errlen, "%s: cannot set the mount's atime flags: %s", mountpoint,
			 strerror(errno));
	return -EPERM;
}

/* The mount's flags now, changed by the options given, as MS_* bits. */
static int remount_flags(const struct rfs_mount_opts *mo, const char *mountpoint,
			 unsigned long *flags)
{
	static const unsigned long atime = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
	struct statvfs sv;
	unsigned long f;

	if (statvfs(mountpoint, &sv))
		return -errno;
	/* statvfs's ST_* flags are mount(2)'s MS_* bits, but for relatime. */
	f = sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_SYNCHRONOUS |
			 ST_NOATIME | ST_NODIRATIME);
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	else if (!(f & MS_NOATIME))
		f |= MS_STRICTATIME; /* else mount(2) would make it relatime */
	f = (f & ~mo->clear) | mo->set;
	if (mo->atime)
		f = (f & ~atime) | (mo->atime == RFS_ATIME_NO	      ? MS_NOATIME
				    : mo->atime == RFS_ATIME_RELATIVE ? MS_RELATIME
								      : MS_STRICTATIME);
	if (mo->nodiratime)
		f = mo->nodiratime > 0 ? f | MS_NODIRATIME : f & ~MS_NODIRATIME;
	*flags = f;
	return 0;
}

/* mountinfo's fields escape space, tab, newline and backslash as \\ooo. */
static void unescape(char *s)
{
	char *o = s;
	unsigned int c;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && sscanf(s + 1, "%3o", &c) == 1 && c < 256) {
			*o = (char)c;
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
}

/* Is mountpoint (absolute, resolved) a mount of type fuse.regionfs? */
static bool is_regionfs_mount(const char *mountpoint)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *mnt, *type;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		/* id parent major:minor root MOUNTPOINT opts [fields] - TYPE ... */
		mnt = malloc(strlen(line) + 1); /* a field is no longer than its line */
		if (!mnt || sscanf(line, "%*s %*s %*s %*s %s", mnt) != 1) {
			free(mnt);
			continue;
		}
		unescape(mnt);
		type = strstr(line, " - ");
		found = type && !strncmp(type + 3, RFS_FSTYPE " ", strlen(RFS_FSTYPE) + 1) &&
			!strcmp(mnt, mountpoint);
		free(mnt);
	}
	free(line);
	fclose(f);
	return found;
}

int rfs_remount(const struct rfs_mount_opts *mo, const char *mountpoint, char *err, size_t errlen)
{
	unsigned long flags = 0;
	int e;

	if (!is_regionfs_mount(mountpoint)) {
		snprintf(err, errlen, "-o remount: %s is not a mounted regionfs", mountpoint);
		return -EINVAL;
	}
	e = remount_flags(mo, mountpoint, &flags);
	if (!e && mount(NULL, mountpoint, NULL, MS_REMOUNT | flags, NULL))
		e = -errno;
	if (e == -EPERM)
		snprintf(err, errlen, "-o remount: %s: changing a mount's flags needs root",
			 mountpoint);
	else if (e)
		snprintf(err, errlen, "-o remount: %s: %s", mountpoint, strerror(-e));
	return e;
}

void rfs_mount_opts_free(struct rfs_mount_opts *mo)
{
	free(mo->kept);
	mo->kept = NULL;
}
