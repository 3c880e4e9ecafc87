/* Turning the config's declarations into the namespace at mount. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs.h"

/* Walk or make the directories of path (all but its last component);
 * returns the referenced parent and points *leaf at the last component. */
static int make_parents(struct rfs_daemon *d, char *path, struct rfs_node **parent, char **leaf)
{
	struct rfs_new dir = {.mode = S_IFDIR | 0755, .cred = {getuid(), getgid()}};
	struct rfs_node *cur = rfs_ns_root(d->ns), *next;
	char *comp = path, *slash;
	int err;

	rfs_ns_ref(d->ns, cur);
	while ((slash = strchr(comp, '/'))) {
		*slash = '\0';
		err = rfs_ns_lookup(d->ns, cur, comp, &next);
		if (err == -ENOENT)
			err = rfs_ns_create(d->ns, cur, comp, &dir, &next);
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

static int add_region(struct rfs_daemon *d, const struct rfs_region_decl *r)
{
	const struct rfs_owner *o = &r->owner;
	struct rfs_new what = {
		.mode = S_IFREG | (o->has_mode ? o->mode : 0644),
		.cred = {o->has_uid ? o->uid : getuid(), o->has_gid ? o->gid : getgid()},
	};
	struct rfs_node *parent, *node;
	char *path = strdup(r->name), *leaf;
	int err;

	if (!path)
		return -ENOMEM;
	err = make_parents(d, path, &parent, &leaf);
	if (err)
		goto out_free;
	err = rfs_ns_create(d->ns, parent, leaf, &what, &node);
	rfs_ns_forget(d->ns, parent, 1);
	if (err)
		goto out_free;
	/* The creator's gid may have come from a setgid directory; the
	 * config's word is final. */
	if (o->has_gid) {
		struct stat st = {.st_gid = o->gid};

		rfs_ns_setattr(d->ns, node, RFS_SET_GID, &st);
	}
	if (r->prealloc && r->size)
		err = rfs_mapping_fallocate(rfs_node_mapping(node), 0, 0, r->size);
	else
		err = rfs_mapping_resize(rfs_node_mapping(node), r->size);
	rfs_ns_forget(d->ns, node, 1);
out_free:
	free(path);
	return err;
}

int rfs_populate(struct rfs_daemon *d, char *err, size_t errlen)
{
	const char *file = d->cfg.path ? d->cfg.path : "config";

	for (size_t i = 0; i < d->cfg.n_regions; i++) {
		const struct rfs_region_decl *r = &d->cfg.regions[i];
		int e = add_region(d, r);

		if (e == -ENOSPC) {
			snprintf(err, errlen,
				 "%s:%d: region '%s' does not fit in the size cap (%llu bytes)",
				 file, r->line, r->name, (unsigned long long)d->acct.cap);
			return e;
		}
		if (e) {
			snprintf(err, errlen, "%s:%d: region '%s': %s", file, r->line, r->name,
				 strerror(-e));
			return e;
		}
	}
	return 0;
}
