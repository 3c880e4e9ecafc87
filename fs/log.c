#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "fs/fs.h"

/*
 * The sink is chosen once, before the session loop starts threads, and
 * never changes afterwards, so reading it needs no lock.
 */
static bool use_syslog;

void rfs_log_to_syslog(void)
{
	openlog("regionfs", LOG_PID, LOG_DAEMON);
	use_syslog = true;
}

void rfs_log(enum rfs_log_level level, const char *fmt, ...)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	va_list ap;

	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio[level], fmt, ap);
	} else {
		fputs("regionfs: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
