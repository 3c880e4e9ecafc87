/* Live upgrade (upgrade.h): check, hand on, exec; and the command that asks for it. */
#include "fs/upgrade.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#include "fs/keeper.h"
#include "fs/log.h"
#include "fs/restart.h"
#include "fs/text.h"
#include "fs/supervise.h"
#include "lib/clock.h"
#include "lib/counts.h"
#include "lib/journal.h"
#include "lib/slots.h"
#include "lib/store.h"

#define HANDOVER_ENV "REGIONFS_HANDOVER"
#define EXE_ENV	     "REGIONFS_HANDOVER_EXE"  /* the path to install at, kept */
#define BACK_ENV     "REGIONFS_FELL_BACK"     /* this program took the mount back */
#define FAIL_ENV     "RFS_TEST_FAIL_TAKEOVER" /* test hook: the takeover fails */
#define HANDED	     9			      /* descriptors in a handover */

/* The installed binary has this long to answer --check-state. */
#define CHECK_MS 10000

/* Budgets' instances a handover may carry. */
#define BUDGETS_MAX 4096

/* The descriptors of h, the fixed ones first; how many. */
static size_t handover_fds(const struct rfs_handover *h, int *fds)
{
	const int fixed[HANDED] = {h->fuse,    h->store, h->journal,  h->slots, h->krefs,
				   h->touched, h->page,	 h->counters, h->back};

	memcpy(fds, fixed, sizeof(fixed));
	for (size_t i = 0; i < h->n_budgets; i++)
		fds[HANDED + i] = h->budgets[i].dir;
	return HANDED + h->n_budgets;
}

static void close_on_exec(const struct rfs_handover *h, int on)
{
	int fds[HANDED + BUDGETS_MAX];
	size_t n = handover_fds(h, fds);

	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			fcntl(fds[i], F_SETFD, on ? FD_CLOEXEC : 0);
}

/* h as the environment's REGIONFS_HANDOVER says it (the caller frees it), or NULL. */
static char *handover_words(const struct rfs_handover *h)
{
	int fds[HANDED + BUDGETS_MAX];
	size_t n = handover_fds(h, fds), len = 0, room = 32 + 12 * n + 21 * h->n_budgets;
	char *words = malloc(room);

	if (!words)
		return NULL;
	len += (size_t)snprintf(words, room, "%d", RFS_STATE_FORMAT);
	for (size_t i = 0; i < HANDED; i++)
		len += (size_t)snprintf(words + len, room - len, " %d", fds[i]);
	/* The budgets, counted, each its number and its root. */
	len += (size_t)snprintf(words + len, room - len, " %zu", h->n_budgets);
	for (size_t i = 0; i < h->n_budgets; i++)
		len += (size_t)snprintf(words + len, room - len, " %llu %d",
					(unsigned long long)h->budgets[i].id, h->budgets[i].dir);
	return words;
}

/* Put h in the environment for the program executed next: 0 or -1. */
static int hand_on(const struct rfs_handover *h)
{
	char *words = handover_words(h);
	int e = !words || setenv(HANDOVER_ENV, words, 1) || setenv(EXE_ENV, h->exe, 1) ? -1 : 0;

	free(words);
	return e;
}

/* A number up to max, the next word of *p. */
static bool number(const char **p, unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	if (**p == ' ')
		(*p)++;
	if (**p < '0' || **p > '9')
		return false;
	*v = strtoull(*p, &end, 10);
	if (end == *p || errno || *v > max || !(end[0] == ' ' || end[0] == '\0'))
		return false;
	*p = end;
	return true;
}

/* A descriptor number, the next word of *p. */
static bool word(const char **p, long *v)
{
	unsigned long long x;

	if (!number(p, INT32_MAX, &x))
		return false;
	*v = (long)x;
	return true;
}

/* Parse the environment's handover into h: false if malformed. */
static bool parse(const char *v, struct rfs_handover *h)
{
	int *fixed[HANDED] = {&h->fuse,	   &h->store, &h->journal,  &h->slots, &h->krefs,
			      &h->touched, &h->page,  &h->counters, &h->back};
	long x;

	if (!word(&v, &x) || x != RFS_STATE_FORMAT)
		return false;
	for (int i = 0; i < HANDED; i++) {
		if (!word(&v, &x))
			return false;
		*fixed[i] = (int)x;
	}
	if (!word(&v, &x) || x > BUDGETS_MAX ||
	    !(h->budgets = calloc((size_t)x + 1, sizeof(*h->budgets))))
		return false;
	h->n_budgets = (size_t)x;
	for (size_t i = 0; i < h->n_budgets; i++) {
		unsigned long long id;

		if (!number(&v, UINT64_MAX, &id) || !word(&v, &x))
			return false;
		h->budgets[i] = (struct rfs_store_kept){id, (int)x};
	}
	return *v == '\0';
}

bool rfs_handover_take(struct rfs_handover *h)
{
	const char *v = getenv(HANDOVER_ENV), *exe = getenv(EXE_ENV);
	int fds[HANDED + BUDGETS_MAX];
	size_t n;

	if (!v)
		return false;
	if (!parse(v, h) || !exe || !(h->exe = strdup(exe))) {
		fprintf(stderr,
			"regionfs: %s=%s: not a handover this build takes (state format %d)\n",
			HANDOVER_ENV, v, RFS_STATE_FORMAT);
		exit(1);
	}
	n = handover_fds(h, fds);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0 && fcntl(fds[i], F_SETFD, FD_CLOEXEC)) {
			fprintf(stderr, "regionfs: handover: descriptor %d: %s\n", fds[i],
				strerror(errno));
			exit(1);
		}
	unsetenv(HANDOVER_ENV);
	unsetenv(EXE_ENV);
	return true;
}

static void free_env(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* The environment the binary before is run with: this one's, handing h on. */
static char **fall_back_env(const struct rfs_handover *h)
{
	static const char *const ours[] = {HANDOVER_ENV "=", EXE_ENV "=", BACK_ENV "=",
					   FAIL_ENV "="};
	char *words = handover_words(h), **env;
	size_t n = 0, k = 0;

	while (environ[n])
		n++;
	env = calloc(n + 4, sizeof(*env));
	if (!env || !words)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		bool mine = false;

		for (size_t j = 0; j < sizeof(ours) / sizeof(*ours); j++)
			mine = mine || strncmp(environ[i], ours[j], strlen(ours[j])) == 0;
		if (!mine && !(env[k++] = strdup(environ[i])))
			goto fail;
	}
	/* A failed asprintf leaves its pointer undefined: NULL it. */
	if (asprintf(&env[k], "%s=%s", HANDOVER_ENV, words) < 0)
		env[k] = NULL;
	else if (asprintf(&env[++k], "%s=%s", EXE_ENV, h->exe) < 0)
		env[k] = NULL;
	else
		env[++k] = strdup(BACK_ENV "=1");
	if (!env[k])
		goto fail;
	free(words);
	return env;
fail:
	free_env(env); /* calloc'd: the entries end at the first not made */
	free(words);
	return NULL;
}

void rfs_upgrade_fall_back(struct rfs_handover *h, char *const argv[], const char *why)
{
	struct rfs_restart *r;
	char **env;

	if (getenv(BACK_ENV) || h->back < 0)
		return;
	rfs_log(RFS_LOG_ERR,
		"live upgrade: regionfs %s cannot take the mount over: %s; the binary "
		"before takes it back",
		RFS_VERSION, why);
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, h->page, 0);
	if (r != MAP_FAILED) {
		snprintf(r->refused, sizeof(r->refused),
			 "regionfs %s could not take the mount over (%s); the binary before serves "
			 "on",
			 RFS_VERSION, why);
		atomic_fetch_add(&r->upgrades_refused, 1);
		munmap(r, sizeof(*r));
	}
	env = fall_back_env(h);
	close_on_exec(h, 0);
	if (env)
		fexecve(h->back, argv, env);
	rfs_log(RFS_LOG_ERR, "live upgrade: the binary before cannot be run again: %s",
		strerror(errno));
	free_env(env);
}

/*
 * A new program that crashes (a signal, not an error) before it serves:
 * the binary before takes the mount back, as after rfs_upgrade_fall_back.
 * A signal handler may only call what is async-signal-safe, so all it
 * needs is made when armed: the environment, the descriptors, the mapped
 * page and the text it writes there.
 */
static struct {
	int back;
	char *const *argv;
	char **envp;
	int fds[HANDED + BUDGETS_MAX];
	size_t n;
	struct rfs_restart *page;
	char why[128]; /* "regionfs VERSION crashed taking the mount over (signal " */
} crash = {.back = -1};

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};

static void crashed(int sig)
{
	char *to = crash.page->refused, *end = to + sizeof(crash.page->refused) - 1;
	char num[12];
	int k = 0;

	for (const char *s = crash.why; *s && to < end; s++)
		*to++ = *s;
	do
		num[k++] = (char)('0' + sig % 10);
	while ((sig /= 10) && k < 11);
	while (k && to < end)
		*to++ = num[--k];
	for (const char *s = "); the binary before serves on"; *s && to < end; s++)
		*to++ = *s;
	*to = '\0';
	atomic_fetch_add(&crash.page->upgrades_refused, 1);
	for (size_t i = 0; i < crash.n; i++)
		if (crash.fds[i] >= 0)
			fcntl(crash.fds[i], F_SETFD, 0);
	syscall(SYS_execveat, crash.back, "", crash.argv, crash.envp, AT_EMPTY_PATH);
	_exit(128 + SIGKILL); /* not even that: the mount ends, as a crash would */
}

void rfs_upgrade_arm(struct rfs_handover *h, char *const argv[])
{
	struct sigaction sa = {.sa_handler = crashed};
	void *page;

	if (getenv(BACK_ENV) || h->back < 0)
		return; /* the binary before, taking the mount back: none behind it */
	page = mmap(NULL, sizeof(*crash.page), PROT_READ | PROT_WRITE, MAP_SHARED, h->page, 0);
	crash.envp = fall_back_env(h);
	if (page == MAP_FAILED || !crash.envp) {
		rfs_log(RFS_LOG_WARN, "live upgrade: no fall-back if this program crashes: %s",
			strerror(errno));
		if (page != MAP_FAILED)
			munmap(page, sizeof(*crash.page));
		return;
	}
	crash.page = page;
	crash.back = h->back;
	crash.argv = argv;
	crash.n = handover_fds(h, crash.fds);
	snprintf(crash.why, sizeof(crash.why), "regionfs %s crashed taking the mount over (signal ",
		 RFS_VERSION);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(*fatal_signals); i++)
		sigaction(fatal_signals[i], &sa, NULL);
}

/* It serves: a crash from here on is a restart's business. */
static void disarm(void)
{
	if (!crash.page)
		return;
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(*fatal_signals); i++)
		signal(fatal_signals[i], SIG_DFL);
	munmap(crash.page, sizeof(*crash.page));
	crash.page = NULL;
	free_env(crash.envp);
	crash.envp = NULL;
}

void rfs_upgrade_took(struct rfs_daemon *d, struct rfs_handover *h)
{
	disarm();
	/* Its first serving process is a restart; it counts as one. */
	atomic_fetch_add(&d->restart->restarts, 1);
	if (!getenv(BACK_ENV))
		atomic_fetch_add(&d->restart->upgrades, 1);
	else
		rfs_log(RFS_LOG_WARN,
			"%s: live upgrade refused, this binary took the mount back: %.*s",
			d->mountpoint, (int)sizeof(d->restart->refused), d->restart->refused);
	unsetenv(BACK_ENV);
	close(h->back);
	h->back = -1;
}

/* Refused, nothing changed: the reason for the log and for stats. */
static bool refuse(struct rfs_daemon *d, const char *fmt, ...)
{
	struct rfs_restart *r = d->restart;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->refused, sizeof(r->refused), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&r->upgrades_refused, 1);
	rfs_log(RFS_LOG_ERR, "%s: live upgrade refused, nothing changed: %s", d->mountpoint,
		r->refused);
	return false;
}

/* Run the installed binary's --check-state: 0 if it reads our state; its
 * words (or why it did not run) in out. */
static int check_state(struct rfs_daemon *d, char *out, size_t outlen)
{
	char format[16];
	int pipefd[2], status = 0;
	size_t len = 0;
	int64_t deadline = rfs_now_ns() + (int64_t)CHECK_MS * 1000000;
	pid_t child;

	out[0] = '\0';
	snprintf(format, sizeof(format), "%d", RFS_STATE_FORMAT);
	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	child = fork();
	if (child == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* The journal on stdin: the new build reads the mount's config. */
		dup2(rfs_journal_fd(d->journal), STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execl(d->exe, d->exe, "--check-state", format, (char *)NULL);
		dprintf(STDERR_FILENO, "cannot run %s: %s", d->exe, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	if (child < 0) {
		close(pipefd[0]);
		snprintf(out, outlen, "cannot start %s: %s", d->exe, strerror(errno));
		return -1;
	}
	for (;;) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int64_t left = (deadline - rfs_now_ns()) / 1000000;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			kill(child, SIGKILL);
			snprintf(out, outlen, "%s --check-state gave no answer in %d s", d->exe,
				 CHECK_MS / 1000);
			len = strlen(out);
			break;
		}
		n = read(pipefd[0], out + len, outlen - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len + 1 >= outlen)
			break;
	}
	out[len] = '\0';
	while (len && out[len - 1] == '\n')
		out[--len] = '\0';
	close(pipefd[0]);
	waitpid(child, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* What makes the state unfit to hand on; NULL if fit. */
static const char *unfit(struct rfs_daemon *d, char *buf, size_t len)
{
	const char *broken = rfs_journal_broken(d->journal);

	if (!d->exe)
		return "the path of the binary is unknown";
	if (broken) {
		snprintf(buf, len, "restart protection is lost (%s)", broken);
		return buf;
	}
	if (rfs_store_root(d->store) < 0)
		return "regions are memfds, which are not handed on";
	/* The new program opens the config's views again. */
	for (size_t i = 0; i < d->cfg.n_views; i++)
		if (d->cfg.views[i].file && access(d->cfg.views[i].file, F_OK)) {
			snprintf(buf, len, "the config's view %s: %s: %s", d->cfg.views[i].name,
				 d->cfg.views[i].file, strerror(errno));
			return buf;
		}
	return NULL;
}

bool rfs_upgrade(struct rfs_daemon *d, pid_t pid, int *status)
{
	struct rfs_restart *r = d->restart;
	char why[sizeof(r->refused)], said[200];
	const char *no = unfit(d, why, sizeof(why));
	struct rfs_store_kept budgets[BUDGETS_MAX];
	size_t config_budgets = rfs_store_budget_roots(d->store, budgets, BUDGETS_MAX);
	struct rfs_handover h = {
		.fuse = fuse_session_fd(d->se),
		.store = rfs_store_root(d->store),
		.journal = rfs_journal_fd(d->journal),
		.slots = rfs_slots_fd(d->handles),
		.krefs = rfs_counts_fd(d->krefs),
		.touched = rfs_counts_fd(d->touched),
		.page = d->restart_fd,
		.counters = d->counters_fd,
		.back = -1,
		.budgets = budgets,
		.n_budgets = config_budgets,
		.exe = d->exe,
	};

	if (!no && h.n_budgets > BUDGETS_MAX)
		no = "more budgets than a handover carries";
	if (no)
		return refuse(d, "%s", no);
	if (check_state(d, said, sizeof(said)))
		return refuse(d, "%s", said[0] ? said : "the installed binary refused the state");
	/* This binary, to take the mount back if the new one cannot. */
	h.back = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	rfs_log(RFS_LOG_INFO, "%s: live upgrade to %s (%s): stopping serving process %d",
		d->mountpoint, d->exe, said, pid);
	/* From here on as a restart: the kernel keeps what pid had read. */
	atomic_store(&r->died_ns, rfs_now_ns());
	kill(pid, SIGKILL);
	rfs_supervise_ended(d, pid, status, true);
	/* Then the budgets made while mounted: all sent now, pid is gone. */
	rfs_keeper_drain(d->keeper);
	h.n_budgets += rfs_keeper_list(d->keeper, budgets + h.n_budgets, BUDGETS_MAX - h.n_budgets);
	errno = E2BIG;
	if (h.n_budgets <= BUDGETS_MAX) {
		close_on_exec(&h, 0);
		rfs_log_hand_on();
		if (hand_on(&h) == 0)
			execv(d->exe, d->argv);
	}
	snprintf(why, sizeof(why), "cannot run %s: %s", d->exe,
		 h.n_budgets > BUDGETS_MAX ? "more budgets than a handover carries"
					   : strerror(errno));
	unsetenv(HANDOVER_ENV);
	unsetenv(EXE_ENV);
	close_on_exec(&h, 1);
	if (h.back >= 0)
		close(h.back);
	refuse(d, "%s; this binary serves on", why);
	return true;
}

/* Given the mount's journal on stdin (as the supervisor gives it): 0 if
 * this build reads the config the mount started with. */
static int check_config(void)
{
	struct rfs_mount_facts facts;
	struct rfs_config cfg = {0};
	struct rfs_journal *j;
	char err[RFS_ERR_MAX];
	int e;

	if (rfs_journal_open(STDIN_FILENO, &j))
		return 0; /* run by hand: the format is all there is to check */
	e = rfs_restart_mount_facts(j, &facts);
	rfs_journal_free(j);
	if (e) {
		printf("regionfs %s cannot read the mount's journal: %s\n", RFS_VERSION,
		       strerror(-e));
		return 1;
	}
	if (facts.config)
		e = rfs_config_load_string(facts.config, "the mount's config", &cfg, err,
					   sizeof(err));
	rfs_config_free(&cfg);
	rfs_mount_facts_free(&facts);
	if (e)
		printf("regionfs %s does not read %s\n", RFS_VERSION, err);
	return e ? 1 : 0;
}

int rfs_check_state(const char *format)
{
	char *end;
	long f = strtol(format, &end, 10);

	if (!*format || *end || f != RFS_STATE_FORMAT) {
		printf("regionfs %s reads state format %d, not %s: unmount and mount again to "
		       "change to it\n",
		       RFS_VERSION, RFS_STATE_FORMAT, format);
		return 1;
	}
	if (check_config())
		return 1;
	printf("regionfs %s reads state format %d\n", RFS_VERSION, RFS_STATE_FORMAT);
	return 0;
}

void rfs_unmount(struct rfs_daemon *d)
{
	struct pollfd p = {.fd = fuse_session_fd(d->se)};
	pid_t child;

	if (!d->inherited) {
		fuse_session_unmount(d->se);
		return;
	}
	/* Mounted by the program that handed it on: as libfuse would. */
	if (poll(&p, 1, 0) == 1 && p.revents & POLLERR)
		return; /* unmounted already */
	if (umount2(d->mountpoint, MNT_DETACH) == 0 || errno != EPERM)
		return;
	child = fork();
	if (child == 0) {
		execlp("fusermount3", "fusermount3", "-u", "-q", "-z", "--", d->mountpoint,
		       (char *)NULL);
		_exit(127);
	}
	if (child > 0)
		waitpid(child, NULL, 0);
}

/* What --upgrade reads of a mount's metrics. */
struct facts {
	long supervisor, server;
	unsigned long long upgrades, refused;
	char version[64];
};

/* The text of the mount's control file name (stats, metrics: they grow
 * with the mount, no limit), NUL-terminated, into *text; 0 or -errno. */
static int read_control(const char *mnt, const char *name, char **text)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/.regionfs/%s", mnt, name);
	return rfs_read_file(path, SIZE_MAX / 4, text);
}

static int read_facts(const char *mnt, struct facts *f)
{
	char *text, *save = NULL;
	int e = read_control(mnt, "metrics", &text);

	memset(f, 0, sizeof(*f));
	if (e)
		return e;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sscanf(line, "regionfs_supervisor_pid %ld", &f->supervisor);
		sscanf(line, "regionfs_server_pid %ld", &f->server);
		sscanf(line, "regionfs_upgrades_total %llu", &f->upgrades);
		sscanf(line, "regionfs_upgrades_refused_total %llu", &f->refused);
		sscanf(line, "regionfs_info{version=\"%63[^\"]\"}", f->version);
	}
	free(text);
	return 0;
}

/* Why the last upgrade was refused, as stats says it. */
static void refusal(const char *mnt, char *why, size_t len)
{
	const char *key = "last upgrade refused: ";
	char *text, *p;

	snprintf(why, len, "see the log");
	if (read_control(mnt, "stats", &text))
		return;
	p = strstr(text, key);
	if (p) {
		p += strlen(key);
		snprintf(why, len, "%.*s", (int)strcspn(p, "\n"), p);
		if (strlen(why) > 1 && why[strlen(why) - 1] == ')')
			why[strlen(why) - 1] = '\0'; /* the line's closing parenthesis */
	}
	free(text);
}

int rfs_upgrade_command(const char *mnt)
{
	struct facts was, now;
	char why[512];
	int e = read_facts(mnt, &was);

	if (e) {
		fprintf(stderr,
			"regionfs: --upgrade %s: cannot read %s/.regionfs/metrics: %s (is it "
			"a regionfs mount?)\n",
			mnt, mnt, strerror(-e));
		return 1;
	}
	if (was.supervisor <= 0) {
		fprintf(stderr,
			"regionfs: --upgrade %s: mounted without -o restart: nothing keeps the "
			"mount "
			"while its server is replaced (unmount, and mount with -o restart)\n",
			mnt);
		return 1;
	}
	if (kill((pid_t)was.supervisor, SIGUSR2)) {
		fprintf(stderr,
			"regionfs: --upgrade %s: cannot signal the supervisor (pid %ld): %s\n", mnt,
			was.supervisor, strerror(errno));
		return 1;
	}
	for (int i = 0; i < 1200; i++) {
		struct timespec pause = {0, 50 * 1000 * 1000};

		nanosleep(&pause, NULL);
		if (read_facts(mnt, &now))
			continue;
		if (now.upgrades > was.upgrades) {
			printf("regionfs: %s: upgraded from regionfs %s to regionfs %s (serving "
			       "process %ld, then %ld)\n",
			       mnt, was.version, now.version, was.server, now.server);
			return 0;
		}
		if (now.refused > was.refused) {
			refusal(mnt, why, sizeof(why));
			fprintf(stderr, "regionfs: --upgrade %s: refused, nothing changed: %s\n",
				mnt, why);
			return 1;
		}
	}
	fprintf(stderr,
		"regionfs: --upgrade %s: no answer from supervisor %ld in 60 s (see the log)\n",
		mnt, was.supervisor);
	return 1;
}
