/*
 * A mapping: the bytes behind one regular file of the namespace.
 *
 * Two kinds share this interface: a region (a file of the region store, grows
 * and shrinks) and a view (a window of a backing file). Data is served
 * straight from mapped memory. All functions are thread-safe; they return
 * 0 (or a byte count) on success and -errno on failure.
 *
 * Locking: each mapping has a reader-writer lock. Data access (a read
 * between read_begin and read_end, a write) holds it shared, so any number
 * of requests copy in parallel; resize, hole punching and remapping hold it
 * exclusive, so no request ever touches memory that is being unmapped or
 * moved. The lock prefers writers: a stream of reads cannot starve a resize.
 */
#ifndef REGIONFS_MAPPING_H
#define REGIONFS_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "lib/store.h"

/* Largest region: bounded so its address-space reservation always fits. */
#define RFS_REGION_MAX (1ULL << 42) /* 4 TiB */

#define RFS_IO_SEGS 4

enum rfs_kind {
	RFS_KIND_REGION,
	RFS_KIND_VIEW,
};

enum rfs_view_access {
	RFS_VIEW_RW,
	RFS_VIEW_RO,
	RFS_VIEW_COW, /* private copy-on-write: writes never reach the file */
};

struct rfs_mapping;

/* What a mapping is, for stats and attributes. */
struct rfs_mapping_info {
	enum rfs_kind kind;
	uint64_t size;
	uint64_t allocated;
	const char *backing;  /* views: the backing file, or region:NAME; valid while m lives */
	bool backing_deleted; /* views: the backing file was unlinked (nlink 0) */
	uint64_t offset;      /* views: window start in the backing file */
	enum rfs_view_access access;
	uint64_t dirty;		/* bytes written since the last flush */
	uint64_t private_bytes; /* cow views: private copies, charged to the cap */
	uint64_t resident;	/* bytes of the contents in memory now */
	int64_t last_flush_ns;	/* CLOCK_REALTIME of the last flush, 0 if none */
};

/*
 * The memory one read resolved to: iov[0..n) in order, len bytes in all
 * (less than asked at end of file). Valid until rfs_mapping_read_end.
 */
struct rfs_io {
	struct iovec iov[RFS_IO_SEGS];
	int n;
	size_t len;
	void *bounce;		 /* private: a buffer used instead of mapped memory */
	void *pins[RFS_IO_SEGS]; /* private: windows held for the reply */
};

/* A new empty region, a new file of store, in *out. 0 or -errno. */
int rfs_region_new(struct rfs_store *store, struct rfs_mapping **out);
/* The region that is file id of store, left by an earlier process (a
 * restart); rfs_store_adopt's errors. */
int rfs_region_adopt(struct rfs_store *store, uint64_t id, struct rfs_mapping **out);
/* The number of a region's file in its store; 0 for a view. */
uint64_t rfs_region_file(const struct rfs_mapping *m);
/* The number of the store file that keeps m's bytes across a restart: a
 * region's file, a cow view's shadow file (its private pages); 0 for
 * other views. */
uint64_t rfs_mapping_file(const struct rfs_mapping *m);
/* Its file was made by an earlier process, which left its bytes and size
 * (a restart's adoption, a live upgrade's inheritance): not to be sized again. */
bool rfs_region_kept(const struct rfs_mapping *m);
/* The store a region's bytes are in (held by it); NULL for a view. */
struct rfs_store *rfs_region_store(const struct rfs_mapping *m);

struct rfs_ledger;
/*
 * Who owns a region, for budgets by owner (ledger.h; l NULL: none): at
 * creation and at each chown its allocated bytes move to the new owners,
 * -ENOSPC if they have no room (nothing changed). From then on every change
 * made through it is checked against and charged to them. No-op for views.
 */
int rfs_region_set_owner(struct rfs_mapping *m, struct rfs_ledger *l, uid_t uid, gid_t gid);
/* The same without the check, after rfs_ledger_reset_use: count it again. */
void rfs_region_recount(struct rfs_mapping *m, struct rfs_ledger *l, uid_t uid, gid_t gid);
/* Is its owner or group limited? Then the daemon must serve its writers:
 * the kernel's would go around the count. */
bool rfs_region_counted(struct rfs_mapping *m);

struct rfs_windows;

/* A window of a backing file, or of a region. */
struct rfs_view_spec {
	const char *file; /* the file's path; for a window of a region, its label */
	/* A window of this region's bytes (its store file), or NULL. It never
	 * grows the region (-ENXIO past its end, whatever the access) and
	 * holds it until freed; -EBUSY while the kernel serves an open of it. */
	struct rfs_mapping *region;
	uint64_t offset;
	uint64_t length; /* 0: to the end of the file */
	enum rfs_view_access access;
	int fd;			 /* file already opened by the caller (taken over), or -1 */
	struct rfs_store *store; /* cow: the private pages' shadow file is made there */
	uint64_t shadow;	 /* cow: the shadow file an earlier process left, or 0 */
};

/*
 * A new view through the daemon's windows (windows.h). A rw window reaching
 * past the end of the file grows the file to fit, reserving the space, so a
 * full disk is -ENOSPC here rather than a fault later; ro and cow windows
 * must lie inside the file (-ENXIO). A cow view's writes make private
 * copies of pages in a shadow file of spec->store (spec->shadow's, adopted
 * with its private pages, or a new one), counted against its cap: a write
 * that does not fit is -ENOSPC. The view in *out: 0 or -errno.
 */
int rfs_view_new(struct rfs_windows *w, const struct rfs_view_spec *spec, struct rfs_mapping **out);

/*
 * Did the backing store change by a route other than this mapping since the
 * last call (a view's file written or truncated outside the mount)? Always
 * false for regions.
 */
bool rfs_mapping_stale(struct rfs_mapping *m);

/*
 * Was a view's backing file unlinked? The view keeps serving the deleted
 * file's bytes through its descriptor. *first is set true for exactly one
 * call that finds it so (a warning once per view). False for regions.
 */
bool rfs_mapping_backing_deleted(struct rfs_mapping *m, bool *first);

/* The owner lets go of the mapping; it is freed, with everything it holds,
 * once no read holds it either (read_begin .. read_end). */
void rfs_mapping_free(struct rfs_mapping *m);

enum rfs_kind rfs_mapping_kind(const struct rfs_mapping *m);
/* Does the mapping refuse writers (a ro view)? Cheap: for the open path. */
bool rfs_mapping_read_only(const struct rfs_mapping *m);
/* Is it a cow view (commit and discard apply)? Cheap. */
bool rfs_mapping_cow(const struct rfs_mapping *m);
void rfs_mapping_describe(const struct rfs_mapping *m, struct rfs_mapping_info *info);

/* An opaque pointer of the caller's, handed back in change notices. */
void rfs_mapping_set_owner(struct rfs_mapping *m, void *owner);
void *rfs_mapping_owner(const struct rfs_mapping *m);
uint64_t rfs_mapping_size(const struct rfs_mapping *m);
/* Bytes of memory (or disk) actually allocated for the mapping's contents. */
uint64_t rfs_mapping_allocated(const struct rfs_mapping *m);

/*
 * stat(2) facts of the contents: st_size and st_blocks always; for a
 * region also st_atim, st_mtim and st_ctim of its bytes, which change
 * without the daemon when the kernel serves the region (others zero them).
 */
int rfs_mapping_stat(const struct rfs_mapping *m, struct stat *st);
/* Set the contents' access and modification times (regions; others: 0). */
int rfs_mapping_set_times(struct rfs_mapping *m, const struct timespec times[2]);
/* chattr +A of its file: reads of a region's own file stop moving its
 * atime (a no-op for views, whose atime is the namespace's). 0 or -errno. */
int rfs_mapping_set_noatime(struct rfs_mapping *m, bool on);

/*
 * A file of the namespace was opened on m, or closed: while a region has
 * opens it keeps its store file open (and mapped when the daemon reads it).
 */
int rfs_mapping_open(struct rfs_mapping *m);
void rfs_mapping_close(struct rfs_mapping *m);

/*
 * A new descriptor of m's bytes, for the kernel to serve them directly
 * (regions); the caller closes it. -EOPNOTSUPP for views.
 */
int rfs_mapping_backing_fd(struct rfs_mapping *m);

/*
 * Regions: how an open is served (lib/regwin.h says why). kernel_ok: the
 * kernel could serve it (FUSE passthrough is on). Returns true if it may,
 * counted as a kernel open; false if the daemon must, counted as a daemon
 * open: the region has windows, or daemon opens left from a time it had.
 * *fresh: the kernel served the region since the last daemon open, around
 * the FUSE page cache, so this daemon open must start from an empty cache.
 * For views: false, nothing counted. Each call is matched by one
 * rfs_region_serve_close with the answer it gave.
 */
bool rfs_region_serve_open(struct rfs_mapping *m, bool kernel_ok, bool *fresh);
void rfs_region_serve_close(struct rfs_mapping *m, bool kernel);
/* Windows of the region alive now; 0 for views. */
unsigned int rfs_region_windows(struct rfs_mapping *m);

/*
 * Resolve [off, off + len) for reading and lock the mapping shared until
 * rfs_mapping_read_end, so a reply can be sent straight from the memory;
 * the mapping stays alive until then even if its owner frees it.
 * Reads of up to RFS_IO_SEGS - 1 window chunks (6 MiB) are never shortened
 * but at the end of the file.
 */
int rfs_mapping_read_begin(struct rfs_mapping *m, uint64_t off, size_t len, struct rfs_io *io);
void rfs_mapping_read_end(struct rfs_mapping *m, struct rfs_io *io);

/*
 * Copy [off, off + len) into buf, clipped at the end of the file; bytes
 * copied or -errno. For a reply that must be copied anyway (FUSE over
 * io_uring): a region reads its store file with pread, touching no
 * mapping, whose first touch per page costs more than the copy; a view
 * copies from its windows (a fault is -EIO).
 */
ssize_t rfs_mapping_read_into(struct rfs_mapping *m, void *buf, size_t len, uint64_t off);

/*
 * [off, off + len) of m is about to change: tell the other mappings of
 * those bytes (overlapping views, a region's windows, a window's region)
 * now, through the same change notices as after a change. The kernel
 * writes back a mapping's dirty cached pages before it drops them, so
 * their stores land before the change instead of over it: a dirty page
 * written back after a change would put back its stale copy of the bytes
 * the change wrote. A no-op for a mapping nothing overlaps.
 */
void rfs_mapping_changing(struct rfs_mapping *m, uint64_t off, uint64_t len);

/*
 * Seals, as F_SEAL_* for a memfd, of a region by name: they only
 * accumulate. shrink and grow refuse resizes down or up (and writes or
 * fallocate past the end for grow); write refuses every write, punch and
 * commit into it; future_write the same but for write-backs of mappings
 * made before it (rfs_mapping_write_back). Refused changes are -EPERM.
 * Who may still hold the region writable is the caller's to check first.
 */
enum {
	RFS_SEAL_SHRINK = 1u << 0,
	RFS_SEAL_GROW = 1u << 1,
	RFS_SEAL_WRITE = 1u << 2,
	RFS_SEAL_FUTURE_WRITE = 1u << 3,
	RFS_SEALS_ALL = (1u << 4) - 1,
	/* The seals that refuse writes through new opens and mappings. */
	RFS_SEALS_AGAINST_WRITES = RFS_SEAL_WRITE | RFS_SEAL_FUTURE_WRITE,
};
/* Add seals (RFS_SEAL_* bits); -EINVAL for anything but a region. */
int rfs_mapping_seal(struct rfs_mapping *m, unsigned int seals);
/* The seals so far (0 for views). Cheap: for the open path. */
unsigned int rfs_mapping_seals(const struct rfs_mapping *m);
/* May no new writer open m (sealed write or future_write)? */
bool rfs_mapping_refuses_writers(const struct rfs_mapping *m);

/* Copy len bytes at off, growing a region as needed. Returns bytes written. */
ssize_t rfs_mapping_write(struct rfs_mapping *m, const void *buf, size_t len, uint64_t off);
/* The same for a write-back of a client's mapping (mmap stores): a
 * future_write seal lets those through, as memfd's lets old mappings write. */
ssize_t rfs_mapping_write_back(struct rfs_mapping *m, const void *buf, size_t len, uint64_t off);

/* Set the size (ftruncate). -EFBIG past the kind's limit, -ENOSPC over the cap. */
int rfs_mapping_resize(struct rfs_mapping *m, uint64_t size);

/*
 * fallocate(2) modes 0, FALLOC_FL_KEEP_SIZE and
 * FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE; others are -EOPNOTSUPP.
 */
int rfs_mapping_fallocate(struct rfs_mapping *m, int mode, uint64_t off, uint64_t len);

/* lseek SEEK_DATA / SEEK_HOLE. */
off_t rfs_mapping_seek(struct rfs_mapping *m, off_t off, int whence);

/* Write dirty bytes to the backing store; durable also syncs it to disk.
 * A cow view has none: its private changes go only by commit. */
int rfs_mapping_sync(struct rfs_mapping *m, bool durable);

/*
 * Copy-on-write views. Commit writes the private changes to the backing
 * file, durably (as fsync), and then drops them: the file's bytes are the
 * view's. Discard drops them: the view shows the file's bytes again. Both
 * give the private pages' charge back. -EINVAL for any other mapping,
 * -EACCES to commit into a file open read-only. Other views of the file
 * get change notices for committed bytes; the view's own cached pages are
 * the caller's to drop after a discard.
 */
int rfs_mapping_commit(struct rfs_mapping *m);
int rfs_mapping_discard(struct rfs_mapping *m);

#endif
