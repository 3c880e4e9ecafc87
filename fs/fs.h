/*
 * The FUSE driver: one daemon object, reached from every request through
 * the session's userdata, and the low-level operations that decode a
 * request, call lib/, and reply. Nothing here keeps file-scope state.
 */
#ifndef REGIONFS_FS_H
#define REGIONFS_FS_H

#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf/config.h"
#include "lib/store.h"
#include "lib/ns.h"
#include "lib/windows.h"

struct rfs_holders;
struct rfs_slots;
struct rfs_restart;
struct rfs_journal;
struct rfs_counts;
struct rfs_inval;
struct rfs_wire;

#ifndef RFS_VERSION /* a test builds another version to upgrade to */
#define RFS_VERSION "0.1.0"
#endif

/* What a live upgrade hands on (fs/upgrade.h) and the next program must
 * read alike: the journal's records, the slots of opens, the counts, the
 * shared restart page and the counters. One more on any change to them. */
#define RFS_STATE_FORMAT 3

/* The requests counted for metrics, by name. */
/* clang-format off */
#define RFS_OPS(X)                                                              \
	X(lookup) X(forget) X(getattr) X(setattr) X(readlink) X(mknod)          \
	X(mkdir) X(unlink) X(rmdir) X(symlink) X(rename) X(link) X(open)        \
	X(read) X(write) X(flush) X(release) X(fsync) X(readdir) X(statfs)      \
	X(create) X(fallocate) X(lseek) X(getxattr) X(opendir) X(setxattr)     \
	X(listxattr) X(removexattr) X(ioctl)
/* clang-format on */

enum rfs_op {
#define RFS_OP_ENUM(name) RFS_OP_##name,
	RFS_OPS(RFS_OP_ENUM)
#undef RFS_OP_ENUM
		RFS_OP_COUNT
};

/* Daemon-wide counters; relaxed atomics, read only for metrics. */
struct rfs_counters {
	_Atomic uint64_t ops[RFS_OP_COUNT];
	_Atomic uint64_t bytes_read, bytes_written;
	_Atomic uint64_t flushes, flush_errors;
	_Atomic uint64_t commits, commit_errors, discards; /* of cow views */
	_Atomic uint64_t faults;	   /* requests failed by a fault in mapped memory */
	_Atomic uint64_t writeback_errors; /* write-backs of client mmap stores refused */
	_Atomic uint64_t reclaimed;	   /* close regions removed with their last user */
};

struct rfs_daemon {
	struct rfs_ns *ns;	 /* the namespace; has its own locking */
	struct rfs_windows *win; /* views' backing files; has its own locking */
	struct rfs_inval *inval; /* cache invalidation queue (fs/inval.h); fixed */
	struct rfs_uring *uring; /* -o io_uring transport (fs/uring.h), or NULL */
	struct rfs_store *store; /* regions' bytes (lib/store.h); has its own locking */
	/* Budgets by owner (lib/ledger.h), made by the first config that
	 * gives one (then kept), or NULL; own lock. Set under ctl_lock. */
	struct rfs_ledger *_Atomic ledger;
	struct rfs_passthrough *pt;  /* backing ids of region opens (fs/passthrough.h) */
	struct rfs_holders *holders; /* who holds files open (fs/holders.h); own lock */
	struct rfs_slots *handles;   /* what fi->fh names (fs/handles.h); own lock */
	struct rfs_wire *wire;	     /* fs/wire.c's INIT state */
	/* -o restart (fs/supervise.h, fs/restart.h), else all NULL: what the
	 * supervisor and its serving processes share; the journal of the
	 * namespace's changes; the references the kernel holds, by node. */
	struct rfs_restart *restart;
	struct rfs_journal *journal;
	struct rfs_counts *krefs;
	struct rfs_counts *touched; /* the daemon's last change to a node's bytes, by number */
	int restart_fd;		    /* the memfd d->restart maps, handed on by an upgrade */
	/* Live upgrade (fs/upgrade.h): how this program was started, to start
	 * the installed one alike; whether it was (then libfuse did not mount). */
	char *const *argv;
	char *exe;
	bool inherited;
	bool no_passthrough; /* -o passthrough=off: regions through the daemon */
	/* The kernel serves region opens (decided at INIT, cleared if the
	 * kernel refuses a backing file); data_path says why or why not. */
	atomic_bool passthrough;
	/* Who serves regions and why, for the log, stats and metrics: one of
	 * the two texts below, each written once, before it is published here
	 * (atomic store; readers load it). NULL until INIT. */
	_Atomic(const char *) data_path;
	char data_path_init[128];    /* written at INIT, before any request */
	char data_path_refused[128]; /* written by the passthrough_refused that
				      * clears passthrough, the only one */
	/* The config in force: loaded before serving, then replaced by each
	 * reload; read and replaced only under ctl_lock once serving. */
	struct rfs_config cfg;
	struct fuse_session *se; /* fixed after mount */
	double timeout;		 /* entry and attribute cache timeout, seconds */
	/* Every node's generation, random per mount: node numbers restart at 1
	 * in the next mount, and a file handle kept from this one (an NFS
	 * client's) must find no file there rather than another. Fixed. */
	uint32_t generation;
	bool writeback;		/* -o writeback: kernel writeback cache; fixed */
	bool xattr_facts;	/* -o xattr: user.regionfs.* shown (ops_xattr.c); fixed */
	bool idmap;		/* -o idmap: FUSE_ALLOW_IDMAP asked for (fs/wire.c); fixed */
	bool strict_dirty;	/* -o strict_dirty: keep the kernel's FUSE dirty limit */
	const char *mountpoint; /* fixed after mount */
	atomic_bool bdi_tuned;	/* rfs_bdi_tune ran (at the first open) */
	uint64_t window_max;	/* views' mapped-bytes budget; fixed */
	/* In a shared mapping: under -o restart, serving processes count on
	 * where the one before stopped. */
	struct rfs_counters *counters;
	int counters_fd; /* the memfd counters maps */

	/* Serializes control commands and reloads; guards cfg (which they
	 * replace) and ctl_result. Taken before ns->lock. */
	pthread_mutex_t ctl_lock;
	char ctl_result[RFS_ERR_MAX]; /* the last command's outcome */
};

/* The kernel takes (delta > 0) or lets go of references on node ino: kept
 * for a successor under -o restart (fs/restart.h). */
void rfs_kernel_holds(struct rfs_daemon *d, uint64_t ino, int64_t delta);
/* The daemon changed node's bytes: its mtime and ctime move, which a
 * successor under -o restart finds again (fs/restart.h). */
void rfs_touched(struct rfs_daemon *d, struct rfs_node *node);
/* Its mtime was set (utimensat, the journal has it): what rfs_touched
 * kept is older. */
void rfs_untouched(struct rfs_daemon *d, struct rfs_node *node);

static inline void rfs_count(struct rfs_daemon *d, enum rfs_op op)
{
	atomic_fetch_add_explicit(&d->counters->ops[op], 1, memory_order_relaxed);
}

static inline void rfs_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline struct rfs_daemon *rfs_daemon(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/*
 * Node ids are the namespace's node numbers (st_ino; the root's is 1, as
 * FUSE's), never reused while it lives, so a file handle the kernel built
 * from one names that node or none (export support, ops_inode.c). The
 * kernel holds a reference (lookup count) for every id it sends, so the
 * node outlives every request naming it.
 */
static inline struct rfs_node *rfs_node(struct rfs_daemon *d, fuse_ino_t ino)
{
	return rfs_ns_node(d->ns, ino);
}

static inline fuse_ino_t rfs_ino(struct rfs_daemon *d, struct rfs_node *node)
{
	(void)d;
	return rfs_node_ino(node);
}

/* Is node one of the control plane's (fs/control.h)? Then its handlers serve it. */
static inline bool rfs_is_control(const struct rfs_node *node)
{
	return rfs_node_tag(node) != NULL;
}

#endif
