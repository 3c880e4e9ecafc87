/*
 * Running control commands (conf/command.h has the grammar) against the
 * namespace. A failing command changes nothing and fails the write with its
 * errno; the reason is kept for readers of control.
 */
#ifndef REGIONFS_COMMANDS_H
#define REGIONFS_COMMANDS_H

#include "fs/fs.h"
#include "fs/text.h"

/* Run every line of buf; stops at the first failure and returns its -errno. */
int rfs_command_run(struct rfs_daemon *d, const char *buf, size_t size);

/* The outcome of the last command ("ok: ..." or "error: ..."), a line. */
void rfs_command_result(struct rfs_daemon *d, struct rfs_text *t);

#endif
