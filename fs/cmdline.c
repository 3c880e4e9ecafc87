/* Command-line checks before anything is set up (see cmdline.h). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/cmdline.h"
#include "fs/passthrough.h"
#include "fs/fs.h"

/* Where fusermount3 reads user_allow_other (libfuse's default sysconfdir). */
#define FUSE_CONF "/etc/fuse.conf"

void rfs_print_version(void)
{
	printf("regionfs %s\nlibfuse %s\n", RFS_VERSION, fuse_pkgversion());
	/* The kernel's offer is known only at mount; the log says the outcome. */
	printf("regions: served by the kernel (FUSE passthrough) where it offers it%s\n",
	       rfs_passthrough_permitted()
		       ? ""
		       : "; not for this process (no CAP_SYS_ADMIN in the initial user "
			 "namespace): served by the daemon");
}

/* libfuse's messages while checking, but not its debug banner (-d), which
 * the real session prints again. */
static void log_no_debug(enum fuse_log_level level, const char *fmt, va_list ap)
{
	if (level != FUSE_LOG_DEBUG)
		vfprintf(stderr, fmt, ap);
}

/*
 * libfuse rejects options it does not know only in fuse_session_new, which
 * the daemon calls after loading the config and building the namespace. A
 * session made from a copy of the arguments and dropped at once (it opens
 * nothing) reports them here, before the config and the mountpoint.
 */
int rfs_check_fuse_args(const struct fuse_args *args, char *err, size_t errlen)
{
	static const struct fuse_lowlevel_ops no_ops;
	struct fuse_args copy = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se;
	int i;

	for (i = 0; i < args->argc; i++) {
		if (fuse_opt_add_arg(&copy, args->argv[i])) {
			fuse_opt_free_args(&copy);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	fuse_set_log_func(log_no_debug);
	se = fuse_session_new(&copy, &no_ops, sizeof(no_ops), NULL);
	fuse_set_log_func(NULL);
	fuse_opt_free_args(&copy);
	if (!se) {
		snprintf(err, errlen, "bad option (see --help)");
		return -EINVAL;
	}
	fuse_session_destroy(se);
	return 0;
}

/* Keys of the options that open the mount to others: their names. */
static const char *const access_names[] = {"allow_other", "allow_root"};

static const struct fuse_opt access_spec[] = {
	FUSE_OPT_KEY("allow_other", 0),
	FUSE_OPT_KEY("allow_root", 1),
	FUSE_OPT_END,
};

/* Notes the name of allow_other or allow_root in *data (arg does not
 * outlive the parse); keeps every argument for libfuse. */
static int note_access(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	const char **given = data;

	(void)arg;
	(void)outargs;
	if (key >= 0 && key < (int)(sizeof(access_names) / sizeof(access_names[0])))
		*given = access_names[key];
	return 1;
}

/* Read as fusermount3 reads it: '#' starts a comment, blanks around a
 * line are ignored. */
static bool user_allow_other(void)
{
	FILE *f = fopen(FUSE_CONF, "re");
	char line[256], *s, *e;
	bool yes = false;

	if (!f)
		return false;
	while (!yes && fgets(line, sizeof(line), f)) {
		s = strchr(line, '#');
		if (s)
			*s = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		yes = !strcmp(s, "user_allow_other");
	}
	fclose(f);
	return yes;
}

int rfs_access_args(struct fuse_args *args, bool owner_only, char *err, size_t errlen)
{
	const char *given = NULL;

	if (fuse_opt_parse(args, &given, access_spec, note_access) == -1) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (owner_only && given) {
		snprintf(err, errlen, "owner_only and %s contradict each other", given);
		return -EINVAL;
	}
	if (geteuid() != 0) {
		if (given && !user_allow_other()) {
			snprintf(err, errlen,
				 "-o %s: FUSE allows it to users other than root only if %s has "
				 "the line 'user_allow_other'",
				 given, FUSE_CONF);
			return -EPERM;
		}
		return 0;
	}
	if (!owner_only && !given && fuse_opt_add_arg(args, "-oallow_other")) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int rfs_mountpoint(const char *arg, char **path, char *err, size_t errlen)
{
	struct stat st;
	unsigned int fd;
	int n = 0;

	if (!arg) {
		snprintf(err, errlen,
			 "no mountpoint (usage: regionfs [options] MOUNTPOINT; see --help)");
		return -EINVAL;
	}
	/* mount.fuse3 -o drop_privileges mounts by itself and passes its
	 * /dev/fuse descriptor as /dev/fd/N, which libfuse then serves. */
	if (sscanf(arg, "/dev/fd/%u%n", &fd, &n) == 1 && arg[n] == '\0') {
		*path = strdup(arg);
		goto out;
	}
	if (stat(arg, &st)) {
		n = errno;
		if (n == ENOENT)
			snprintf(err, errlen,
				 "mountpoint %s does not exist (make it first: mkdir -p %s)", arg,
				 arg);
		else
			snprintf(err, errlen, "mountpoint %s: %s", arg, strerror(n));
		return -n;
	}
	/* FUSE would mount on a file, which then serves no directory. */
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "mountpoint %s: not a directory", arg);
		return -ENOTDIR;
	}
	/* Absolute: the daemon changes to / when it goes to the background. */
	*path = realpath(arg, NULL);
out:
	if (!*path) {
		n = errno;
		snprintf(err, errlen, "mountpoint %s: %s", arg, strerror(n));
		return -n;
	}
	return 0;
}
