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

struct rfs_inval;

#define RFS_VERSION "0.1.0"

/* The requests counted for metrics, by name. */
/* clang-format off */
#define RFS_OPS(X)                                                              \
	X(lookup) X(forget) X(getattr) X(setattr) X(readlink) X(mknod)          \
	X(mkdir) X(unlink) X(rmdir) X(symlink) X(rename) X(link) X(open)        \
	X(read) X(write) X(flush) X(release) X(fsync) X(readdir) X(statfs)      \
	X(create) X(fallocate) X(lseek) X(getxattr)
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
	struct rfs_ns *ns;	    /* the namespace; has its own locking */
	struct rfs_windows *win;    /* views' backing files; has its own locking */
	struct rfs_inval *inval;    /* cache invalidation queue (fs/inval.h); fixed */
	struct rfs_uring *uring;    /* -o io_uring transport (fs/uring.h), or NULL */
	struct rfs_store *store;    /* regions' bytes (lib/store.h); has its own locking */
	struct rfs_passthrough *pt; /* backing ids of region opens (fs/passthrough.h) */
	void *wire;		    /* fs/wire.c's INIT state */
	bool no_passthrough;	    /* -o passthrough=off: regions through the daemon */
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
	bool writeback;		 /* -o writeback: kernel writeback cache; fixed */
	bool strict_dirty;	 /* -o strict_dirty: keep the kernel's FUSE dirty limit */
	const char *mountpoint;	 /* fixed after mount */
	atomic_bool bdi_tuned;	 /* rfs_bdi_tune ran (at the first open) */
	uint64_t window_max;	 /* views' mapped-bytes budget; fixed */
	struct rfs_counters counters;

	/* Serializes control commands and reloads; guards cfg (which they
	 * replace) and ctl_result. Taken before ns->lock. */
	pthread_mutex_t ctl_lock;
	char ctl_result[RFS_ERR_MAX]; /* the last command's outcome */
};

static inline void rfs_count(struct rfs_daemon *d, enum rfs_op op)
{
	atomic_fetch_add_explicit(&d->counters.ops[op], 1, memory_order_relaxed);
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
 * Node ids are node pointers; the kernel holds a reference (lookup count)
 * for every id it knows, so the node outlives every request naming it.
 */
static inline struct rfs_node *rfs_node(struct rfs_daemon *d, fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? rfs_ns_root(d->ns) : (struct rfs_node *)(uintptr_t)ino;
}

static inline fuse_ino_t rfs_ino(struct rfs_daemon *d, struct rfs_node *node)
{
	return node == rfs_ns_root(d->ns) ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)node;
}

/* Is node one of the control plane's (fs/control.h)? Then its handlers serve it. */
static inline bool rfs_is_control(const struct rfs_node *node)
{
	return rfs_node_tag(node) != NULL;
}

/* Fill a fuse_entry_param for a referenced node. */
void rfs_fill_entry(struct rfs_daemon *d, struct rfs_node *node, struct fuse_entry_param *e);

/* The caller's identity, as lib/ wants it. */
struct rfs_cred rfs_req_cred(fuse_req_t req);

/*
 * At INIT: will the kernel serve region opens (offered: the kernel offers
 * passthrough)? Sets d->passthrough and d->data_path and logs it, once.
 */
void rfs_data_path_decide(struct rfs_daemon *d, bool offered);

/* Lift the kernel's FUSE writeback throttle and readahead cap, once: at the
 * first open, when the kernel has applied the INIT reply (fs/bdi.c). */
void rfs_bdi_tune(struct rfs_daemon *d);

/*
 * Logging (fs/log.c): stderr in the foreground; in the background syslog
 * where /dev/log listens, else the stderr the daemon was started with;
 * a file with -o log=PATH. The sink is set up before serving, in order:
 * rfs_log_to_file (if asked), rfs_log_keep_stderr before daemonizing,
 * rfs_log_daemonized after. Each returns 0 or -errno.
 */
enum rfs_log_level { RFS_LOG_ERR, RFS_LOG_WARN, RFS_LOG_INFO, RFS_LOG_DEBUG };
void rfs_log(enum rfs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rfs_log_to_file(const char *path, char *err, size_t errlen);
int rfs_log_keep_stderr(void);
/* Chooses the background sink; returns its name for the log. */
const char *rfs_log_daemonized(void);

/* Operation tables, one file each. */
void rfs_ops_inode(struct fuse_lowlevel_ops *ops);
void rfs_ops_dir(struct fuse_lowlevel_ops *ops);
void rfs_ops_file(struct fuse_lowlevel_ops *ops);
void rfs_ops_xattr(struct fuse_lowlevel_ops *ops);

/* Add one declared region; -errno. */
int rfs_add_region(struct rfs_daemon *d, const struct rfs_region_decl *r);
/* Make or update one declared directory; -errno. */
int rfs_add_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd);
/* Take name (a region or view) out of the namespace; open files keep it.
 * -errno with why in err. */
int rfs_remove_name(struct rfs_daemon *d, const char *name, char *err, size_t errlen);
/* A [dir:] section went from the config: its directory's default back to persist. */
void rfs_drop_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd);

/*
 * An open file description of node went (release, or an open whose reply
 * failed): counts it, and removes a close region's name with its last user.
 * node stays valid for the caller: the kernel keeps its lookup reference
 * until the release is answered.
 */
void rfs_file_closed(struct rfs_daemon *d, struct rfs_node *node);

/* Build the regions and views of the config into the namespace. */
int rfs_populate(struct rfs_daemon *d, char *err, size_t errlen);
/* Add one declared view; fd: its file opened by the caller (taken over) or -1. */
int rfs_add_view(struct rfs_daemon *d, const struct rfs_view_decl *v, int fd);
/* The two halves of rfs_add_view: make the mapping, then name it. */
struct rfs_mapping *rfs_view_open(struct rfs_daemon *d, const struct rfs_view_decl *v, int fd,
				  int *err);
int rfs_add_view_mapping(struct rfs_daemon *d, const struct rfs_view_decl *v,
			 struct rfs_mapping *map);
/* Describe a failed view as "FILE:LINE: view 'x': why" (no prefix if file is NULL). */
void rfs_view_error(const struct rfs_view_decl *v, const char *file, int e, char *err,
		    size_t errlen);

#endif
