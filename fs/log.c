/*
 * The daemon's one logging entry point and its sink: stderr in the
 * foreground; once in the background, syslog where /dev/log takes messages,
 * else the stderr the daemon was started with if it leads somewhere lasting
 * (a journal's socket, a terminal, a file; not a pipe, whose reader would
 * wait for the daemon's end, nor /dev/null), else the kernel's log
 * (/dev/kmsg, read by dmesg); -o log=PATH, a file, in every case.
 */
#include "fs/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs.h"

#define SYSLOG_SOCKET "/dev/log"

/*
 * The sink is chosen before the session loop starts threads and never
 * changes afterwards, so reading it needs no lock. The one file-scope
 * state of fs/: the log is reached from places that have no daemon object
 * (libfuse's callbacks, the SIGBUS guard's reports).
 */
static struct {
	bool syslog;
	int fd;	      /* lines go here unless syslog: 2, or a -o log= file */
	bool stamped; /* prefix a time and pid: lines that outlive the terminal */
	bool kmsg;    /* fd is /dev/kmsg: one record per write, "<prio>" first */
} sink = {.fd = STDERR_FILENO};

int rfs_log_to_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

	if (fd < 0) {
		snprintf(err, errlen, "-o log=%s: %s", path, strerror(errno));
		return -errno;
	}
	/* Above 2: fuse_daemonize points 0, 1 and 2 at /dev/null. */
	if (fd <= STDERR_FILENO) {
		int high = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

		close(fd);
		if (high < 0) {
			snprintf(err, errlen, "-o log=%s: %s", path, strerror(errno));
			return -errno;
		}
		fd = high;
	}
	sink.fd = fd;
	sink.stamped = true;
	return 0;
}

/* Does a syslog daemon listen at /dev/log? glibc drops messages silently if not. */
static bool syslog_listens(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = SYSLOG_SOCKET};
	int types[] = {SOCK_DGRAM, SOCK_STREAM}, fd;
	bool ok = false;

	for (size_t i = 0; !ok && i < sizeof(types) / sizeof(types[0]); i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
	}
	return ok;
}

/* Is fd somewhere a line outlives the daemon's start: not a pipe, not /dev/null? */
static bool lasting(int fd)
{
	struct stat st, null;

	if (fstat(fd, &st) || S_ISFIFO(st.st_mode))
		return false;
	return !(S_ISCHR(st.st_mode) && stat("/dev/null", &null) == 0 &&
		 st.st_rdev == null.st_rdev);
}

int rfs_log_keep_stderr(void)
{
	int fd;

	if (sink.fd != STDERR_FILENO)
		return 0; /* a -o log= file */
	if (lasting(STDERR_FILENO))
		fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	else if ((fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY)) >= 0)
		sink.kmsg = true;
	else
		fprintf(stderr,
			"regionfs: warning: no lasting stderr and no /dev/kmsg: if "
			"/dev/log has no syslog either, the log is lost (use -o log=PATH)\n");
	if (fd >= 0)
		sink.fd = fd;
	return 0;
}

const char *rfs_log_daemonized(void)
{
	if (sink.stamped)
		return "the -o log= file";
	if (syslog_listens()) {
		if (sink.fd != STDERR_FILENO)
			close(sink.fd);
		sink.fd = -1;
		sink.kmsg = false;
		openlog("regionfs", LOG_PID, LOG_DAEMON);
		sink.syslog = true;
		return "syslog";
	}
	if (sink.kmsg)
		return "the kernel log, dmesg (no syslog at " SYSLOG_SOCKET ", stderr a pipe)";
	sink.stamped = true;
	return "stderr (no syslog at " SYSLOG_SOCKET ")";
}

void rfs_log_hand_on(void)
{
	if (!sink.syslog && !sink.kmsg && sink.fd > STDERR_FILENO)
		dup2(sink.fd, STDERR_FILENO);
}

/* One write per line: lines of two threads never interleave (O_APPEND). */
static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

static void put_line(enum rfs_log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char line[2048];
	size_t n = 0;
	struct tm tm;
	time_t now;
	int k;

	if (sink.kmsg) {
		/* The kernel stamps the time; the facility is daemon's. */
		k = snprintf(line, sizeof(line), "<%d>regionfs[%d]: ", LOG_DAEMON | prio[level],
			     (int)getpid());
	} else if (sink.stamped) {
		now = time(NULL);
		gmtime_r(&now, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
		k = snprintf(line + n, sizeof(line) - n, "regionfs[%d]: %s: ", (int)getpid(),
			     names[level]);
	} else {
		k = snprintf(line, sizeof(line), "regionfs: ");
	}
	n += k > 0 ? (size_t)k : 0;
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n += k > 0 ? (size_t)k : 0;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2; /* cut: the newline still ends it */
	line[n++] = '\n';
	if (write(sink.fd, line, n) < 0) {
		/* Nowhere left to say it. */
	}
}

void rfs_log(enum rfs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (sink.syslog)
		vsyslog(prio[level], fmt, ap);
	else
		put_line(level, fmt, ap);
	va_end(ap);
}
