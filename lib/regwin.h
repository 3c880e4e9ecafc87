/*
 * Private to lib/: what a region knows of its windows (views whose backing
 * is the region's store file, rfs_view_spec.region) and of how its opens
 * are served.
 *
 * Windows are served by the daemon from mapped chunks of the store file,
 * with the kernel's page cache on, like any view; overlapping windows tell
 * each other's caches through the backing's change notices (windows.h).
 * The region joins those notices while it has windows: it is registered on
 * the backing as one more participant covering every byte, so a write
 * through a window drops the region's cached pages, and the region tells
 * the windows of every change it makes (rfs_regwin_changed).
 *
 * A region served by the kernel (FUSE passthrough) never tells the daemon
 * of a write, so its windows could not learn of it; and the kernel refuses
 * passthrough and cached opens of one inode at the same time. So while a
 * region has windows, or daemon-served opens left from a time it had,
 * every new open of it is served by the daemon; a window cannot be made
 * while the kernel serves an open of the region (-EBUSY).
 *
 * Locking: lock guards every field. Lock order: lock, then the windows'
 * lock (it is held across rfs_backing_attach, _detach and _changed).
 */
#ifndef REGIONFS_REGWIN_H
#define REGIONFS_REGWIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/windows.h"

struct rfs_regwin {
	pthread_mutex_t lock;
	unsigned int windows;	   /* views of the region alive now */
	unsigned int kernel_opens; /* opens served by the kernel */
	unsigned int daemon_opens; /* opens served by the daemon */
	bool kernel_since;	   /* the kernel served an open since the last daemon open */
	struct rfs_windows *w;	   /* while windows > 0: the windows' backing ... */
	struct rfs_backing *b;	   /* ... on which the region is registered */
};

void rfs_regwin_init(struct rfs_regwin *rw);
/* No window and no open may be left. */
void rfs_regwin_destroy(struct rfs_regwin *rw);

/*
 * The region (whose regwin is rw) changed bytes [off, off + len) itself:
 * tell its windows. A no-op without windows.
 */
void rfs_regwin_changed(struct rfs_regwin *rw, struct rfs_mapping *region, uint64_t off,
			uint64_t len);

/*
 * A window of region on backing b (the region's store file) is being made:
 * count it, and register the region on b with the first. Holds the region
 * (a mapping reference) until rfs_regwin_detach. -EBUSY while the kernel
 * serves an open of the region; -EINVAL if region is not a region.
 */
int rfs_regwin_attach(struct rfs_mapping *region, struct rfs_windows *w, struct rfs_backing *b);
void rfs_regwin_detach(struct rfs_mapping *region);

#endif
