#include "conf/command.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_i.h"
#include "conf/quote.h"

#define MAX_ARGS 32

typedef int (*set_fn)(void *decl, const char *key, const char *value, char *err, size_t errlen);

static int set_region_key(void *decl, const char *key, const char *value, char *err, size_t errlen)
{
	return rfs_region_decl_set(decl, key, value, err, errlen);
}

static int set_dir_key(void *decl, const char *key, const char *value, char *err, size_t errlen)
{
	return rfs_dir_decl_set(decl, key, value, err, errlen);
}

static int set_view_key(void *decl, const char *key, const char *value, char *err, size_t errlen)
{
	return rfs_view_decl_set(decl, key, value, err, errlen);
}

/* Apply "key=value" arguments to a declaration. */
static int set_keys(char **argv, int argc, set_fn set, void *decl, char *err, size_t errlen)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			char q[128];

			rfs_quote(argv[i], q, sizeof(q));
			rfs_set_err(err, errlen, "expected key=value, got %s", q);
			return -EINVAL;
		}
		*eq = '\0';
		/* As in a config section: a key given twice is an error. */
		for (int j = 0; j < i; j++) {
			if (strcmp(argv[j], argv[i]) == 0) {
				rfs_set_err(err, errlen, "key '%.50s' given twice", argv[i]);
				return -EINVAL;
			}
		}
		if (set(decl, argv[i], eq + 1, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* The NAME argument: present and a valid name. */
static int take_name(char **argv, int argc, const char *usage, char **out, char *err, size_t errlen)
{
	char why[RFS_ERR_MAX], q[128];

	if (argc < 2) {
		rfs_set_err(err, errlen, "usage: %s", usage);
		return -EINVAL;
	}
	if (rfs_name_check(argv[1], why, sizeof(why))) {
		rfs_quote(argv[1], q, sizeof(q));
		rfs_set_err(err, errlen, "bad name %s: %.200s", q, why);
		return -EINVAL;
	}
	*out = strdup(argv[1]);
	return *out ? 0 : -ENOMEM;
}

/* seal NAME SEAL[,SEAL...] (more words add more seals) */
static int parse_seal(char **argv, int argc, struct rfs_command *cmd, char *err, size_t errlen)
{
	static const char usage[] = "seal NAME shrink|grow|write|future_write[,...]";
	int e = take_name(argv, argc, usage, &cmd->name, err, errlen);

	cmd->verb = RFS_CMD_SEAL;
	if (!e && argc < 3) {
		rfs_set_err(err, errlen, "usage: %s", usage);
		return -EINVAL;
	}
	for (int i = 2; !e && i < argc; i++) {
		unsigned int seals;
		char q[64];

		if (rfs_parse_seals(argv[i], &seals)) {
			rfs_quote(argv[i], q, sizeof(q));
			rfs_set_err(err, errlen, "invalid seals %s (usage: %s)", q, usage);
			return -EINVAL;
		}
		cmd->seals |= seals;
	}
	return e;
}

static int parse_args(char **argv, int argc, struct rfs_command *cmd, char *err, size_t errlen)
{
	const char *verb = argv[0];
	char q[64];
	int e;

	if (strcmp(verb, "region") == 0) {
		cmd->verb = RFS_CMD_REGION;
		e = take_name(argv, argc,
			      "region NAME size=N [mode=M] [uid=U] [gid=G] [prealloc=yes] "
			      "[lifetime=persist|close] [seals=S,...]",
			      &cmd->region.name, err, errlen);
		if (!e)
			e = set_keys(argv + 2, argc - 2, set_region_key, &cmd->region, err, errlen);
		return e ? e : rfs_region_decl_check(&cmd->region, err, errlen);
	}
	if (strcmp(verb, "view") == 0) {
		cmd->verb = RFS_CMD_VIEW;
		e = take_name(argv, argc,
			      "view NAME file=PATH|region=NAME [offset=N] [length=N] "
			      "[access=ro|rw|cow]",
			      &cmd->view.name, err, errlen);
		if (!e)
			e = set_keys(argv + 2, argc - 2, set_view_key, &cmd->view, err, errlen);
		return e ? e : rfs_view_decl_check(&cmd->view, err, errlen);
	}
	if (strcmp(verb, "dir") == 0) {
		cmd->verb = RFS_CMD_DIR;
		e = take_name(argv, argc,
			      "dir NAME [lifetime=persist|close] [size=N] [mode=M] [uid=U] [gid=G]",
			      &cmd->dir.name, err, errlen);
		if (!e)
			e = set_keys(argv + 2, argc - 2, set_dir_key, &cmd->dir, err, errlen);
		return e ? e : rfs_dir_decl_check(&cmd->dir, err, errlen);
	}
	if (strcmp(verb, "remove") == 0 || strcmp(verb, "flush") == 0) {
		bool flush = verb[0] == 'f';

		cmd->verb = flush ? RFS_CMD_FLUSH : RFS_CMD_REMOVE;
		if (argc > 2) {
			rfs_set_err(err, errlen, "usage: %s",
				    flush ? "flush NAME|all" : "remove NAME");
			return -EINVAL;
		}
		if (flush && argc == 2 && strcmp(argv[1], "all") == 0) {
			cmd->name = strdup("all");
			return cmd->name ? 0 : -ENOMEM;
		}
		return take_name(argv, argc, flush ? "flush NAME|all" : "remove NAME", &cmd->name,
				 err, errlen);
	}
	if (strcmp(verb, "commit") == 0 || strcmp(verb, "discard") == 0) {
		const char *usage = verb[0] == 'c' ? "commit NAME" : "discard NAME";

		cmd->verb = verb[0] == 'c' ? RFS_CMD_COMMIT : RFS_CMD_DISCARD;
		if (argc > 2) {
			rfs_set_err(err, errlen, "usage: %s", usage);
			return -EINVAL;
		}
		return take_name(argv, argc, usage, &cmd->name, err, errlen);
	}
	if (strcmp(verb, "seal") == 0)
		return parse_seal(argv, argc, cmd, err, errlen);
	if (strcmp(verb, "reload") == 0) {
		cmd->verb = RFS_CMD_RELOAD;
		if (argc == 1)
			return 0;
		rfs_set_err(err, errlen, "usage: reload");
		return -EINVAL;
	}
	rfs_quote(verb, q, sizeof(q));
	rfs_set_err(err, errlen,
		    "unknown command %s (region, view, dir, remove, flush, commit, discard, seal, "
		    "reload)",
		    q);
	return -EINVAL;
}

/*
 * Messages name odd words in quoted form, but a key's message (decl.c,
 * shared with the config) echoes a decoded value as it is: keep the reason
 * one printable line for control and the log.
 */
static void one_line(char *err)
{
	for (; err && *err; err++)
		if ((unsigned char)*err < ' ' || *err == 0x7f)
			*err = '?';
}

int rfs_command_parse(const char *line, struct rfs_command *cmd, char *err, size_t errlen)
{
	char *words = malloc(strlen(line) + 1), *argv[MAX_ARGS];
	int argc, e;

	memset(cmd, 0, sizeof(*cmd));
	if (!words)
		return -ENOMEM;
	e = rfs_words_split(line, words, argv, MAX_ARGS, &argc, err, errlen);
	if (e == -E2BIG)
		e = -EINVAL;
	if (!e && argc)
		e = parse_args(argv, argc, cmd, err, errlen);
	free(words);
	if (e) {
		rfs_command_free(cmd);
		one_line(err);
	}
	return e;
}

void rfs_command_free(struct rfs_command *cmd)
{
	free(cmd->name);
	rfs_region_decl_free(&cmd->region);
	rfs_view_decl_free(&cmd->view);
	rfs_dir_decl_free(&cmd->dir);
	memset(cmd, 0, sizeof(*cmd));
}
