/* The supervisor (supervise.h): fork, wait, pass signals on, fork again. */
#include "fs/supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs/keeper.h"
#include "fs/log.h"
#include "fs/upgrade.h"
#include "lib/memfd.h"
#include "lib/clock.h"

/* This many serving processes in a row died before answering anything: a
 * crash at start (or on a request each one is resent), not an accident. */
#define FRUITLESS 10

static _Atomic uint32_t replied_here; /* this process's generation, once it answered */

void rfs_restart_replied(struct rfs_restart *r)
{
	if (!r || atomic_load_explicit(&replied_here, memory_order_relaxed))
		return;
	atomic_store_explicit(&replied_here, atomic_load(&r->generation), memory_order_relaxed);
	atomic_store(&r->replied, atomic_load(&r->generation));
}

int rfs_restart_new(struct rfs_daemon *d, int fd)
{
	d->restart_fd = fd;
	d->restart = rfs_memfd_map("regionfs-restart", sizeof(struct rfs_restart), &d->restart_fd);
	return d->restart ? 0 : -errno;
}

/* The signals the supervisor takes itself: blocked, then waited for. */
static void supervisor_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGIO); /* fs/keeper.h: a serving process sent an instance */
}

/* In a new child: the mask main set (SIGHUP and SIGUSR1 blocked, for the
 * reload thread), the rest as before the supervisor took them, but SIGUSR2
 * and SIGIO, the supervisor's, which a serving process ignores. */
static void child_signals(const sigset_t *taken)
{
	sigset_t set = *taken;

	sigdelset(&set, SIGHUP);
	sigdelset(&set, SIGUSR2);
	sigdelset(&set, SIGIO);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static const char *why(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	return buf;
}

int rfs_supervise(struct rfs_daemon *d)
{
	struct rfs_restart *r = d->restart;
	unsigned int fruitless = 0;
	sigset_t set;
	char buf[128];

	supervisor_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	rfs_keeper_listen(d->keeper);
	for (;;) {
		int status = 0, sig;
		pid_t pid;

		/* What the last serving process sent before it died. */
		rfs_keeper_drain(d->keeper);
		atomic_fetch_add(&r->generation, 1);
		pid = fork();
		if (pid == 0) {
			child_signals(&set);
			return 0;
		}
		if (pid < 0) {
			rfs_log(RFS_LOG_ERR, "%s: cannot start a serving process: %s; unmounting",
				d->mountpoint, strerror(errno));
			break;
		}
		for (;;) {
			siginfo_t info;

			sig = sigwaitinfo(&set, &info);
			if (sig == SIGIO)
				rfs_keeper_drain(d->keeper);
			if (sig == SIGCHLD && waitpid(pid, &status, WNOHANG) == pid)
				break;
			/* Returns if refused (pid serves on) or if the exec failed
			 * after pid was killed: then another is started. */
			if (sig == SIGUSR2 && rfs_upgrade(d, pid, &status))
				break;
			if (sig > 0 && sig != SIGCHLD && sig != SIGUSR2 && sig != SIGIO)
				kill(pid, sig); /* the server stops, or reloads */
		}
		if (!WIFSIGNALED(status)) {
			/* Unmounted, or stopped on purpose: the mount's end. */
			rfs_log(RFS_LOG_INFO, "%s: serving process %d %s", d->mountpoint, pid,
				why(status, buf, sizeof(buf)));
			exit(WEXITSTATUS(status));
		}
		fruitless =
			atomic_load(&r->replied) == atomic_load(&r->generation) ? 0 : fruitless + 1;
		if (fruitless >= FRUITLESS) {
			rfs_log(RFS_LOG_ERR,
				"%s: serving process %d %s; the last %u died before answering any "
				"request: giving up, unmounting",
				d->mountpoint, pid, why(status, buf, sizeof(buf)), fruitless);
			break;
		}
		atomic_store(&r->died_ns, rfs_now_ns());
		atomic_fetch_add(&r->restarts, 1);
		rfs_log(RFS_LOG_WARN, "%s: serving process %d %s; starting another", d->mountpoint,
			pid, why(status, buf, sizeof(buf)));
	}
	/* The mount cannot be served: take it away rather than leave it hung. */
	rfs_unmount(d);
	exit(1);
}
