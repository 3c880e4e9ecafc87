/*
 * Logging: stderr in the foreground; in the background syslog
 * where /dev/log listens, else the stderr the daemon was started with;
 * a file with -o log=PATH. The sink is set up before serving, in order:
 * rfs_log_to_file (if asked), rfs_log_keep_stderr before daemonizing,
 * rfs_log_daemonized after. Each returns 0 or -errno.
 */
#ifndef REGIONFS_LOG_H
#define REGIONFS_LOG_H

#include <stddef.h>

enum rfs_log_level { RFS_LOG_ERR, RFS_LOG_WARN, RFS_LOG_INFO, RFS_LOG_DEBUG };
void rfs_log(enum rfs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int rfs_log_to_file(const char *path, char *err, size_t errlen);
int rfs_log_keep_stderr(void);
/* Chooses the background sink; returns its name for the log. */
const char *rfs_log_daemonized(void);
/* Before a live upgrade's exec: a background daemon's sink that is not
 * syslog, the kernel's log or a -o log= file becomes stderr, which the
 * new program keeps (rfs_log_keep_stderr) as the first one did. */
void rfs_log_hand_on(void);

#endif
