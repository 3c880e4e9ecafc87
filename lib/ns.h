/*
 * The namespace: a tree of directories, regular files (each backed by a
 * mapping) and symbolic links, with POSIX semantics for names, links and
 * lifetimes. It knows nothing of FUSE; the driver's "lookup count" is a
 * plain reference count here (rfs_ns_ref / rfs_ns_forget).
 *
 * Lifetime: a node lives while it has a name (nlink > 0) or a reference.
 * Functions that hand out a node (lookup, create, ...) take one reference
 * for the caller. A node with a reference can be used without any lock:
 * its mapping and identity do not change.
 *
 * Lifetime of a region's name: a region of lifetime close loses its name
 * when its last open file description goes, once it has been opened at all
 * (rfs_ns_closed); a directory gives regions created in it a default.
 *
 * The code: ns.c (nodes, names), ns_dir.c (directories, readdir), ns_attr.c
 * (stat, setattr), ns_life.c (opens, close lifetime), ns_walk.c (walks);
 * private structures in ns_i.h.
 *
 * Locking: ns->lock (a reader-writer lock) guards the tree, every node's
 * name links, nlink, mode, ownership, a directory's default lifetime and
 * the node list. Times are atomics
 * so the data path can stamp them without it. Mappings have their own lock
 * (mapping.h); lock order: ns->lock, then a mapping's lock.
 */
#ifndef REGIONFS_NS_H
#define REGIONFS_NS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <linux/fs.h>

#include "lib/mapping.h"

struct rfs_ns;
struct rfs_node;

/* The control plane's directory at the root: no file may take this name (-EPERM);
 * readdir does not list it. */
#define RFS_NS_RESERVED ".regionfs"

/*
 * How long a region's name lives; for a directory, the default of regions
 * created in it (and of its new subdirectories).
 */
enum rfs_lifetime {
	RFS_LIFETIME_INHERIT = 0, /* in struct rfs_new: the directory's default */
	RFS_LIFETIME_PERSIST,	  /* until unlinked */
	RFS_LIFETIME_CLOSE,	  /* also unlinked when its last user goes, once opened */
};

/* Who is creating a node, and how. */
struct rfs_cred {
	uid_t uid;
	gid_t gid;
};

/* A namespace of just a root directory owned by owner, in *out: 0 or -errno. */
int rfs_ns_new(struct rfs_store *store, mode_t root_mode, struct rfs_cred owner,
	       struct rfs_ns **out);
/* Frees every node, reachable or not. No other thread may use ns any more. */
void rfs_ns_free(struct rfs_ns *ns);

struct rfs_node *rfs_ns_root(struct rfs_ns *ns);

/*
 * Numbers: every node has one (its st_ino, which the driver uses as its
 * node id), never reused while the namespace lives; the root's is 1,
 * special nodes' (rfs_ns_create_special) from 2 in the order they are
 * made, every other's from RFS_NS_FIRST_INO.
 */
#define RFS_NS_FIRST_INO 1024
uint64_t rfs_node_ino(const struct rfs_node *node);
/* When node was made (statx's birth time), ns since the epoch; fixed. */
int64_t rfs_node_btime(const struct rfs_node *node);
/* The node numbered ino, for a caller that knows something holds it (a
 * reference it counts); NULL if no node has that number. */
struct rfs_node *rfs_ns_node(struct rfs_ns *ns, uint64_t ino);
/* The node numbered ino, referenced, for a caller holding nothing (a file
 * handle kept across cache drops): -ESTALE if no node has that number now. */
int rfs_ns_find(struct rfs_ns *ns, uint64_t ino, struct rfs_node **out);

void rfs_ns_ref(struct rfs_ns *ns, struct rfs_node *node);
/* Drop n references; the node may be freed. */
void rfs_ns_forget(struct rfs_ns *ns, struct rfs_node *node, uint64_t n);

/* The child called name of dir, referenced. -ENOENT, -ENOTDIR. */
int rfs_ns_lookup(struct rfs_ns *ns, struct rfs_node *dir, const char *name, struct rfs_node **out);

/* What to create: type and permission bits, and what the type needs. */
struct rfs_new {
	mode_t mode; /* S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK */
	struct rfs_cred cred;
	const char *target;	 /* S_IFLNK */
	dev_t rdev;		 /* S_IFCHR, S_IFBLK */
	struct rfs_mapping *map; /* S_IFREG: contents, taken over on success; NULL: a new region */
	enum rfs_lifetime lifetime; /* regions and directories; views are always persist */
	mode_t umask;		    /* taken from mode unless the directory has a default ACL */
	/* A regular file whose map is the caller's view: what the caller
	 * needs to make that mapping again, kept in the journal and handed
	 * back to a replay (rfs_ns_replay); NULL: a replay could not. */
	const void *recipe;
	size_t recipe_len;
};

/*
 * Create a node called name in dir, referenced. A regular file gets a new
 * empty region. -EEXIST if the name is taken. With name NULL, a regular
 * file with no name (O_TMPFILE), made as if in dir; rfs_ns_link may give
 * it its first name.
 */
int rfs_ns_create(struct rfs_ns *ns, struct rfs_node *dir, const char *name,
		  const struct rfs_new *what, struct rfs_node **out);

/*
 * A special node for the caller (the control plane): a directory or a
 * regular file without a mapping, sealed (it cannot be removed, renamed or
 * linked, a sealed directory takes no new entries, and its mode and owner
 * are fixed) and marked with tag. Referenced; the reserved name is allowed.
 */
int rfs_ns_create_special(struct rfs_ns *ns, struct rfs_node *dir, const char *name, mode_t mode,
			  struct rfs_cred cred, void *tag, struct rfs_node **out);
/* The tag of a special node; NULL for every other node. */
void *rfs_node_tag(const struct rfs_node *node);

/*
 * Count of open file descriptions, kept by the caller: rfs_node_opened at
 * each open, rfs_ns_closed when one goes (FUSE release, or an open whose
 * reply failed). Lock-free but for the last close of a close region.
 */
void rfs_node_opened(struct rfs_node *node);
unsigned int rfs_node_opens(const struct rfs_node *node);

/* What rfs_ns_closed unlinked: the directory (referenced) and the name. */
struct rfs_gone {
	struct rfs_node *dir;
	char name[256];
};

/*
 * One open file description of node went. If it was the last and node is a
 * region of lifetime close that has been opened, its name is removed: the
 * count and the name change under the exclusive lock, so a concurrent
 * opener finds either the name with the region alive or no name (an open of
 * a node looked up before still works, as for any unlinked file). Returns
 * true and fills *gone then; the caller drops gone->dir.
 */
bool rfs_ns_closed(struct rfs_ns *ns, struct rfs_node *node, struct rfs_gone *gone);

/* A region's lifetime (never INHERIT), or a directory's default; PERSIST for others. */
enum rfs_lifetime rfs_node_lifetime(const struct rfs_node *node);
/* Set a directory's default for regions created in it from now on: -ENOTDIR, -EINVAL. */
int rfs_ns_set_lifetime(struct rfs_ns *ns, struct rfs_node *dir, enum rfs_lifetime lifetime);

/* A new name for an existing non-directory node (link(2)), referenced.
 * A region of lifetime close has one name at most (-EMLINK). */
int rfs_ns_link(struct rfs_ns *ns, struct rfs_node *node, struct rfs_node *dir, const char *name);

/* unlink(2) (dir false) or rmdir(2) (dir true). */
int rfs_ns_remove(struct rfs_ns *ns, struct rfs_node *dir, const char *name, bool is_dir);

/* rename(2); flags as renameat2(2): RFS_RENAME_NOREPLACE, RFS_RENAME_EXCHANGE,
 * RFS_RENAME_WHITEOUT (the old name becomes a whiteout, a character device
 * 0:0 owned by cred, as overlayfs wants of its upper directory). */
#define RFS_RENAME_NOREPLACE (1 << 0)
#define RFS_RENAME_EXCHANGE  (1 << 1)
#define RFS_RENAME_WHITEOUT  (1 << 2)
int rfs_ns_rename_as(struct rfs_ns *ns, struct rfs_node *from_dir, const char *from,
		     struct rfs_node *to_dir, const char *to, unsigned int flags,
		     struct rfs_cred cred);
/* The same by root (no whiteout owner to name). */
int rfs_ns_rename(struct rfs_ns *ns, struct rfs_node *from_dir, const char *from,
		  struct rfs_node *to_dir, const char *to, unsigned int flags);

void rfs_ns_stat(struct rfs_ns *ns, struct rfs_node *node, struct stat *st);

/* Attributes a setattr can change; `which` is a mask of these. */
enum {
	RFS_SET_MODE = 1 << 0,
	RFS_SET_UID = 1 << 1,
	RFS_SET_GID = 1 << 2,
	RFS_SET_SIZE = 1 << 3,
	RFS_SET_ATIME = 1 << 4,
	RFS_SET_MTIME = 1 << 5,
	RFS_SET_CTIME = 1 << 6,
	RFS_SET_TOUCH = 1 << 7, /* the times set are now (utimes(NULL)), not given */
};
/*
 * Apply the fields of st named by which. Size applies to regular files
 * only. Everything is checked before anything is applied (-EPERM for a
 * sealed node's mode, owner or size; -EISDIR, -EINVAL for a size of a
 * non-file; -EINVAL for a region's atime or mtime with tv_nsec out of range), and the
 * steps that can still fail (the resize: -ENOSPC, -EFBIG, ...; then a
 * region's file times) come before the rest: a failed call changes nothing
 * but, in the rare case that its times fail after the resize, the size.
 */
int rfs_ns_setattr(struct rfs_ns *ns, struct rfs_node *node, unsigned int which,
		   const struct stat *st);

/*
 * chattr's inode flags, those tmpfs keeps: immutable (+i: no change to the
 * node, its names or, for a directory, its entries), append-only (+a:
 * writes only at the end; names, owner and mode stay; a directory takes
 * new entries only), nodump and noatime (kept for the tools that read them).
 */
#define RFS_NS_IFLAGS (FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | FS_NOATIME_FL)
unsigned int rfs_ns_iflags(const struct rfs_node *node);
/* Replace them: -EOPNOTSUPP for any other flag, -EPERM on the control plane.
 * Who may is the caller's to check (the kernel's fileattr rules). */
int rfs_ns_set_iflags(struct rfs_ns *ns, struct rfs_node *node, unsigned int flags);
/* May node be opened with open(2)'s flags as its inode flags go? 0 or
 * -EPERM (writing an immutable file; writing an append-only one without
 * O_APPEND, or truncating it). */
int rfs_ns_may_open(const struct rfs_node *node, int flags);
/* May node take fallocate(2) with mode? 0 or -EPERM (immutable; append-only
 * unless FALLOC_FL_KEEP_SIZE is all of mode), as vfs_fallocate decides. */
int rfs_ns_may_fallocate(const struct rfs_node *node, int mode);

/* The node whose contents a mapping is (set when the node is created;
 * NULL once the node is freed while something else holds the mapping). */
struct rfs_node *rfs_mapping_node(const struct rfs_mapping *m);

/* Mark node's contents modified now (mtime and ctime). Lock-free. The
 * time stamped. */
int64_t rfs_ns_touch(struct rfs_node *node);
/* The same at t, unless they are later already (a restart's, for the
 * stamps its predecessor made: see rfs_ns_touch's callers). */
void rfs_ns_touch_at(struct rfs_node *node, int64_t t);

struct rfs_mapping *rfs_node_mapping(const struct rfs_node *node);
mode_t rfs_node_type(const struct rfs_node *node);

/* Copy a symlink's target into buf (NUL-terminated). -EINVAL if not a symlink. */
int rfs_ns_readlink(struct rfs_ns *ns, struct rfs_node *node, char *buf, size_t size);

/*
 * An open listing of a directory (opendir to closedir): it resumes where it
 * left off in O(1), so listing n entries costs O(n) however often it stops,
 * and it ends: a listing from cookie 0 shows at most the entries there are
 * then (rewinddir starts anew). Close it before the directory can go.
 */
struct rfs_listing;
int rfs_ns_listing_open(struct rfs_ns *ns, struct rfs_node *dir, struct rfs_listing **out);
void rfs_ns_listing_close(struct rfs_ns *ns, struct rfs_listing *l);

/*
 * Walk dir's entries from cookie (0 = start), in a stable order that
 * survives concurrent changes: every entry present throughout comes once,
 * one renamed or made meanwhile at most once. l: the open listing this is
 * part of, or NULL (then resuming walks from the start, and there is no
 * end bound). emit() gets each entry with the cookie that resumes after
 * it; it returns non-zero to stop (the entry was not taken).
 * "." and ".." come first. Special nodes at the root (the control plane's
 * directory) are left out, so tar, cp -a, rsync and find pass them by; they
 * stay reachable by name (lookup). Runs under the shared lock: emit must not call
 * back into ns except rfs_ns_ref and rfs_ns_stat_locked.
 */
typedef int (*rfs_emit_fn)(void *ctx, const char *name, struct rfs_node *node, uint64_t next);
int rfs_ns_readdir(struct rfs_ns *ns, struct rfs_node *dir, uint64_t cookie, struct rfs_listing *l,
		   rfs_emit_fn emit, void *ctx);
void rfs_ns_stat_locked(struct rfs_node *node, struct stat *st);

/*
 * Call fn for every regular file reachable from the root, depth first, with
 * its path ("dir/name"; a hard-linked file once per name), skipping special
 * nodes. Runs under the shared lock: fn must not call into ns. fn returns
 * non-zero to stop. Returns that value (0 if the walk ended), or -ENOMEM.
 * The same holds for rfs_ns_walk_dirs and rfs_ns_walk_as.
 */
#define RFS_NS_PATH_MAX 4096
typedef int (*rfs_walk_fn)(void *ctx, const char *path, struct rfs_node *node);
int rfs_ns_walk(struct rfs_ns *ns, rfs_walk_fn fn, void *ctx);

/* A reader's identity, for permission checks as the kernel makes them. */
struct rfs_reader {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups */
	size_t ngroups;
};

/* The same for every directory below the root instead of regular files,
 * limited to what who could list (as rfs_ns_walk_as; NULL: all). */
int rfs_ns_walk_dirs(struct rfs_ns *ns, const struct rfs_reader *who, rfs_walk_fn fn, void *ctx);

/*
 * rfs_ns_walk limited to what who could find with ls and stat: the files
 * below directories (the root included) that who may all read and search,
 * checked by mode bits as default_permissions does; uid 0 passes every
 * check (CAP_DAC_OVERRIDE). A directory who may search but not read hides
 * its entries' names, so nothing below it is shown. who NULL: every file.
 */
int rfs_ns_walk_as(struct rfs_ns *ns, const struct rfs_reader *who, rfs_walk_fn fn, void *ctx);

/*
 * Budgets. A directory with a budget keeps the regions made below it in a
 * store of size bytes of its own (store.h's rfs_store_new_budget), carved
 * from the store above it: a write, fallocate or mapped store past it fails
 * as past the mount's cap, on every data path, and statfs inside it tells
 * its size. Set on a directory with no region below it (-EBUSY otherwise;
 * budgets below are carved from the new one, -ENOSPC if they do not fit),
 * changed (-ENOSPC: no room above; -EBUSY: its regions use more) or, with
 * size 0, taken away once nothing keeps bytes in it (-EBUSY). -EPERM for
 * the root (the mount's cap is its budget) and special directories.
 * Regions never change stores: link or rename of one, or of a directory
 * holding one, into another budget is -EXDEV.
 */
int rfs_ns_set_budget(struct rfs_ns *ns, struct rfs_node *dir, uint64_t size);
/* The store of node's part of the tree (a region's own; a directory's
 * nearest budget; for other files their first name's directory's),
 * held: the caller rfs_store_frees it. */
struct rfs_store *rfs_ns_store_of(struct rfs_ns *ns, struct rfs_node *node);
/* A directory's own budget, or NULL. ns->lock held (as in a walk). */
struct rfs_store *rfs_node_budget(const struct rfs_node *dir);

/*
 * Budgets by owner (ledger.h): regions are counted in l from now on (NULL:
 * nowhere), each one's bytes counted anew. Call again after changing l's
 * limits. Regions made later are counted at creation and at each chown
 * (-ENOSPC when the new owner has no room).
 */
void rfs_ns_set_ledger(struct rfs_ns *ns, struct rfs_ledger *l);

/* Totals for statfs. */
struct rfs_ns_usage {
	uint64_t nodes;
};
void rfs_ns_usage(struct rfs_ns *ns, struct rfs_ns_usage *u);

/*
 * Extended attributes (ns_xattr.c): user.*, trusted.*, security.* and the
 * POSIX ACLs system.posix_acl_access and system.posix_acl_default, kept as
 * tmpfs keeps them; whoever may read or write which is the caller's (the
 * kernel's) to decide. Any other name is -EOPNOTSUPP; a control-plane node
 * takes none (-EPERM). Setting an access ACL sets the mode's permission
 * bits from it (and keeps no ACL the mode says all of); chmod rewrites it;
 * a new node takes its directory's default ACL (rfs_ns_create).
 */
/* Value of name into buf (size 0: only its length): its length, -ENODATA, -ERANGE. */
int rfs_ns_getxattr(struct rfs_ns *ns, struct rfs_node *n, const char *name, void *buf,
		    size_t size);
/* flags: XATTR_CREATE (-EEXIST), XATTR_REPLACE (-ENODATA). -EINVAL for a
 * malformed ACL, -ENOSPC when the namespace's attribute bytes are used up. */
int rfs_ns_setxattr(struct rfs_ns *ns, struct rfs_node *n, const char *name, const void *value,
		    size_t size, int flags);
int rfs_ns_removexattr(struct rfs_ns *ns, struct rfs_node *n, const char *name);
/* The names, each NUL-terminated, into buf of size bytes (buf NULL: only
 * their length); trusted.* only for a privileged caller. Length, or -ERANGE
 * if they do not fit (a length asked for before may be too small now). */
int rfs_ns_listxattr(struct rfs_ns *ns, struct rfs_node *n, bool privileged, char *buf,
		     size_t size);
/* A write, truncate or chown by a caller without CAP_FSETID: a regular
 * file loses set-user-ID, set-group-ID (if group-executable) and
 * security.capability, as the kernel's file_remove_privs would do. */
void rfs_ns_kill_priv(struct rfs_ns *ns, struct rfs_node *n);
/* Has n what rfs_ns_kill_priv would drop? */
bool rfs_ns_holds_priv(struct rfs_ns *ns, struct rfs_node *n);

/*
 * Restart (ns_journal.c): a journal records every change of the namespace,
 * so that a new process rebuilds it with the same numbers, names, modes,
 * owners, times, links, attributes and flags, over the same region files.
 * Not kept: open counts and references (the caller's), views' mappings.
 */
struct rfs_journal;
/* Record types from this one on are the driver's, in the same journal; a
 * replay passes them by. */
#define RFS_NS_JOURNAL_DRIVER 64
/* Every change this thread makes from now on happens at the instant t
 * (ns and nodes made, times set), until rfs_ns_pin_time(0): a mount's
 * declarations, made again by a live upgrade, are made as they were. */
void rfs_ns_pin_time(int64_t t);
/* Record every change from now on in j (NULL: none). ns must be what j's
 * records build (new, or just replayed from j). */
void rfs_ns_set_journal(struct rfs_ns *ns, struct rfs_journal *j);
/* 0 while the journal holds every change; else the first error an append
 * met (-ENOSPC: it is full), and a replay would not rebuild ns. */
int rfs_ns_journal_error(struct rfs_ns *ns);
/*
 * Apply j's records to ns, a namespace made as the one that wrote them
 * (same root; its special nodes may be made before or after). Regions
 * adopt their files from ns's store, budgets the instances it keeps
 * (rfs_store_keep_budget). Every node the records leave alive
 * keeps one reference of the replay: give the nodes the references their
 * users hold (rfs_ns_find), then rfs_ns_replay_release. A view is made
 * again by remake(ctx, its recipe (rfs_new), file): file is the store file
 * its mapping kept bytes in (rfs_mapping_file: a cow view's private
 * pages), to adopt; 0 for none, or for a view freed later in the journal
 * (its file is gone). 0, or -EPROTO for a journal that does not apply
 * (then ns is to be freed), -EOPNOTSUPP for a view without a recipe or
 * remake, remake's error.
 */
typedef int (*rfs_remake_fn)(void *ctx, const void *recipe, size_t len, uint64_t file,
			     struct rfs_mapping **out);
int rfs_ns_replay(struct rfs_ns *ns, struct rfs_journal *j, rfs_remake_fn remake, void *ctx);
void rfs_ns_replay_release(struct rfs_ns *ns);
/* After a failed replay: which record it stopped at, and why. */
const char *rfs_ns_replay_failed(struct rfs_ns *ns);
/* The names the last n records of j made, removed or moved (each as its
 * directory's number and the name), oldest first: a successor drops what
 * the kernel may still cache of changes whose notice died with the process
 * that made them (a close region's name, a control command's). */
typedef void (*rfs_name_fn)(void *ctx, uint64_t dir, const char *name);
int rfs_ns_journal_names(struct rfs_journal *j, uint64_t n, rfs_name_fn fn, void *ctx);
/* Seals were added to node's region (rfs_mapping_seal, the caller's): the
 * journal keeps them for a replay. */
void rfs_ns_record_seal(struct rfs_ns *ns, struct rfs_node *node, unsigned int seals);

#endif
