/* The supervisor (supervise.h): fork, wait, pass signals on, fork again. */
#include "fs/supervise.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
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

/*
 * Is all that is left of the killed serving process pid its notice thread,
 * waiting in the kernel on a lock a client holds while it waits for an
 * answer only a successor can give? (The kernel's entry notice locks the
 * directory, which a lookup holds meanwhile.) Its leader has ended (a
 * zombie) and every other thread with it. *status is then the leader's
 * exit status, as waitpid would give it.
 */
static bool only_notifier_left(const struct rfs_restart *r, pid_t pid, int *status)
{
	int32_t notifier = atomic_load(&r->notifier);
	char path[64], buf[1024], *p;
	struct dirent *e;
	bool left = true;
	ssize_t n = -1;
	DIR *dir;
	int fd;

	if (!notifier)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) S ...": the state, then the exit code as field 52. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] != 'Z')
		return false;
	for (int field = 3; p && field <= 52; field++)
		p = strchr(p + 1, ' ');
	*status = p ? atoi(p + 1) : 0;
	/* Not ended by a signal: its threads would have gone with it. */
	if (!WIFSIGNALED(*status))
		*status = SIGKILL;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while (left && (e = readdir(dir))) {
		long tid = strtol(e->d_name, NULL, 10);

		left = tid <= 0 || tid == pid || tid == notifier;
	}
	closedir(dir);
	return left;
}

/* The children that ended (a successor may have been started while one
 * lingered): whether pid is one of them, with its status. */
static bool reap(pid_t pid, int *status)
{
	bool gone = false;
	pid_t p;
	int st;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == pid) {
			*status = st;
			gone = true;
		}
	return gone;
}

bool rfs_supervise_ended(struct rfs_daemon *d, pid_t pid, int *status, bool wait)
{
	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		if (only_notifier_left(d->restart, pid, status)) {
			rfs_log(RFS_LOG_WARN,
				"%s: serving process %d ended but for its notice thread, which "
				"waits "
				"in the kernel on a client: its successor will answer that client",
				d->mountpoint, (int)pid);
			return true;
		}
		if (!wait)
			return false;
		usleep(10000);
	}
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
		atomic_store(&r->notifier, 0);
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
			/* A look every tick at a child that may linger (above). */
			const struct timespec tick = {0, 100 * 1000 * 1000};
			siginfo_t info;

			sig = sigtimedwait(&set, &info, &tick);
			if (sig == SIGIO)
				rfs_keeper_drain(d->keeper);
			if (sig == SIGCHLD && reap(pid, &status))
				break;
			if (sig < 0 && rfs_supervise_ended(d, pid, &status, false))
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
