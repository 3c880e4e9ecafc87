/*
 * The sandbox of run-time views: a control command may name any path, so
 * its file is opened only if it lies inside one of the config's
 * allowed_roots, resolved from that root without leaving it: no "..", no
 * absolute symlink, no symlink pointing outside (openat2 RESOLVE_BENEATH,
 * RESOLVE_NO_MAGICLINKS). Views of the config are trusted as the config is.
 */
#ifndef REGIONFS_SANDBOX_H
#define REGIONFS_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* file opened read-write (read-only too unless rw), or -errno with why in err. */
int rfs_open_beneath(char *const *roots, size_t n_roots, const char *file, bool rw, char *err,
		     size_t errlen);

#endif
