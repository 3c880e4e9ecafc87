/* Declarations into the namespace: see fs/declare.h. */
#include "fs/declare.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/quote.h"
#include "fs/fs.h"
#include "fs/inval.h"
#include "fs/names.h"
#include "fs/path.h"
#include "fs/holders.h"
#include "fs/log.h"
#include "lib/ledger.h"

/* Create the file `name` with owner o (mode defaulting to def_mode),
 * contents map (NULL: a new region) and lifetime; returns it referenced. */
static int add_file(struct rfs_daemon *d, const char *name, const struct rfs_owner *o,
		    mode_t def_mode, struct rfs_mapping *map, enum rfs_lifetime lifetime,
		    const char *recipe, size_t recipe_len, struct rfs_node **out)
{
	struct rfs_new what = {
		.mode = S_IFREG | (o->has_mode ? o->mode : def_mode),
		.cred = {o->has_uid ? o->uid : getuid(), o->has_gid ? o->gid : getgid()},
		.map = map,
		.lifetime = lifetime,
		.recipe = recipe,
		.recipe_len = recipe_len,
	};
	int err = rfs_path_create(d, name, &what, false, out);

	/* The creator's gid may have come from a setgid directory; the
	 * config's word is final. */
	if (!err && o->has_gid) {
		struct stat st = {.st_gid = o->gid};

		rfs_ns_setattr(d->ns, *out, RFS_SET_GID, &st);
	}
	return err;
}

/* The store a region called name is to be made in (its directory's
 * budget, or the mount's), held; the directories on the way are made. */
static int store_for(struct rfs_daemon *d, const char *name, struct rfs_store **out)
{
	char *path = strdup(name), *leaf;
	struct rfs_node *parent;
	int err = path ? rfs_walk_parents(d, path, true, &parent, &leaf) : -ENOMEM;

	free(path);
	if (err)
		return err;
	*out = rfs_ns_store_of(d->ns, parent);
	rfs_ns_forget(d->ns, parent, 1);
	return 0;
}

int rfs_add_region(struct rfs_daemon *d, const struct rfs_region_decl *r)
{
	struct rfs_mapping *map;
	struct rfs_store *store;
	struct rfs_node *node;
	int err = store_for(d, r->name, &store);

	if (err)
		return err;
	err = rfs_region_new(store, &map);
	rfs_store_free(store); /* the region holds it */
	if (err)
		return err;
	/* Sized before it is named: no opener may see (and cache) it empty.
	 * One a live upgrade inherits has the size it was left with. */
	if (rfs_region_kept(map))
		err = 0;
	else if (r->prealloc && r->size)
		err = rfs_mapping_fallocate(map, 0, 0, r->size);
	else
		err = rfs_mapping_resize(map, r->size);
	/* Sealed before it is named: nobody holds it yet. */
	if (!err && r->seals)
		err = rfs_mapping_seal(map, r->seals);
	if (!err)
		err = add_file(d, r->name, &r->owner, 0644, map, rfs_lifetime_of(r->lifetime), NULL,
			       0, &node);
	if (err) {
		rfs_mapping_free(map);
		return err;
	}
	if (r->seals)
		rfs_ns_record_seal(d->ns, node, r->seals);
	rfs_ns_forget(d->ns, node, 1);
	return 0;
}

/* The region called name, referenced; -ENOENT, or -EINVAL if it is no region. */
static int lookup_region(struct rfs_daemon *d, const char *name, struct rfs_node **node)
{
	int err = rfs_lookup_path(d, name, node);

	if (!err && (!rfs_node_mapping(*node) ||
		     rfs_mapping_kind(rfs_node_mapping(*node)) != RFS_KIND_REGION)) {
		rfs_ns_forget(d->ns, *node, 1);
		err = -EINVAL;
	}
	return err;
}

/* A window of the region v->region; its label in stats is region:NAME. */
static struct rfs_mapping *window_open(struct rfs_daemon *d, struct rfs_view_spec *spec,
				       const char *region, int *err)
{
	struct rfs_mapping *map = NULL;
	struct rfs_node *node;
	char *label;

	*err = lookup_region(d, region, &node);
	if (*err)
		return NULL;
	/* A writable window of a region sealed against writes would write it. */
	if (spec->access != RFS_VIEW_RO && rfs_mapping_refuses_writers(rfs_node_mapping(node)))
		*err = -EPERM;
	else if (asprintf(&label, "region:%s", region) < 0) {
		*err = -ENOMEM;
	} else {
		spec->file = label;
		spec->region = rfs_node_mapping(node);
		/* The window holds the region's mapping from here on. */
		*err = rfs_view_new(d->win, spec, &map);
		free(label);
	}
	rfs_ns_forget(d->ns, node, 1);
	return map;
}

struct rfs_mapping *rfs_view_open(struct rfs_daemon *d, const struct rfs_view_decl *v, int fd,
				  uint64_t shadow, int *err)
{
	struct rfs_view_spec spec = {
		.file = v->file,
		.offset = v->offset,
		.length = v->has_length ? v->length : 0,
		.access = rfs_view_access_of(v->access),
		.fd = fd,
		.store = d->store,
		.shadow = shadow,
	};

	struct rfs_mapping *map = NULL;

	if (v->region)
		return window_open(d, &spec, v->region, err);
	*err = rfs_view_new(d->win, &spec, &map);
	return map;
}

/*
 * A view's recipe (rfs_new): what rfs_view_open needs, so that a restart
 * makes the same mapping again: "OFFSET LENGTH HAS_LENGTH ACCESS\n", then
 * the file and the region, each a byte ('-' none, '+' then the text) and
 * its NUL. Its length, or 0 if it does not fit in size.
 */
static size_t view_recipe(const struct rfs_view_decl *v, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%llu %llu %d %d\n%c%s%c%c%s", (unsigned long long)v->offset,
			 (unsigned long long)v->length, v->has_length, (int)v->access,
			 v->file ? '+' : '-', v->file ? v->file : "", '\0', v->region ? '+' : '-',
			 v->region ? v->region : "");

	return n > 0 && (size_t)n < size ? (size_t)n + 1 : 0;
}

int rfs_view_from_recipe(const void *recipe, size_t len, struct rfs_view_decl *v)
{
	const char *p = recipe, *end = p + len, *file, *region;
	unsigned long long offset, length;
	int has_length, access, used = 0;

	memset(v, 0, sizeof(*v));
	if (!len || p[len - 1] ||
	    sscanf(p, "%llu %llu %d %d\n%n", &offset, &length, &has_length, &access, &used) != 4 ||
	    !used)
		return -EPROTO;
	file = p + used;
	region = file + strlen(file) + 1;
	if (region >= end || (file[0] != '+' && file[0] != '-') ||
	    (region[0] != '+' && region[0] != '-') || access < 0 || access > RFS_ACCESS_COW)
		return -EPROTO;
	v->offset = offset;
	v->length = length;
	v->has_length = has_length;
	v->access = (enum rfs_access)access;
	v->file = file[0] == '+' ? (char *)file + 1 : NULL;
	v->region = region[0] == '+' ? (char *)region + 1 : NULL;
	return 0;
}

int rfs_add_view_mapping(struct rfs_daemon *d, const struct rfs_view_decl *v,
			 struct rfs_mapping *map)
{
	struct rfs_node *node;
	char recipe[2 * PATH_MAX + 64];
	size_t len = view_recipe(v, recipe, sizeof(recipe));
	int err = add_file(d, v->name, &v->owner, v->access == RFS_ACCESS_RO ? 0444 : 0644, map,
			   RFS_LIFETIME_PERSIST, len ? recipe : NULL, len, &node);

	if (err)
		return err;
	rfs_ns_forget(d->ns, node, 1);
	return 0;
}

int rfs_add_view(struct rfs_daemon *d, const struct rfs_view_decl *v, int fd)
{
	int err;
	struct rfs_mapping *map = rfs_view_open(d, v, fd, 0, &err);

	if (!map)
		return err;
	err = rfs_add_view_mapping(d, v, map);
	if (err)
		rfs_mapping_free(map);
	return err;
}

/* A window of a region failed: say why in the region's terms. */
static void region_window_error(const struct rfs_view_decl *v, const char *where, int e, char *err,
				size_t errlen)
{
	char name[128], region[128];

	rfs_quote(v->name, name, sizeof(name));
	rfs_quote(v->region, region, sizeof(region));
	if (e == -ENXIO)
		snprintf(err, errlen,
			 "%sview %s: the window lies past the end of region %s "
			 "(windows never grow their region)",
			 where, name, region);
	else if (e == -EBUSY)
		snprintf(err, errlen,
			 "%sview %s: region %s is open with kernel passthrough; create its "
			 "windows before opening it, or close it first",
			 where, name, region);
	else if (e == -ENOENT)
		snprintf(err, errlen, "%sview %s: no region %s", where, name, region);
	else if (e == -EINVAL)
		snprintf(err, errlen, "%sview %s: %s is not a region", where, name, region);
	else if (e == -EPERM)
		snprintf(err, errlen,
			 "%sview %s: region %s is sealed against writes; only access=ro", where,
			 name, region);
	else
		snprintf(err, errlen, "%sview %s: region %s: %s", where, name, region,
			 strerror(-e));
}

/* Describe a failed view declaration as "file:line: view 'x': why". */
void rfs_view_error(const struct rfs_view_decl *v, const char *file, int e, char *err,
		    size_t errlen)
{
	char where[RFS_PATH_MAX + 32] = "", name[128], path[256];

	if (file)
		snprintf(where, sizeof(where), "%s:%d: ", file, v->line);
	if (e == -EEXIST) { /* the name is taken: neither the file nor the region is to blame */
		rfs_quote(v->name, name, sizeof(name));
		snprintf(err, errlen, "%sview %s: the name exists", where, name);
		return;
	}
	if (v->region) {
		region_window_error(v, where, e, err, errlen);
		return;
	}
	/* Quoted as stats prints them: the message stays one line. */
	rfs_quote(v->name, name, sizeof(name));
	rfs_quote(v->file, path, sizeof(path));
	if (e == -ENXIO)
		snprintf(err, errlen,
			 "%sview %s: the window lies past the end of %s "
			 "(only rw views grow their file)",
			 where, name, path);
	else
		snprintf(err, errlen, "%sview %s: %s: %s", where, name, path, strerror(-e));
}

int rfs_set_owner_budgets(struct rfs_daemon *d, const struct rfs_config *cfg)
{
	struct rfs_ledger *l = atomic_load(&d->ledger);
	int err = 0;

	if (!l && !rfs_config_has_owner_budgets(cfg))
		return 0;
	if (!l && (err = rfs_ledger_new(&l)))
		return err;
	rfs_ledger_clear_limits(l);
	rfs_ledger_set_default(l, RFS_OWNER_USER, cfg->user_size);
	rfs_ledger_set_default(l, RFS_OWNER_GROUP, cfg->group_size);
	for (size_t i = 0; i < cfg->n_owners && !err; i++)
		err = rfs_ledger_set(l, cfg->owners[i].group ? RFS_OWNER_GROUP : RFS_OWNER_USER,
				     cfg->owners[i].id, cfg->owners[i].size);
	atomic_store(&d->ledger, l);
	/* Counts every region anew: the kernel served some uncounted so far. */
	rfs_ns_set_ledger(d->ns, l);
	return err;
}

int rfs_populate(struct rfs_daemon *d, char *err, size_t errlen)
{
	const char *file = d->cfg.path ? d->cfg.path : "config";

	if (rfs_set_owner_budgets(d, &d->cfg)) {
		snprintf(err, errlen, "%s: budgets by owner: %s", file, strerror(ENOMEM));
		return -ENOMEM;
	}

	/* Directories first: regions declared in them take their lifetime. */
	for (size_t i = 0; i < d->cfg.n_dirs; i++) {
		const struct rfs_dir_decl *dd = &d->cfg.dirs[i];
		int e = rfs_add_dir(d, dd);
		char why[RFS_ERR_MAX];

		if (e) {
			rfs_dir_error(dd, e, why, sizeof(why));
			snprintf(err, errlen, "%s:%d: %s", file, dd->line, why);
			return e;
		}
	}
	for (size_t i = 0; i < d->cfg.n_regions; i++) {
		const struct rfs_region_decl *r = &d->cfg.regions[i];
		int e = rfs_add_region(d, r);

		if (e == -ENOSPC) {
			snprintf(err, errlen,
				 "%s:%d: region '%s' does not fit in the size cap (%llu bytes)",
				 file, r->line, r->name,
				 (unsigned long long)rfs_store_cap(d->store));
			return e;
		}
		if (e) {
			snprintf(err, errlen, "%s:%d: region '%s': %s", file, r->line, r->name,
				 strerror(-e));
			return e;
		}
	}
	for (size_t i = 0; i < d->cfg.n_views; i++) {
		int e = rfs_add_view(d, &d->cfg.views[i], -1);

		if (e) {
			rfs_view_error(&d->cfg.views[i], file, e, err, errlen);
			return e;
		}
	}
	return 0;
}

/* The directory dd names, made (with its parents) if missing; referenced. */
static int find_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd, struct rfs_node **out)
{
	const struct rfs_owner *o = &dd->owner;
	struct rfs_new what = {
		.mode = S_IFDIR | (o->has_mode ? o->mode : 0755),
		.cred = {o->has_uid ? o->uid : getuid(), o->has_gid ? o->gid : getgid()},
		.lifetime = rfs_lifetime_of(dd->lifetime),
	};
	int err = rfs_path_create(d, dd->name, &what, true, out);

	if (!err && (rfs_node_type(*out) != S_IFDIR || rfs_is_control(*out))) {
		rfs_ns_forget(d->ns, *out, 1);
		err = -ENOTDIR;
	}
	return err;
}

int rfs_add_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd)
{
	const struct rfs_owner *o = &dd->owner;
	struct stat st = {.st_mode = o->mode, .st_uid = o->uid, .st_gid = o->gid};
	unsigned int which = (o->has_mode ? RFS_SET_MODE : 0) | (o->has_uid ? RFS_SET_UID : 0) |
			     (o->has_gid ? RFS_SET_GID : 0);
	struct rfs_node *dir;
	int err = find_dir(d, dd, &dir);

	if (err)
		return err;
	/* The budget first: what fails most often changes nothing. */
	if (dd->has_size)
		err = rfs_ns_set_budget(d->ns, dir, dd->size);
	/* An existing directory takes the declared owner and lifetime too. */
	if (!err && which)
		err = rfs_ns_setattr(d->ns, dir, which, &st);
	if (!err && dd->lifetime != RFS_LIFE_UNSET)
		err = rfs_ns_set_lifetime(d->ns, dir, rfs_lifetime_of(dd->lifetime));
	if (which)
		rfs_inval_post(d->inval, rfs_ino(d, dir), 0, 0);
	rfs_ns_forget(d->ns, dir, 1);
	return err;
}

void rfs_drop_dir(struct rfs_daemon *d, const struct rfs_dir_decl *dd)
{
	struct rfs_node *dir;

	if (rfs_lookup_path(d, dd->name, &dir) == 0) {
		rfs_ns_set_lifetime(d->ns, dir, RFS_LIFETIME_PERSIST);
		if (dd->has_size && dd->size)
			rfs_drop_budget(d, dir, dd->name);
		rfs_ns_forget(d->ns, dir, 1);
	}
}

void rfs_drop_budget(struct rfs_daemon *d, struct rfs_node *dir, const char *name)
{
	int e = rfs_ns_set_budget(d->ns, dir, 0);

	if (e)
		rfs_log(RFS_LOG_WARN, "dir '%s': its budget stays: %s", name,
			e == -EBUSY ? "regions below it keep their bytes there" : strerror(-e));
}

void rfs_dir_error(const struct rfs_dir_decl *dd, int e, char *err, size_t errlen)
{
	char name[128];
	const char *why = strerror(-e);

	rfs_quote(dd->name, name, sizeof(name));
	if (e == -EBUSY && dd->has_size)
		why = "regions below it keep their bytes where they are (a budget is given before "
		      "a "
		      "directory's regions, and shrinks or goes only as far as they let it)";
	else if (e == -ENOSPC && dd->has_size)
		why = "the budget does not fit in the free room of the budget (or cap) above it";
	snprintf(err, errlen, "dir %s: %s", name, why);
}

/*
 * Tell the kernel that name in parent is gone. Its last name: the kernel
 * marks its inode unlinked too, and forgets it once unused, so the mapping
 * goes (a window lets go of its region) without waiting for memory pressure.
 */
static void name_gone(struct rfs_daemon *d, struct rfs_node *parent, const char *name,
		      struct rfs_node *node)
{
	struct stat st;

	rfs_ns_stat(d->ns, node, &st);
	if (st.st_nlink == 0)
		rfs_inval_post_delete(d->inval, rfs_ino(d, parent), rfs_ino(d, node), name);
	else
		rfs_inval_entry(d, parent, name);
}

/* Take name (a region or view) out of the namespace; open files keep it. */
int rfs_remove_name(struct rfs_daemon *d, const char *name, char *err, size_t errlen)
{
	char *path = strdup(name), *leaf;
	struct rfs_node *parent, *node;
	char q[256];
	int e;

	if (!path)
		return -ENOMEM;
	e = rfs_walk_parents(d, path, false, &parent, &leaf);
	if (e)
		goto out_err;
	e = rfs_ns_lookup(d->ns, parent, leaf, &node);
	if (!e) {
		if (rfs_node_type(node) != S_IFREG || rfs_is_control(node))
			e = -EISDIR;
		if (!e)
			e = rfs_ns_remove(d->ns, parent, leaf, false);
		if (!e)
			name_gone(d, parent, leaf, node);
		rfs_ns_forget(d->ns, node, 1);
	}
	rfs_ns_forget(d->ns, parent, 1);
out_err:
	rfs_quote(name, q, sizeof(q));
	if (e == -EISDIR)
		snprintf(err, errlen, "%s is not a region or view", q);
	else if (e)
		snprintf(err, errlen, "%s: %s", q, strerror(-e));
	free(path);
	return e;
}

int rfs_seal_region(struct rfs_daemon *d, const char *name, unsigned int seals, char *err,
		    size_t errlen)
{
	char q[256];
	struct rfs_node *node;
	struct rfs_mapping *m;
	unsigned int writers = 0;
	int e = lookup_region(d, name, &node);

	rfs_quote(name, q, sizeof(q));
	if (e) {
		snprintf(err, errlen,
			 e == -EINVAL ? "%s: not a region (seals apply to regions)" : "%s: %s", q,
			 strerror(-e));
		return e;
	}
	m = rfs_node_mapping(node);
	/* Its writable windows would write it behind the seal. */
	if ((seals & RFS_SEALS_AGAINST_WRITES) && rfs_region_windows(m)) {
		snprintf(err, errlen, "%s: the region has windows (remove them first)", q);
		e = -EBUSY;
	} else {
		e = rfs_holders_seal(d->holders, node, seals, &writers);
		if (!e)
			rfs_ns_record_seal(d->ns, node, seals);
		if (e == -EBUSY)
			snprintf(err, errlen, "%s: %u writable open%s hold%s it (close %s first)",
				 q, writers, writers == 1 ? "" : "s", writers == 1 ? "s" : "",
				 writers == 1 ? "it" : "them");
		else if (e)
			snprintf(err, errlen, "%s: %s", q, strerror(-e));
	}
	/* Cached attributes stay right: seals change no byte or size. */
	rfs_ns_forget(d->ns, node, 1);
	return e;
}
