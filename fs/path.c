/* Names from the root to nodes (path.h). */
#include "fs/path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/inval.h"

int rfs_walk_parents(struct rfs_daemon *d, char *path, bool create, struct rfs_node **parent,
		     char **leaf)
{
	struct rfs_new dir = {.mode = S_IFDIR | 0755, .cred = {getuid(), getgid()}};
	struct rfs_node *cur = rfs_ns_root(d->ns), *next;
	char *comp = path, *slash;
	int err;

	rfs_ns_ref(d->ns, cur);
	while ((slash = strchr(comp, '/'))) {
		*slash = '\0';
		err = rfs_ns_lookup(d->ns, cur, comp, &next);
		if (err == -ENOENT && create) {
			err = rfs_ns_create(d->ns, cur, comp, &dir, &next);
			if (!err)
				rfs_inval_entry(d, cur, comp);
		}
		rfs_ns_forget(d->ns, cur, 1);
		if (err)
			return err;
		cur = next;
		comp = slash + 1;
	}
	*parent = cur;
	*leaf = comp;
	return 0;
}

int rfs_path_create(struct rfs_daemon *d, const char *name, const struct rfs_new *what,
		    bool existing_ok, struct rfs_node **node)
{
	char *path = strdup(name), *leaf;
	struct rfs_node *parent;
	int err;

	if (!path)
		return -ENOMEM;
	err = rfs_walk_parents(d, path, what != NULL, &parent, &leaf);
	if (err)
		goto out_free;
	err = existing_ok || !what ? rfs_ns_lookup(d->ns, parent, leaf, node) : -ENOENT;
	if (err == -ENOENT && what) {
		err = rfs_ns_create(d->ns, parent, leaf, what, node);
		if (!err)
			rfs_inval_entry(d, parent, leaf);
	}
	rfs_ns_forget(d->ns, parent, 1);
out_free:
	free(path);
	return err;
}

int rfs_lookup_path(struct rfs_daemon *d, const char *name, struct rfs_node **node)
{
	return rfs_path_create(d, name, NULL, true, node);
}
