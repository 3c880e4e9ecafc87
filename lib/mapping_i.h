/*
 * Private to lib/: how a kind of mapping plugs into mapping.h. Each kind
 * embeds struct rfs_mapping first and supplies its operations; mapping.c
 * dispatches and does what is common.
 */
#ifndef REGIONFS_MAPPING_I_H
#define REGIONFS_MAPPING_I_H

#include "lib/mapping.h"

#include <sys/stat.h>

struct rfs_mapping_ops {
	uint64_t (*size)(const struct rfs_mapping *m);
	uint64_t (*allocated)(const struct rfs_mapping *m);
	/* Optional: the rest default to what size and allocated say, or nothing. */
	int (*stat)(const struct rfs_mapping *m, struct stat *st);
	int (*open)(struct rfs_mapping *m);
	void (*close)(struct rfs_mapping *m);
	int (*backing_fd)(struct rfs_mapping *m);
	int (*set_times)(struct rfs_mapping *m, const struct timespec times[2]);
	int (*set_noatime)(struct rfs_mapping *m, bool on);
	int (*read_begin)(struct rfs_mapping *m, uint64_t off, size_t len, struct rfs_io *io);
	void (*read_end)(struct rfs_mapping *m, struct rfs_io *io);
	/* Optional: tell the others of [off, off + len) (rfs_mapping_changing). */
	void (*changing)(struct rfs_mapping *m, uint64_t off, uint64_t len);
	/* Optional: else read_begin, a guarded copy, read_end. */
	ssize_t (*read_into)(struct rfs_mapping *m, void *buf, size_t len, uint64_t off);
	ssize_t (*write)(struct rfs_mapping *m, const void *buf, size_t len, uint64_t off);
	int (*resize)(struct rfs_mapping *m, uint64_t size);
	int (*fallocate)(struct rfs_mapping *m, int mode, uint64_t off, uint64_t len);
	off_t (*seek)(struct rfs_mapping *m, off_t off, int whence);
	int (*sync)(struct rfs_mapping *m, bool durable);
	int (*commit)(struct rfs_mapping *m);  /* called only if m->cow */
	int (*discard)(struct rfs_mapping *m); /* called only if m->cow */
	bool (*stale)(struct rfs_mapping *m);
	bool (*backing_deleted)(struct rfs_mapping *m, bool *first);
	void (*describe)(const struct rfs_mapping *m, struct rfs_mapping_info *info);
	struct rfs_regwin *(*regwin)(struct rfs_mapping *m); /* regions (lib/regwin.h) */
	uint64_t (*file)(const struct rfs_mapping *m);	     /* optional: rfs_mapping_file */
	void (*free)(struct rfs_mapping *m);
};

struct rfs_mapping {
	const struct rfs_mapping_ops *ops;
	enum rfs_kind kind;
	bool read_only;		    /* refuses writers (a ro view); fixed */
	bool cow;		    /* a cow view: commit and discard apply; fixed */
	_Atomic unsigned int seals; /* RFS_SEAL_* (regions); only ever gains bits */
	/* The owner's reference plus one per read in flight: a read's reply
	 * may still be reading memory when the owner lets go. */
	_Atomic unsigned int refs;
	void *_Atomic owner; /* the caller's object for this mapping (mapping.h) */
};

/* Set up the common part of a new mapping (one reference, the owner's). */
void rfs_mapping_init(struct rfs_mapping *m, const struct rfs_mapping_ops *ops, enum rfs_kind kind);

/* One more reference (a window holds its region), let go with rfs_mapping_free. */
void rfs_mapping_hold(struct rfs_mapping *m);

#endif
