#include "conf/command.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config_i.h"

#define MAX_ARGS 32

typedef int (*set_fn)(void *decl, const char *key, const char *value, char *err, size_t errlen);

static int set_region_key(void *decl, const char *key, const char *value, char *err, size_t errlen)
{
	return rfs_region_decl_set(decl, key, value, err, errlen);
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
			rfs_set_err(err, errlen, "expected key=value, got '%.100s'", argv[i]);
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
	char why[RFS_ERR_MAX];

	if (argc < 2) {
		rfs_set_err(err, errlen, "usage: %s", usage);
		return -EINVAL;
	}
	if (rfs_name_check(argv[1], why, sizeof(why))) {
		rfs_set_err(err, errlen, "bad name '%.100s': %.200s", argv[1], why);
		return -EINVAL;
	}
	*out = strdup(argv[1]);
	return *out ? 0 : -ENOMEM;
}

static int parse_args(char **argv, int argc, struct rfs_command *cmd, char *err, size_t errlen)
{
	const char *verb = argv[0];
	int e;

	if (strcmp(verb, "region") == 0) {
		cmd->verb = RFS_CMD_REGION;
		e = take_name(argv, argc,
			      "region NAME size=N [mode=M] [uid=U] [gid=G] [prealloc=yes]",
			      &cmd->region.name, err, errlen);
		if (!e)
			e = set_keys(argv + 2, argc - 2, set_region_key, &cmd->region, err, errlen);
		return e ? e : rfs_region_decl_check(&cmd->region, err, errlen);
	}
	if (strcmp(verb, "view") == 0) {
		cmd->verb = RFS_CMD_VIEW;
		e = take_name(argv, argc,
			      "view NAME file=PATH [offset=N] [length=N] [access=ro|rw|cow]",
			      &cmd->view.name, err, errlen);
		if (!e)
			e = set_keys(argv + 2, argc - 2, set_view_key, &cmd->view, err, errlen);
		return e ? e : rfs_view_decl_check(&cmd->view, err, errlen);
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
	if (strcmp(verb, "reload") == 0) {
		cmd->verb = RFS_CMD_RELOAD;
		if (argc == 1)
			return 0;
		rfs_set_err(err, errlen, "usage: reload");
		return -EINVAL;
	}
	rfs_set_err(
		err, errlen,
		"unknown command '%.50s' (region, view, remove, flush, commit, discard, reload)",
		verb);
	return -EINVAL;
}

int rfs_command_parse(const char *line, struct rfs_command *cmd, char *err, size_t errlen)
{
	char *copy = strdup(line), *argv[MAX_ARGS], *save = NULL, *tok;
	int argc = 0, e = 0;

	memset(cmd, 0, sizeof(*cmd));
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (!argc && tok[0] == '#')
			break; /* a comment: its words are no arguments */
		if (argc == MAX_ARGS) {
			rfs_set_err(err, errlen, "too many arguments");
			e = -EINVAL;
			goto out_free;
		}
		argv[argc++] = tok;
	}
	if (argc)
		e = parse_args(argv, argc, cmd, err, errlen);
out_free:
	free(copy);
	if (e)
		rfs_command_free(cmd);
	return e;
}

void rfs_command_free(struct rfs_command *cmd)
{
	free(cmd->name);
	rfs_region_decl_free(&cmd->region);
	rfs_view_decl_free(&cmd->view);
	memset(cmd, 0, sizeof(*cmd));
}
