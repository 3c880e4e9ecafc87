/* regionfs: options, config, mount, the session loop, and shutdown. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/cmdline.h"
#include "fs/commands.h"
#include "fs/control.h"
#include "fs/inval.h"
#include "fs/mount_opts.h"
#include "fs/passthrough.h"
#include "fs/reload.h"
#include "fs/uring.h"
#include "fs/views.h"
#include "fs/wire.h"
#include "lib/clock.h"
#include "lib/guard.h"
#include "lib/ledger.h"
#include "fs/declare.h"
#include "fs/keeper.h"
#include "fs/restart.h"
#include "fs/supervise.h"
#include "fs/upgrade.h"
#include "lib/counts.h"
#include "lib/journal.h"
#include "lib/memfd.h"
#include "fs/handles.h"
#include "fs/holders.h"
#include "fs/log.h"
#include "fs/ops_dir.h"
#include "fs/ops_file.h"
#include "fs/ops_inode.h"
#include "fs/ops_ioctl.h"
#include "fs/ops_xattr.h"

#define EXIT_USAGE 2 /* bad command line or config: nothing mounted */

/* Cache lifetime for entries and attributes: long, because every change to
 * the namespace and to file sizes passes through the kernel, which updates
 * its own cache; the daemon notifies it of changes it makes by itself. */
#define CACHE_TIMEOUT 86400.0

/* Bytes of backing files views map at once (windows.h), unless told: the
 * daemon's RSS grows by up to this much when views are read all over. */
#define WINDOW_MAX_DEFAULT (1ULL << 30)

struct options {
	char *config;
	char *size;
	char *window_max;
	int xattr;
	int writeback;
	int strict_dirty;
	int io_uring;
	char *passthrough;
	char *huge;
	int noswap;
	int idmap;
	char *store;
	char *log;
	int owner_only;
	int restart;
	char *positional[2]; /* [SOURCE] MOUNTPOINT */
	int npositional;
};

/*
 * mount(8) runs "regionfs SOURCE MOUNTPOINT -o ..." for fuse.regionfs, so a
 * first positional argument is a source name: the mount's fsname.
 */
static int keep_positional(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (o->npositional == 2) {
		fprintf(stderr, "regionfs: too many arguments: '%s'\n", arg);
		return -1;
	}
	o->positional[o->npositional] = strdup(arg);
	if (!o->positional[o->npositional])
		return -1;
	o->npositional++;
	return 0;
}

#define OPT(t, field, value)                                                                       \
	{                                                                                          \
		t, offsetof(struct options, field), value                                          \
	}
static const struct fuse_opt option_spec[] = {
	OPT("-c %s", config, 0),
	OPT("--config=%s", config, 0),
	OPT("config=%s", config, 0),
	OPT("size=%s", size, 0),
	OPT("window_max=%s", window_max, 0),
	OPT("xattr", xattr, 1),
	OPT("writeback", writeback, 1),
	OPT("strict_dirty", strict_dirty, 1),
	OPT("io_uring", io_uring, 1),
	OPT("passthrough=%s", passthrough, 0),
	OPT("huge=%s", huge, 0),
	OPT("noswap", noswap, 1),
	OPT("idmap", idmap, 1),
	OPT("store=%s", store, 0),
	OPT("owner_only", owner_only, 1),
	OPT("restart", restart, 1),
	OPT("log=%s", log, 0),
	FUSE_OPT_END,
};

static void usage(const char *prog)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
	       "\n"
	       "Named shared-memory regions and windowed views of files, as files.\n"
	       "\n"
	       "regionfs options:\n"
	       "    -c FILE, -o config=FILE  load regions, views (windows of files or of\n"
	       "                             regions) and directories (lifetimes) from an INI\n"
	       "                             file\n"
	       "    -o size=N                cap on region memory and cow views' private pages\n"
	       "                             (K/M/G/T; default: half of RAM)\n"
	       "    -o window_max=N          bytes of backing files views map at once (default "
	       "1G)\n"
	       "    -o xattr                 expose user.regionfs.* extended attributes\n"
	       "    -o writeback             kernel writeback cache: faster writes; ENOSPC and\n"
	       "                             other views see writes at close/fsync (README)\n"
	       "    -o strict_dirty          keep the kernel's 1%% dirty-page limit for FUSE:\n"
	       "                             client mmap stores are written back sooner, slower\n"
	       "    -o io_uring              serve requests over io_uring, per CPU, when the\n"
	       "                             kernel offers it (Linux 6.14+, fuse.enable_uring)\n"
	       "    -o passthrough=off       serve regions' reads and writes in the daemon even\n"
	       "                             where the kernel could (FUSE passthrough, Linux 6.9+\n"
	       "                             and CAP_SYS_ADMIN); a region with windows is\n"
	       "                             always served in the daemon\n"
	       "    -o store=memfd           keep regions in memfds, not in a private tmpfs\n"
	       "    -o huge=MODE             the region store's transparent huge pages, as\n"
	       "                             tmpfs's huge=: never (default), within_size,\n"
	       "                             always, advise (README, Performance)\n"
	       "    -o noswap                region pages never go to swap (the store's tmpfs\n"
	       "                             noswap: Linux 6.4+, as root)\n"
	       "    -o idmap                 allow idmapped mounts of it (Linux 6.12+); the\n"
	       "                             kernel then names callers only when they create\n"
	       "    -o owner_only            only the mounting user may use the mount (run as\n"
	       "                             root, regionfs adds allow_other otherwise)\n"
	       "    -o restart               a supervisor keeps the mount and starts the\n"
	       "                             serving process again if it dies (README)\n"
	       "    -o log=PATH              log to the file PATH (appended), not to stderr or\n"
	       "                             syslog\n"
	       "    -f                       stay in the foreground, log to stderr\n"
	       "    -d                       debug: foreground, print every request\n"
	       "    -h, --help               this help\n"
	       "    -V, --version            print the version\n"
	       "\n"
	       "    %s --upgrade MOUNTPOINT\n"
	       "                             hand a -o restart mount to the binary installed\n"
	       "                             now, with no client error (README, Restart)\n"
	       "\n"
	       "FUSE options:\n"
	       "    -s                       serve requests in one thread\n"
	       "    -o max_threads=N         most worker threads (default 10)\n"
	       "    -o max_idle_threads=N    most idle worker threads (default: no limit)\n"
	       "    -o allow_other           every user may use the mount, as modes allow\n"
	       "                             (the default when run as root)\n"
	       "    -o allow_root            only the mounting user and root\n"
	       "    -o auto_unmount          unmount when the daemon ends\n"
	       "    other mount options (ro, ...) pass through, see mount.fuse3(8)\n",
	       prog, prog);
}

/* Views and open regions hold descriptors (memfd regions one each for
 * life): take all we may. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Files the store may hold: as tmpfs's default, half the pages of RAM. */
static uint64_t store_files(void)
{
	return (uint64_t)sysconf(_SC_PHYS_PAGES) / 2;
}

/*
 * glibc loads libgcc_s on the first pthread_cancel (libfuse cancels its
 * workers at unmount), which needs a descriptor: with the table full the
 * daemon would abort at exit. Load it now; the later dlopen finds it.
 */
static void preload_unwinder(void)
{
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
		rfs_log(RFS_LOG_WARN, "cannot preload libgcc_s.so.1: %s", dlerror());
}

static uint64_t default_cap(void)
{
	return (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 2;
}

/*
 * SIGHUP reloads the config. It is blocked in every thread (threads inherit
 * the mask from main) and taken by one thread with sigwait, so the reload
 * runs as ordinary code, not in a signal handler. SIGUSR1 stops that thread.
 */
static void block_reload_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *reload_on_sighup(void *arg)
{
	struct rfs_daemon *d = arg;
	char msg[RFS_ERR_MAX];
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		pthread_mutex_lock(&d->ctl_lock);
		if (rfs_reload(d, msg, sizeof(msg)) == 0)
			rfs_log(RFS_LOG_INFO, "reloaded %s", d->cfg.path);
		else
			rfs_log(RFS_LOG_ERR, "reload failed, namespace unchanged: %s", msg);
		pthread_mutex_unlock(&d->ctl_lock);
		rfs_inval_wait(d->inval, rfs_inval_ticket(d->inval), 1000);
	}
	return NULL;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct rfs_daemon *d = userdata;

	/* Coherence comes from the shared page cache (see ops_file.c); do not
	 * let every attribute refresh throw it away. */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	conn->max_write = 1 << 20;
	/* Opt-in (-o writeback): write() fills the page cache and returns; the
	 * kernel sends the pages later, at the latest on close and fsync. */
	if (d->writeback && conn->capable & FUSE_CAP_WRITEBACK_CACHE)
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* File handles outlive the kernel's caches: it asks for "." of a node
	 * id it no longer knows (ops_inode.c), as NFS and open_by_handle_at need. */
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
	/* lsattr and chattr of directories (fs/ops_ioctl.c) */
	if (conn->capable & FUSE_CAP_IOCTL_DIR)
		conn->want |= FUSE_CAP_IOCTL_DIR;
	/* The kernel enforces ACLs the namespace keeps; the umask reaches the
	 * namespace, which must not apply it under a default ACL. */
	if ((conn->capable & (FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK)) ==
	    (FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK))
		conn->want |= FUSE_CAP_POSIX_ACL | FUSE_CAP_DONT_MASK;
}

/* Whole pages, as tmpfs rounds its size= (size=512 holds one page). */
static uint64_t whole_pages(uint64_t bytes)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	return bytes <= UINT64_MAX - page ? (bytes + page - 1) / page * page : bytes;
}

/* The config: from *text where a live upgrade handed it on, else from
 * the file, whose text -o restart keeps in *text for the next upgrade. */
static int load_config(struct rfs_daemon *d, const struct options *o, char **text, char *err,
		       size_t errlen)
{
	int e;

	if (!*text && !o->restart)
		return rfs_config_load_file(o->config, &d->cfg, err, errlen);
	if (!*text && (e = rfs_read_config(o->config, text, err, errlen)))
		return e;
	e = rfs_config_load_string(*text, o->config, &d->cfg, err, errlen);
	if (!e && !(d->cfg.path = strdup(o->config)))
		e = -ENOMEM;
	return e;
}

/* Settle config and -o options into d, and the cap into *capp; 0 or a message in err. */
static int configure(struct rfs_daemon *d, const struct options *o, char **text, uint64_t *capp,
		     char *err, size_t errlen)
{
	uint64_t cap = default_cap();
	int e;

	if (o->config) {
		e = load_config(d, o, text, err, errlen);
		if (e)
			return e;
	}
	if (d->cfg.has_size)
		cap = d->cfg.size;
	if (o->size && rfs_parse_size(o->size, &cap)) {
		snprintf(err, errlen, "-o size=%s: not a size (use e.g. 512M, 4G)", o->size);
		return -EINVAL;
	}
	if (cap == 0) {
		snprintf(err, errlen, "size must be greater than 0");
		return -EINVAL;
	}
	*capp = whole_pages(cap);
	d->window_max = d->cfg.has_window_max ? d->cfg.window_max : WINDOW_MAX_DEFAULT;
	if (o->window_max && rfs_parse_size(o->window_max, &d->window_max)) {
		snprintf(err, errlen, "-o window_max=%s: not a size (use e.g. 256M, 1G)",
			 o->window_max);
		return -EINVAL;
	}
	if (o->passthrough && strcmp(o->passthrough, "off") && strcmp(o->passthrough, "auto")) {
		snprintf(err, errlen, "-o passthrough=%s: expected off or auto", o->passthrough);
		return -EINVAL;
	}
	if (o->store && strcmp(o->store, "memfd") && strcmp(o->store, "tmpfs")) {
		snprintf(err, errlen, "-o store=%s: expected tmpfs or memfd", o->store);
		return -EINVAL;
	}
	if (o->huge && !(d->cfg.huge = rfs_parse_huge(o->huge))) {
		snprintf(err, errlen, "-o huge=%s: expected never, within_size, always or advise",
			 o->huge);
		return -EINVAL;
	}
	d->cfg.noswap = d->cfg.noswap || o->noswap;
	d->no_passthrough = o->passthrough && strcmp(o->passthrough, "off") == 0;
	d->writeback = o->writeback || d->cfg.writeback;
	d->idmap = o->idmap;
	d->strict_dirty = o->strict_dirty || d->cfg.strict_dirty;
	/* What a restart cannot keep: the rings and memfds die with the process. */
	if (o->restart && o->io_uring) {
		snprintf(err, errlen,
			 "-o restart with -o io_uring: the rings die with the "
			 "serving process; use one or the other");
		return -EINVAL;
	}
	if (o->restart && o->store && strcmp(o->store, "memfd") == 0) {
		snprintf(err, errlen,
			 "-o restart with -o store=memfd: memfd regions die with the "
			 "serving process; use the tmpfs store");
		return -EINVAL;
	}
	d->timeout = CACHE_TIMEOUT;
	return 0;
}

static int serve(struct rfs_daemon *d, struct fuse_cmdline_opts *cl)
{
	struct fuse_loop_config *lc;
	int ret;

	if (cl->singlethread)
		return fuse_session_loop(d->se);
	lc = fuse_loop_cfg_create();
	if (!lc)
		return -ENOMEM;
	/* A /dev/fuse descriptor per worker thread: measured +19% for two
	 * clients' 4 KiB direct reads (210k -> 250k IOPS), no loss elsewhere.
	 * Not under -o restart: a clone dies with its process, and the kernel
	 * then fails what was read through it (ECONNABORTED) instead of
	 * keeping it for the next process to be resent. */
	fuse_loop_cfg_set_clone_fd(lc, !d->restart);
	fuse_loop_cfg_set_max_threads(lc, cl->max_threads);
	if (cl->max_idle_threads != UINT_MAX) /* UINT_MAX: not given, keep the default */
		fuse_loop_cfg_set_idle_threads(lc, cl->max_idle_threads);
	ret = fuse_session_loop_mt(d->se, lc);
	fuse_loop_cfg_destroy(lc);
	return ret;
}

/*
 * -o remount (mount -o remount,ro DIR, through mount.fuse3): the mounted
 * namespace's flags change and this process exits; no second daemon. mount(8)
 * repeats an fstab line's options: those a remount cannot change are kept,
 * and said so; a different size is refused, as nothing could honour it.
 */
static int remount(const struct options *o, const struct rfs_mount_opts *mo, char *err,
		   size_t errlen)
{
	uint64_t size;
	char *mnt = NULL;
	struct statvfs sv;
	int e;

	e = rfs_mountpoint(o->npositional ? o->positional[o->npositional - 1] : NULL, &mnt, err,
			   errlen);
	if (!e && o->size && !rfs_parse_size(o->size, &size) && statvfs(mnt, &sv) == 0 &&
	    whole_pages(size) != (uint64_t)sv.f_blocks * sv.f_frsize) {
		snprintf(err, errlen,
			 "-o remount,size=%s: %s keeps the size it was mounted with (%llu bytes); "
			 "unmount and mount again to change it",
			 o->size, mnt, (unsigned long long)sv.f_blocks * sv.f_frsize);
		e = -EINVAL;
	}
	if (!e)
		e = rfs_remount(mo, mnt, err, errlen);
	if (!e && mo->kept)
		fprintf(stderr, "regionfs: remounted %s; kept as mounted: %s\n", mnt, mo->kept);
	free(mnt);
	return e;
}

/* What main's stages share: the command line as parsed, and how far the session got. */
struct run {
	struct fuse_args args;
	struct fuse_cmdline_opts cl;
	struct options o;
	struct rfs_mount_opts mo;
	struct fuse_lowlevel_ops ops;
	bool signals; /* libfuse's signal handlers are set */
	bool mounted; /* the kernel mount is made */
	/* A live upgrade (fs/upgrade.h): what was handed on, and what the
	 * state before serving is made from (made here at a first mount). */
	bool handed;
	struct rfs_handover ho;
	struct rfs_mount_facts facts;
};

/*
 * Parse and check the command line and the config into r, d and *cap.
 * Returns -1 to go on and mount, else the exit status (help, version and
 * remount are done here; a bad command line is reported).
 */
static int command_line(struct run *r, struct rfs_daemon *d, uint64_t *cap, const char *prog)
{
	char err[RFS_ERR_MAX] = "";
	int ret = EXIT_USAGE;

	if (rfs_mount_opts_take(&r->args, &r->mo, err, sizeof(err)))
		goto out_err;
	if (fuse_opt_parse(&r->args, &r->o, option_spec, keep_positional) == -1)
		return EXIT_USAGE;
	/* The mountpoint is checked after the options (rfs_mountpoint). */
	if (fuse_parse_cmdline(&r->args, &r->cl) != 0)
		return EXIT_USAGE;
	if (r->cl.show_help) {
		usage(prog);
		return 0;
	}
	if (r->cl.show_version) {
		rfs_print_version();
		return 0;
	}
	if (r->mo.remount) {
		ret = 1;
		if (remount(&r->o, &r->mo, err, sizeof(err)))
			goto out_err;
		return 0;
	}
	if (rfs_check_fuse_args(&r->args, err, sizeof(err)) ||
	    (r->o.log && rfs_log_to_file(r->o.log, err, sizeof(err))) ||
	    configure(d, &r->o, &r->facts.config, cap, err, sizeof(err)) ||
	    rfs_access_args(&r->args, r->o.owner_only || d->cfg.owner_only, err, sizeof(err)))
		goto out_err;
	/* Handed on: the mount's own path, which nothing serves until we do. */
	if (r->handed)
		return (r->cl.mountpoint = strdup(r->facts.mountpoint)) ? -1 : 1;
	if (rfs_mountpoint(r->o.npositional ? r->o.positional[r->o.npositional - 1] : NULL,
			   &r->cl.mountpoint, err, sizeof(err)))
		goto out_err;
	return -1;
out_err:
	fprintf(stderr, "regionfs: %s\n", err);
	return ret;
}

/* Journal sizes: sparse memfds, only what is written takes memory. */
#define JOURNAL_MAX (1ULL << 36)
#define KREFS_MAX   (1ULL << 31)

/* A live upgrade handed on budgets' instances: those no config budget took
 * are the ones made while mounted, which the supervisor keeps. */
static int keep_handed(struct rfs_daemon *d, const struct rfs_handover *ho)
{
	struct rfs_store_kept *left = calloc(ho->n_budgets + 1, sizeof(*left)),
			      *taken = calloc(ho->n_budgets + 1, sizeof(*taken));
	size_t n_taken = rfs_store_budget_roots(d->store, taken, ho->n_budgets), n = 0;
	int e = left && taken ? 0 : -ENOMEM;

	for (size_t i = 0; !e && i < ho->n_budgets; i++) {
		bool mine = false;

		for (size_t j = 0; j < n_taken && j < ho->n_budgets; j++)
			mine = mine || taken[j].id == ho->budgets[i].id;
		if (!mine)
			left[n++] = ho->budgets[i];
	}
	if (!e)
		e = rfs_keeper_new(left, n, d->journal, &d->keeper);
	free(left);
	free(taken);
	return e;
}

/* -o restart: what serving processes hand on (fs/supervise.h), from here
 * on; made, or as a live upgrade handed it on (the journal taken already). */
static int restart_init(struct rfs_daemon *d, struct run *r, char *err, size_t errlen)
{
	const struct rfs_handover *ho = r->handed ? &r->ho : NULL;
	int e = rfs_restart_new(d, ho ? ho->page : -1);

	if (!e && !ho)
		e = rfs_journal_new(JOURNAL_MAX, &d->journal);
	if (!e)
		e = ho ? rfs_counts_open(ho->krefs, &d->krefs)
		       : rfs_counts_new(KREFS_MAX, &d->krefs);
	if (!e)
		e = ho ? rfs_counts_open(ho->touched, &d->touched)
		       : rfs_counts_new(KREFS_MAX, &d->touched);
	if (e) {
		snprintf(err, errlen, "-o restart: %s", strerror(-e));
		return e;
	}
	rfs_ns_set_journal(d->ns, d->journal);
	e = ho ? keep_handed(d, ho) : rfs_keeper_new(NULL, 0, d->journal, &d->keeper);
	if (e) {
		snprintf(err, errlen, "-o restart: the budgets' instances: %s", strerror(-e));
		return e;
	}
	if (ho)
		return 0;
	r->facts.mountpoint = strdup(r->cl.mountpoint);
	e = r->facts.mountpoint ? rfs_restart_record_mount(d, &r->facts) : -ENOMEM;
	if (e)
		snprintf(err, errlen, "-o restart: the config and mount cannot be journaled: %s",
			 strerror(-e));
	return e;
}

/* A live upgrade: the journal, and the facts the state is made again from. */
static int take_handover(struct rfs_daemon *d, struct run *r)
{
	int e = rfs_journal_open(r->ho.journal, &d->journal);

	if (!e)
		e = rfs_restart_mount_facts(d->journal, &r->facts);
	if (e)
		fprintf(stderr, "regionfs: live upgrade: the journal handed on: %s\n",
			strerror(-e));
	d->inherited = true;
	return e;
}

/* The namespace as the config declares it, with the views' windows,
 * the tables of holders and opens, the invalidation queue and the control
 * plane; over the store a live upgrade inherited, its files kept. */
static int model_declared(struct rfs_daemon *d, struct run *r, char *err, size_t errlen)
{
	int e;

	if (rfs_ns_new(d->store, 0755, (struct rfs_cred){getuid(), getgid()}, &d->ns) ||
	    rfs_windows_new(d->window_max, rfs_view_changed, d, &d->win) ||
	    rfs_holders_new(&d->holders) ||
	    (r->handed ? rfs_handles_open(d, r->ho.slots) : rfs_handles_new(d)) ||
	    !(d->inval = rfs_inval_new())) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = rfs_populate(d, err, errlen);
	if (r->handed)
		rfs_store_inherited(d->store);
	if (!e && rfs_control_init(d)) {
		snprintf(err, errlen, "cannot create the control plane");
		e = -ENOMEM;
	}
	return e;
}

/* The model: the store, the namespace with its declarations, the views'
 * windows, the invalidation queue (idle until the session starts it) and
 * the control plane. model_fini undoes whatever part of it was made. */
static int model_init(struct rfs_daemon *d, struct run *r, uint64_t cap, char *err, size_t errlen)
{
	const struct options *o = &r->o;
	enum rfs_atime atime = r->mo.atime;
	struct rfs_store_tune tune = {
		.huge = d->cfg.huge,
		.noswap = d->cfg.noswap,
		.atime = atime == RFS_ATIME_NO	     ? RFS_STORE_NOATIME
			 : atime == RFS_ATIME_STRICT ? RFS_STORE_STRICTATIME
						     : RFS_STORE_RELATIME,
	};
	enum rfs_store_kind kind =
		o->store && strcmp(o->store, "memfd") == 0 ? RFS_STORE_MEMFD : RFS_STORE_TMPFS;
	int e = 0;

	pthread_mutex_init(&d->ctl_lock, NULL);
	d->counters_fd = r->handed ? r->ho.counters : -1;
	d->counters = rfs_memfd_map("regionfs-counters", sizeof(*d->counters), &d->counters_fd);
	if (!d->counters) {
		snprintf(err, errlen, "the counters: %s", strerror(errno));
		return -ENOMEM;
	}
	if (r->handed)
		d->generation = r->facts.generation;
	else if (getrandom(&d->generation, sizeof(d->generation), 0) != sizeof(d->generation))
		d->generation = (uint32_t)rfs_now_ns() ^ (uint32_t)getpid();
	r->facts.generation = d->generation;
	raise_fd_limit();
	preload_unwinder();
	rfs_guard_init();
	if (r->handed)
		e = rfs_store_inherit(r->ho.store, r->ho.budgets, r->ho.n_budgets, cap,
				      store_files(), &tune, &d->store);
	else
		e = rfs_store_new_tuned(cap, store_files(), kind, &tune, &d->store);
	if (e && d->cfg.noswap)
		snprintf(err, errlen, "noswap: %s",
			 e == -EOPNOTSUPP ? "memfds can swap; it needs the tmpfs store"
			 : e == -EPERM	  ? "needs CAP_SYS_ADMIN (a root mount)"
			 : e == -EINVAL	  ? "this kernel's tmpfs has no noswap (Linux 6.4+)"
					  : strerror(-e));
	else if (e)
		snprintf(err, errlen, "cannot make the region store: %s", strerror(-e));
	if (e)
		return e;
	/* What the config declares is made at one instant, which a live
	 * upgrade, making it again, takes from the journal. */
	if (!r->handed)
		r->facts.time = rfs_now_ns();
	rfs_ns_pin_time(r->facts.time);
	e = model_declared(d, r, err, errlen);
	rfs_ns_pin_time(0);
	if (!e && o->restart)
		e = restart_init(d, r, err, errlen);
	return e;
}

static void model_fini(struct rfs_daemon *d)
{
	rfs_ns_free(d->ns); /* flushes every view */
	rfs_journal_free(d->journal);
	d->journal = NULL;
	rfs_counts_free(d->krefs);
	rfs_counts_free(d->touched);
	rfs_ledger_free(d->ledger);
	rfs_windows_free(d->win);
	rfs_holders_free(d->holders);
	rfs_handles_free(d);
	rfs_inval_free(d->inval);
	rfs_store_free(d->store);
	rfs_keeper_free(d->keeper); /* after: the store's hooks tell it */
	d->keeper = NULL;
	if (d->counters) {
		munmap(d->counters, sizeof(*d->counters));
		close(d->counters_fd);
	}
	pthread_mutex_destroy(&d->ctl_lock);
}

/*
 * The session: libfuse's, the mount, the data path's protocol extras, the
 * move to the background and the invalidation worker. 0, or the exit
 * status; session_stop undoes whatever part of it was made.
 */
static int session_start(struct rfs_daemon *d, struct run *r)
{
	char err[RFS_ERR_MAX], devfd[32];

	/* Permission checks by the kernel from the modes we report, as on tmpfs. */
	if (fuse_opt_add_arg(&r->args, "-odefault_permissions") ||
	    rfs_mount_opts_fsname(&r->args, &r->mo,
				  r->o.npositional == 2 ? r->o.positional[0] : NULL) ||
	    fuse_opt_add_arg(&r->args, "-osubtype=regionfs"))
		return EXIT_USAGE;
	rfs_ops_inode(&r->ops);
	rfs_ops_dir(&r->ops);
	rfs_ops_file(&r->ops);
	d->xattr_facts = r->o.xattr || d->cfg.xattr;
	rfs_ops_xattr(&r->ops);
	rfs_ops_ioctl(&r->ops);
	d->se = fuse_session_new(&r->args, &r->ops, sizeof(r->ops), d);
	if (!d->se)
		return 1;
	r->signals = fuse_set_signal_handlers(d->se) == 0;
	if (!r->signals)
		return 1;
	/* Handed on, the mount is made: libfuse serves the descriptor. */
	if (r->handed)
		snprintf(devfd, sizeof(devfd), "/dev/fd/%d", r->ho.fuse);
	r->mounted = fuse_session_mount(d->se, r->handed ? devfd : r->cl.mountpoint) == 0;
	if (!r->mounted)
		return 1;
	d->mountpoint = r->cl.mountpoint;
	if (!r->handed && rfs_mount_opts_apply(&r->mo, r->cl.mountpoint, err, sizeof(err))) {
		fprintf(stderr, "regionfs: %s\n", err);
		return 1;
	}
	d->pt = rfs_passthrough_new(fuse_session_fd(d->se));
	if (r->o.io_uring && !(d->uring = rfs_uring_new(d)))
		return 1;
	if (rfs_wire_attach(d) || (!r->cl.foreground && rfs_log_keep_stderr()))
		return 1;
	/* Handed on, this process is the daemon already. */
	if (!r->handed && fuse_daemonize(r->cl.foreground))
		return 1;
	if (r->handed)
		rfs_log(RFS_LOG_INFO, "%s: live upgrade: regionfs %s took the mount over%s%s",
			r->cl.mountpoint, RFS_VERSION, r->cl.foreground ? "" : "; logging to ",
			r->cl.foreground ? "" : rfs_log_daemonized());
	else if (!r->cl.foreground)
		rfs_log(RFS_LOG_INFO, "serving %s; logging to %s", r->cl.mountpoint,
			rfs_log_daemonized());
	return 0;
}

/*
 * -o restart: become the supervisor; this returns in each serving process,
 * which, after the first, rebuilds what the ones before it changed. No
 * thread may run before: a fork copies only the thread that forks.
 */
static int become_server(struct rfs_daemon *d)
{
	char err[RFS_ERR_MAX];

	rfs_supervise(d);
	if (rfs_keeper_serve(d->keeper, d->store)) {
		rfs_log(RFS_LOG_ERR, "%s: cannot serve: out of memory for the budgets' instances",
			d->mountpoint);
		return 1;
	}
	if (atomic_load(&d->restart->generation) == 1)
		return 0;
	if (rfs_restart_rebuild(d, err, sizeof(err))) {
		rfs_log(RFS_LOG_ERR, "%s: cannot serve again, unmounting: %s", d->mountpoint, err);
		return 1;
	}
	rfs_wire_handover(d);
	return 0;
}

static void session_stop(struct rfs_daemon *d, struct run *r)
{
	rfs_inval_stop(d->inval); /* a no-op if it never started */
	if (r->mounted)
		rfs_unmount(d);
	rfs_uring_stop(d->uring); /* after unmount: the kernel has let go of the rings */
	d->uring = NULL;
	rfs_passthrough_free(d->pt);
	d->pt = NULL;
	rfs_wire_detach(d);
	if (r->signals)
		fuse_remove_signal_handlers(d->se);
	if (d->se)
		fuse_session_destroy(d->se);
	d->se = NULL;
}

/* Serve until unmounted or told to stop; the exit status. */
static int run_session(struct rfs_daemon *d, struct fuse_cmdline_opts *cl)
{
	pthread_t reloader;
	int ret;

	if (rfs_inval_start(d->inval, d->se, d->restart ? &d->restart->notifier : NULL) ||
	    pthread_create(&reloader, NULL, reload_on_sighup, d))
		return 1;
	ret = serve(d, cl);
	pthread_kill(reloader, SIGUSR1);
	pthread_join(reloader, NULL);
	/* libfuse's handlers report the signal that ended the loop: asked to
	 * stop is a clean end. */
	ret = ret == 0 || ret == SIGTERM || ret == SIGINT || ret == SIGHUP ? 0 : 1;
	/* A background daemon's exit status reaches no one: say it. */
	rfs_log(RFS_LOG_INFO, "%s: session ended; exit status %d", cl->mountpoint, ret);
	return ret;
}

static void run_free(struct run *r)
{
	free(r->o.config);
	free(r->o.size);
	free(r->o.window_max);
	free(r->o.passthrough);
	free(r->o.huge);
	free(r->o.store);
	free(r->o.log);
	free(r->o.positional[0]);
	free(r->o.positional[1]);
	free(r->cl.mountpoint);
	rfs_mount_facts_free(&r->facts);
	free(r->ho.exe);
	free(r->ho.budgets);
	rfs_mount_opts_free(&r->mo);
	fuse_opt_free_args(&r->args);
}

int main(int argc, char *argv[])
{
	struct run r = {.args = FUSE_ARGS_INIT(argc, argv), .ops = {.init = op_init}};
	struct rfs_daemon d = {.argv = argv};
	char err[RFS_ERR_MAX] = "";
	const char *fail;
	uint64_t cap = 0;
	int ret;

	if (argc == 3 && strcmp(argv[1], "--upgrade") == 0)
		return rfs_upgrade_command(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--check-state") == 0)
		return rfs_check_state(argv[2]);
	r.handed = rfs_handover_take(&r.ho);
	if (r.handed)
		rfs_upgrade_arm(&r.ho, argv);
	d.exe = r.handed ? strdup(r.ho.exe) : realpath("/proc/self/exe", NULL);
	if (r.handed && take_handover(&d, &r)) {
		rfs_upgrade_fall_back(&r.ho, argv, "the journal handed on");
		ret = 1;
		goto out_args;
	}
	ret = command_line(&r, &d, &cap, argv[0]);
	if (ret >= 0) {
		if (r.handed)
			rfs_upgrade_fall_back(&r.ho, argv, "the command line or config");
		goto out_args;
	}
	if (r.handed && !r.o.restart) {
		fprintf(stderr, "regionfs: live upgrade of a mount without -o restart\n");
		ret = 1;
		goto out_args;
	}
	block_reload_signals(); /* before any thread: they inherit the mask */
	ret = model_init(&d, &r, cap, err, sizeof(err));
	/* The test hook: the takeover fails, or crashes (=crash). */
	fail = r.handed ? getenv("RFS_TEST_FAIL_TAKEOVER") : NULL;
	if (!ret && fail && strcmp(fail, "crash") == 0)
		raise(SIGSEGV);
	if (!ret && fail) {
		snprintf(err, sizeof(err), "RFS_TEST_FAIL_TAKEOVER is set");
		ret = -1;
	}
	if (ret) {
		fprintf(stderr, "regionfs: %s\n", err);
		if (r.handed)
			rfs_upgrade_fall_back(&r.ho, argv, err);
		ret = EXIT_USAGE;
		goto out_model;
	}
	ret = session_start(&d, &r);
	if (ret && r.handed)
		rfs_upgrade_fall_back(&r.ho, argv, "the session on the handed /dev/fuse");
	if (!ret && r.handed)
		rfs_upgrade_took(&d, &r.ho);
	if (!ret && d.restart)
		ret = become_server(&d);
	if (!ret)
		ret = run_session(&d, &r.cl);
	session_stop(&d, &r);
out_model:
	model_fini(&d);
out_args:
	rfs_journal_free(d.journal); /* taken from a handover, if model_fini did not */
	rfs_config_free(&d.cfg);
	run_free(&r);
	free(d.exe);
	return ret;
}
