/*
 * Reload: re-read the config file and bring the namespace in line with it
 * (SIGHUP, the reload command). conf/diff.h says what changed; this applies it.
 */
#ifndef REGIONFS_RELOAD_H
#define REGIONFS_RELOAD_H

#include <stddef.h>

#include "fs/fs.h"

/* 0, or -errno with why in msg and the namespace as it was. Caller holds ctl_lock. */
int rfs_reload(struct rfs_daemon *d, char *msg, size_t msglen);

/* The config file's text, NUL-terminated, into *text (the caller frees
 * it); 0, or -errno with why in msg. */
int rfs_read_config(const char *path, char **text, char *msg, size_t msglen);

/* Config text as the next config of d: parsed as if d's file, its path
 * kept, and the cap, fixed at mount, kept. 0 (next to free), or -errno with
 * why in msg. A reload and a restart's return to the last one both use it. */
int rfs_reload_parse(struct rfs_daemon *d, const char *text, struct rfs_config *next, char *msg,
		     size_t msglen);

#endif
