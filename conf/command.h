/*
 * Control commands, one a line, parsed with the config's key grammar:
 *
 *   region NAME size=N [mode=M] [uid=U] [gid=G] [prealloc=yes] [lifetime=persist|close]
 *          [seals=S,...]
 *   seal NAME SEAL[,SEAL...]   (shrink, grow, write, future_write)
 *   dir NAME [lifetime=persist|close] [mode=M] [uid=U] [gid=G]
 *   view NAME file=PATH|region=NAME [offset=N] [length=N] [access=ro|rw|cow] [mode=M] ...
 *   remove NAME
 *   flush NAME|all
 *   commit NAME
 *   discard NAME
 *   reload
 *
 * Arguments are words as conf/quote.h splits them (blanks between, shell-like
 * quotes and backslash escapes within); a line that is empty or whose first
 * word starts with an unquoted '#' is no command. Parsing checks everything
 * that needs no file system: names, keys, values, whole declarations.
 */
#ifndef REGIONFS_COMMAND_H
#define REGIONFS_COMMAND_H

#include "conf/config.h"

enum rfs_verb {
	RFS_CMD_NONE, /* blank or comment */
	RFS_CMD_REGION,
	RFS_CMD_VIEW,
	RFS_CMD_REMOVE,
	RFS_CMD_FLUSH,	 /* name "all" flushes everything */
	RFS_CMD_COMMIT,	 /* a cow view's private changes into its file */
	RFS_CMD_DISCARD, /* a cow view's private changes dropped */
	RFS_CMD_RELOAD,
	RFS_CMD_DIR,
	RFS_CMD_SEAL,
};

struct rfs_command {
	enum rfs_verb verb;
	char *name;		       /* remove, flush, commit, discard, seal */
	unsigned int seals;	       /* seal: RFS_DECL_SEAL_* */
	struct rfs_region_decl region; /* region */
	struct rfs_view_decl view;     /* view */
	struct rfs_dir_decl dir;       /* dir */
};

/* Parse one line (no newline). 0, or -EINVAL with the reason in err. */
int rfs_command_parse(const char *line, struct rfs_command *cmd, char *err, size_t errlen);

void rfs_command_free(struct rfs_command *cmd);

#endif
