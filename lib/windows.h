/*
 * Windows: the daemon-wide machinery behind views. It opens each backing
 * file once, however many views use it, and maps it in fixed-size chunks on
 * demand, keeping at most a budget of bytes mapped (plus chunks pinned by
 * requests in flight), so a view of a file far larger than memory or
 * address space costs a bounded amount of both.
 *
 * Locking: one mutex guards the backing registry, the chunk table and the
 * LRU. It is held only to find, map or unmap a chunk, never during a copy:
 * a pinned chunk stays mapped until unpinned.
 */
#ifndef REGIONFS_WINDOWS_H
#define REGIONFS_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/mapping.h"

#define RFS_CHUNK (2ULL << 20) /* bytes per mapped chunk; a multiple of the page size */

struct rfs_windows;
struct rfs_backing;
struct rfs_chunk;

/*
 * Called, from the thread that wrote, for every other view whose window
 * overlaps bytes that changed: view-relative [off, off + len). Runs under
 * the windows lock: it must only record the notice, not block.
 */
typedef void (*rfs_changed_fn)(void *ctx, struct rfs_mapping *view, uint64_t off, uint64_t len);

/* Windows mapping at most budget bytes (at least one chunk), in *out: 0 or -ENOMEM. */
int rfs_windows_new(uint64_t budget, rfs_changed_fn changed, void *ctx, struct rfs_windows **out);
/* Every view must be freed first. */
void rfs_windows_free(struct rfs_windows *w);

/* Bytes of backing files mapped right now. */
uint64_t rfs_windows_mapped(struct rfs_windows *w);

/*
 * The shared backing of path, referenced; -errno. fd, if not -1, is path
 * already opened by the caller (taken over, closed on failure); otherwise
 * path is opened read-write if possible, else read-only.
 */
int rfs_backing_get(struct rfs_windows *w, const char *path, int fd, struct rfs_backing **out);
void rfs_backing_put(struct rfs_windows *w, struct rfs_backing *b);
int rfs_backing_fd(const struct rfs_backing *b);
bool rfs_backing_writable(const struct rfs_backing *b);
const char *rfs_backing_path(const struct rfs_backing *b);

/* Register a view on its backing for change notices, or take it off. */
void rfs_backing_attach(struct rfs_windows *w, struct rfs_backing *b, struct rfs_mapping *view,
			uint64_t offset, uint64_t length);
void rfs_backing_detach(struct rfs_windows *w, struct rfs_backing *b, struct rfs_mapping *view);

/* Tell every view of b but `except` overlapping file range [off, off + len). */
void rfs_backing_changed(struct rfs_windows *w, struct rfs_backing *b, struct rfs_mapping *except,
			 uint64_t off, uint64_t len);

/* Pin the chunk holding file offset off; *addr is the chunk's first byte. */
int rfs_chunk_pin(struct rfs_windows *w, struct rfs_backing *b, uint64_t off,
		  struct rfs_chunk **out, char **addr);
void rfs_chunk_unpin(struct rfs_windows *w, struct rfs_chunk *c);

#endif
