/*
 * What the daemon does for a view beyond serving it: notice its backing
 * file was unlinked, flush it (counted for metrics), pass the windows'
 * change notices on to the kernel's cache.
 */
#ifndef REGIONFS_VIEWS_H
#define REGIONFS_VIEWS_H

#include "fs/fs.h"

/*
 * Is m a view whose backing file was unlinked? Logs a warning the first
 * time it is found so for each view (name: its path, or NULL if unknown).
 */
bool rfs_view_check_deleted(struct rfs_mapping *m, const char *name);

/*
 * Write the dirty bytes of view m back (durable: and sync the backing
 * file), counted in flushes and flush_errors; 0 or -errno. name as above.
 */
int rfs_view_flush(struct rfs_daemon *d, struct rfs_mapping *m, const char *name, bool durable);

/* Windows' change notice: queue invalidation of the view's cached bytes. */
void rfs_view_changed(void *ctx, struct rfs_mapping *view, uint64_t off, uint64_t len);

#endif
