/*
 * Live upgrade (-o restart): the binary installed now takes the mount over
 * from the one serving it, with no client error.
 *
 * `regionfs --upgrade MOUNTPOINT` (or SIGUSR2 to the supervisor) asks the
 * supervisor. It runs the installed binary with --check-state, which says
 * whether it reads this state's format (RFS_STATE_FORMAT); if not, nothing
 * changes and the reason is kept for stats. Else it kills its serving
 * process (a restart is safe at any instant) and execs the installed binary
 * in its own pid with the same arguments, handing it by descriptor what
 * the mount is made of: /dev/fuse, the store's tmpfs and its budgets', the
 * journal, the slots of opens, the kernel's counts, the shared restart page
 * and the counters, and itself, to take the mount back if the new program
 * cannot (rfs_upgrade_fall_back). The new program makes the state before
 * serving again as the first made it (the config text and instant the
 * journal's first records keep, the store's files inherited as they are),
 * then supervises: its first child is a restart, which replays the
 * journal, takes the opens over and has the kernel resend what the killed
 * process had read.
 */
#ifndef REGIONFS_UPGRADE_H
#define REGIONFS_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fs/fs.h"
#include "lib/store.h"

/* The descriptors a live upgrade hands on; back is the binary before,
 * which takes the mount back if this one cannot (rfs_upgrade_fall_back). */
struct rfs_handover {
	int fuse, store, journal, slots, krefs, touched, page, counters, back;
	/* The budgets' instances: the config's, as made, then those made
	 * while mounted (fs/keeper.h), each with its number. */
	struct rfs_store_kept *budgets;
	size_t n_budgets;
	char *exe; /* the installed binary's path, as the supervisor knew it */
};

/* Started by a live upgrade? Then *h holds what was handed on (and the
 * environment no longer says it): true. A malformed handover is fatal. */
bool rfs_handover_take(struct rfs_handover *h);

/*
 * The new program could not take the mount over (why): the binary before
 * it is executed again, handed the same, and serves on; the upgrade counts
 * as refused, with why. Returns only where that cannot be (that binary is
 * itself falling back): the caller then ends, and the mount with it.
 */
void rfs_upgrade_fall_back(struct rfs_handover *h, char *const argv[], const char *why);
/* The new program, from its start: if it crashes (a fatal signal) before
 * rfs_upgrade_took, the binary before is run as by rfs_upgrade_fall_back. */
void rfs_upgrade_arm(struct rfs_handover *h, char *const argv[]);
/* The new program took the mount over: counted (an upgrade, or a fall-back's return). */
void rfs_upgrade_took(struct rfs_daemon *d, struct rfs_handover *h);

/* The supervisor, on SIGUSR2, while pid serves: upgrade. Returns false
 * if refused (pid serves on), true if pid was killed and the exec failed
 * (*status is pid's; the caller starts another serving process). */
bool rfs_upgrade(struct rfs_daemon *d, pid_t pid, int *status);

/* `regionfs --check-state FORMAT`: the exit status (0: this binary reads it). */
int rfs_check_state(const char *format);
/* `regionfs --upgrade MOUNTPOINT`: the exit status. */
int rfs_upgrade_command(const char *mountpoint);

/* Take the mount away (the supervisor giving up, the last serving process
 * ending): libfuse's unmount, or ours where libfuse did not mount it. */
void rfs_unmount(struct rfs_daemon *d);

#endif
