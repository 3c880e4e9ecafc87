/*
 * Control commands, written to .regionfs/control one a line:
 *
 *   region NAME size=N [mode=M] [uid=U] [gid=G] [prealloc=yes]
 *   view NAME file=PATH [offset=N] [length=N] [access=ro|rw|cow] [mode=M] ...
 *   remove NAME
 *   flush NAME|all
 *   reload
 *
 * Keys mean what they mean in the config file and are checked by the same
 * code (conf/config.h). A failing command changes nothing and fails the
 * write with its errno; the reason is kept for readers of control.
 */
#ifndef REGIONFS_COMMANDS_H
#define REGIONFS_COMMANDS_H

#include "fs/control.h"

/* Run every line of buf; stops at the first failure and returns its -errno. */
int rfs_command_run(struct rfs_daemon *d, const char *buf, size_t size);

/* The outcome of the last command ("ok: ..." or "error: ..."), a line. */
void rfs_command_result(struct rfs_daemon *d, struct rfs_text *t);

/* Re-read the config file and bring the namespace in line with it. */
int rfs_reload(struct rfs_daemon *d, char *msg, size_t msglen);

#endif
