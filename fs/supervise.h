/*
 * The supervisor (-o restart): the process regionfs starts as keeps the
 * mount and serves nothing. Once the mount, the store, the namespace as
 * the config makes it, the journal and the tables of opens and references
 * exist, and before any thread starts, it forks the serving process; when
 * that one dies by a signal (a crash, kill -9), it forks the next, which
 * starts from the same point and replays what its predecessors changed
 * (fs/restart.c) while the kernel holds the requests it waits on.
 *
 * The supervisor runs no request, no reload and no command: it waits for
 * its child and passes it the signals it gets (SIGTERM, SIGINT and SIGHUP).
 * A child killed while its notice thread waits in the kernel on a client
 * cannot end until a successor answers that client: once that thread is
 * all that is left of it, the successor is started (and the child reaped
 * when it ends).
 * SIGUSR2 is its own: a live upgrade (fs/upgrade.h).
 * A child that exits, by unmount or error, ends it with the same status.
 */
#ifndef REGIONFS_SUPERVISE_H
#define REGIONFS_SUPERVISE_H

#include <stdint.h>

#include "fs/fs.h"

/* What the supervisor and its children share (a shared mapping). */
struct rfs_restart {
	_Atomic uint32_t generation; /* of the serving process: 1, 2, ... */
	_Atomic uint64_t restarts;   /* serving processes started after the first */
	_Atomic int64_t died_ns;     /* when the supervisor saw the last one die */
	_Atomic int64_t restart_ns;  /* from then until its successor served */
	_Atomic uint32_t replied;    /* the last generation that answered a request */
	/* The kernel's INIT request, as the first serving process read it:
	 * its successors hand it to libfuse again. init_len is set last. */
	unsigned char init[512];
	_Atomic uint32_t init_len;
	/* Live upgrades (fs/upgrade.h): made, and refused, with the last
	 * refusal's reason (written before upgrades_refused moves). */
	_Atomic uint64_t upgrades, upgrades_refused;
	char refused[256];
	/* The serving process's notice thread (fs/inval.h), 0 until it runs. */
	_Atomic int32_t notifier;
};

/* This serving process answered a request: it is not dying at start. */
void rfs_restart_replied(struct rfs_restart *r);

/* Make the shared state, or map the one a live upgrade handed on (fd >= 0):
 * 0 or -errno. */
int rfs_restart_new(struct rfs_daemon *d, int fd);

/*
 * Become the supervisor: returns 0 in each serving process (whose
 * generation > 1 must rebuild its state first); never returns in the
 * supervisor, which exits with the status its last child exited with.
 */
int rfs_supervise(struct rfs_daemon *d);

/*
 * Has the serving process pid ended (reaped, *status its waitpid status),
 * or ended but for its notice thread waiting on a client (see above)? With
 * wait, until one of them is so.
 */
bool rfs_supervise_ended(struct rfs_daemon *d, pid_t pid, int *status, bool wait);

#endif
