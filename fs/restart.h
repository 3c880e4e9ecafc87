/*
 * A serving process that is not the first (-o restart, fs/supervise.h)
 * starts from the state the supervisor forked it with, the state of the
 * first before it served anything. Before it serves, it rebuilds what its
 * predecessors changed since, from what outlived them:
 *
 *   the namespace      replayed from the journal (lib/ns_journal.c)
 *   the kernel's hold  references by node number (lib/counts.h): nodes
 *                      removed while held live on, as in the predecessor
 *   open files         their slots (fs/handles.h), taken again: region
 *                      opens, backing ids, holders, directory listings
 *   region bytes       in the store's tmpfs, which the supervisor keeps
 *
 * Then fs/wire.c has libfuse take the kernel's INIT again and the kernel
 * resend the requests the dead process had read (FUSE_NOTIFY_RESEND).
 */
#ifndef REGIONFS_RESTART_H
#define REGIONFS_RESTART_H

#include <stddef.h>
#include <stdint.h>

#include "fs/fs.h"

/* Rebuild; 0, or -errno with why in err (the process cannot serve). */
int rfs_restart_rebuild(struct rfs_daemon *d, char *err, size_t errlen);

/* The successor serves (fs/wire.c): the kernel entries of names its
 * predecessor changed by itself, whose notices died with it, go. */
void rfs_restart_served(struct rfs_daemon *d);

/* What a restart cannot rebuild happened (why: a phrase): from now on the
 * mount ends with its serving process, and stats says why. No-op without
 * -o restart. */
void rfs_restart_lost(struct rfs_daemon *d, const char *why);

/* A reload put the config text in force: kept for a successor, which takes
 * the last one (else the journal says why it cannot). */
void rfs_restart_config(struct rfs_daemon *d, const char *text);

/* What a live upgrade makes the mount's state before serving again from
 * (fs/upgrade.h): the journal's first driver record. */
struct rfs_mount_facts {
	int64_t time;	     /* the instant the config's declarations were made */
	uint32_t generation; /* of every node (fs.h) */
	char *mountpoint;
	char *config; /* the config text the mount started with; NULL: none */
};
int rfs_restart_record_mount(struct rfs_daemon *d, const struct rfs_mount_facts *f);
/* 0, -ENODATA if the journal has none, or another -errno. */
int rfs_restart_mount_facts(struct rfs_journal *j, struct rfs_mount_facts *f);
void rfs_mount_facts_free(struct rfs_mount_facts *f);

struct rfs_text;
/* The stats' last line: is the mount kept if the serving process dies? */
void rfs_restart_stats(struct rfs_daemon *d, struct rfs_text *t);
/* regionfs_server_pid, regionfs_server_restarts_total, ... */
void rfs_restart_metrics(struct rfs_daemon *d, struct rfs_text *t);

#endif
