/*
 * regionfs configuration: INI text (inih) into a plain description.
 *
 * conf/ knows nothing of mappings beyond this description: it parses and
 * validates, fs/ turns the result into a namespace. The same entry points
 * that handle one INI key also handle the control plane's commands, so a key
 * means the same thing and is checked the same way wherever it is written.
 *
 * Errors are reported as "FILE:LINE: reason" in a caller-supplied buffer.
 * Functions return 0 or -errno (-EINVAL for bad input, -ENOMEM, or the
 * errno of opening the file).
 */
#ifndef REGIONFS_CONFIG_H
#define REGIONFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RFS_NAME_MAX	255  /* one path component, as in NAME_MAX */
#define RFS_PATH_MAX	4096 /* a whole name with '/' separators */
#define RFS_ERR_MAX	512  /* size for error buffers */
#define RFS_CONTROL_DIR ".regionfs"

enum rfs_access {
	RFS_ACCESS_RW = 0,
	RFS_ACCESS_RO,
	RFS_ACCESS_COW,
};

/* A region's lifetime, or a directory's default for regions made in it. */
enum rfs_life {
	RFS_LIFE_UNSET = 0, /* not given: a region takes its directory's default */
	RFS_LIFE_PERSIST,   /* until removed */
	RFS_LIFE_CLOSE,	    /* removed when its last user goes, once it had one */
};

/* Ownership and permissions common to regions, views and directories. */
struct rfs_owner {
	mode_t mode; /* permission bits only (07777); 0 means "use default" */
	bool has_mode;
	uid_t uid;
	bool has_uid;
	gid_t gid;
	bool has_gid;
};

/* [region:NAME] */
/* A region's seals (seals = shrink,grow,write,future_write): the bits of
 * lib/mapping.h's RFS_SEAL_*, which fs/names.c checks they equal. */
enum {
	RFS_DECL_SEAL_SHRINK = 1u << 0,
	RFS_DECL_SEAL_GROW = 1u << 1,
	RFS_DECL_SEAL_WRITE = 1u << 2,
	RFS_DECL_SEAL_FUTURE_WRITE = 1u << 3,
};

struct rfs_region_decl {
	char *name; /* relative path, components separated by '/' */
	uint64_t size;
	bool prealloc;
	unsigned int seals; /* RFS_DECL_SEAL_*: added once made, never taken away */
	enum rfs_life lifetime;
	struct rfs_owner owner;
	int line; /* line of the section header, for later messages */
};

/* [dir:NAME]: a directory, made if missing, its default lifetime and budget */
struct rfs_dir_decl {
	char *name;
	enum rfs_life lifetime; /* UNSET: leave it as it is (or inherit, if made) */
	uint64_t size;		/* budget: bytes of the regions below it; 0: none */
	bool has_size;		/* size given (else the budget is left as it is) */
	struct rfs_owner owner;
	int line;
};

/* [view:NAME]: a window of a backing file, or of a region of the mount */
struct rfs_view_decl {
	char *name;
	char *file;	 /* backing file path, as written; NULL for a window of a region */
	char *region;	 /* the region's name in the mount; NULL for a file's view */
	uint64_t offset; /* byte offset of the window in the file or region */
	uint64_t length; /* window length; 0 with !has_length = to the end */
	bool has_length;
	enum rfs_access access;
	struct rfs_owner owner;
	int line;
};

/* [user:NAME], [group:NAME]: one owner's budget, instead of user_size or group_size */
struct rfs_owner_budget {
	bool group;
	uint32_t id;   /* NAME: a name (resolved at load) or a number */
	uint64_t size; /* bytes of regions it may own; 0: no budget for it */
	bool has_size;
	int line;
};

struct rfs_config {
	char *path;    /* file the config came from (NULL for strings) */
	uint64_t size; /* cap on region memory; 0 = not set (default applies) */
	bool has_size;
	bool xattr;	     /* expose user.regionfs.* xattrs */
	bool writeback;	     /* kernel writeback cache: faster writes, weaker coherence */
	bool strict_dirty;   /* keep the kernel's strict dirty-page limit for FUSE */
	bool owner_only;     /* only the mounting user may use the mount */
	const char *huge;    /* the region store's tmpfs huge= mode (static); NULL: never */
	bool noswap;	     /* the region store's tmpfs noswap: region pages never swapped */
	uint64_t user_size;  /* every user's budget (bytes of regions owned); 0: none */
	uint64_t group_size; /* every group's; 0: none */
	uint64_t window_max; /* bytes of backing files views map at once; 0: default */
	bool has_window_max;
	char **allowed_roots; /* NULL-terminated; directories run-time views may use */
	size_t n_allowed_roots;
	struct rfs_region_decl *regions;
	size_t n_regions;
	struct rfs_view_decl *views;
	size_t n_views;
	struct rfs_dir_decl *dirs;
	size_t n_dirs;
	struct rfs_owner_budget *owners;
	size_t n_owners;
};

/* Load a config file. On error, err holds "path:line: reason". */
int rfs_config_load_file(const char *path, struct rfs_config *cfg, char *err, size_t errlen);

/* Same for INI text held in memory; label stands in for the file name. */
int rfs_config_load_string(const char *text, const char *label, struct rfs_config *cfg, char *err,
			   size_t errlen);

void rfs_config_free(struct rfs_config *cfg);

/*
 * Parse one key of a region or view declaration ("size", "mode", "file", ...),
 * the grammar shared by the INI sections and control commands. Returns
 * -EINVAL with a reason (no file:line prefix) in err.
 */
int rfs_region_decl_set(struct rfs_region_decl *d, const char *key, const char *value, char *err,
			size_t errlen);
/* The one key of [user:] and [group:]: size. */
int rfs_owner_budget_set(struct rfs_owner_budget *b, const char *key, const char *value, char *err,
			 size_t errlen);
/* Does the config give any budget by owner? */
bool rfs_config_has_owner_budgets(const struct rfs_config *cfg);
int rfs_view_decl_set(struct rfs_view_decl *d, const char *key, const char *value, char *err,
		      size_t errlen);
int rfs_dir_decl_set(struct rfs_dir_decl *d, const char *key, const char *value, char *err,
		     size_t errlen);

/* Whole-declaration checks after all keys are in (e.g. a view needs file= or region=). */
int rfs_region_decl_check(const struct rfs_region_decl *d, char *err, size_t errlen);
int rfs_view_decl_check(const struct rfs_view_decl *d, char *err, size_t errlen);
int rfs_dir_decl_check(const struct rfs_dir_decl *d, char *err, size_t errlen);

void rfs_region_decl_free(struct rfs_region_decl *d);
void rfs_view_decl_free(struct rfs_view_decl *d);
void rfs_dir_decl_free(struct rfs_dir_decl *d);

/*
 * "64M", "4G", "1T", "4096", "0x1000": bytes, with binary K/M/G/T suffixes
 * (upper or lower case, optional trailing 'B' or 'iB'). Rejects negatives,
 * garbage and overflow of uint64_t.
 */
int rfs_parse_size(const char *s, uint64_t *out);

/* Octal permission bits "0644" / "644"; at most 07777. */
int rfs_parse_mode(const char *s, mode_t *out);

/* yes/no, true/false, on/off, 1/0. */
int rfs_parse_bool(const char *s, bool *out);

/* Seal words joined by commas (shrink, grow, write, future_write; each at
 * most once): their RFS_DECL_SEAL_* bits in *out. -EINVAL otherwise. */
int rfs_parse_seals(const char *s, unsigned int *out);
/* The word of seal bit i (RFS_DECL_SEAL_* is 1 << i), i < RFS_DECL_SEAL_COUNT. */
#define RFS_DECL_SEAL_COUNT 4
const char *rfs_seal_word(unsigned int i);

/* A tmpfs huge= mode (never, within_size, always, advise): its static
 * spelling, or NULL. */
const char *rfs_parse_huge(const char *s);

/*
 * A name of a file in the mount: components joined by '/', each 1..255 bytes,
 * none "." or "..", no empty component (no leading, trailing or double '/'),
 * no NUL, total < RFS_PATH_MAX; the first component must not be ".regionfs".
 * Returns 0 or -EINVAL with the reason in err (may be NULL).
 */
int rfs_name_check(const char *name, char *err, size_t errlen);

#endif
