/*
 * The region store: where regions keep their bytes.
 *
 * Preferably a private tmpfs instance attached to no path (fsopen, fsmount,
 * no move_mount), made directly with CAP_SYS_ADMIN or else inside a fresh
 * user namespace. Each region is a file in it, named by a number, opened
 * only while something uses it. The kernel then enforces the cap exactly
 * as on tmpfs: ENOSPC for write() and fallocate over it, SIGBUS for an mmap
 * fault into a hole over it, and statfs comes from the instance.
 *
 * Where no tmpfs can be made, each region is a memfd, which costs a
 * descriptor for its whole life; the store then checks the cap itself
 * before each change it is asked about (mmap stores are not seen).
 *
 * Thread-safe; functions return 0 or -errno.
 */
#ifndef REGIONFS_STORE_H
#define REGIONFS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

enum rfs_store_kind {
	RFS_STORE_TMPFS,
	RFS_STORE_MEMFD,
};

struct rfs_store;

/*
 * A store of at most cap bytes and max_files files. want RFS_STORE_MEMFD
 * forces memfds (for tests); RFS_STORE_TMPFS falls back to them where no
 * tmpfs can be made. The store in *out: 0 or -errno.
 */
int rfs_store_new(uint64_t cap, uint64_t max_files, enum rfs_store_kind want,
		  struct rfs_store **out);
/* When a read moves a region file's atime, as mount(8)'s atime options. */
enum rfs_store_atime {
	RFS_STORE_RELATIME = 0, /* the kernel's default */
	RFS_STORE_NOATIME,
	RFS_STORE_STRICTATIME,
};

/* How the tmpfs instance is made (tmpfs's own mount options). */
struct rfs_store_tune {
	const char *huge; /* huge= mode; NULL: the kernel's default, never */
	/* noswap (Linux 6.4+, CAP_SYS_ADMIN in the initial user namespace):
	 * region pages never go to swap. A store that cannot have it fails
	 * with -EINVAL (the kernel refused it) or -EOPNOTSUPP (memfds). */
	bool noswap;
	/* Reads the kernel serves from its files touch their atime as this
	 * says: the namespace's mount's atime option, so that the atime the
	 * daemon reports moves as the mount promises. */
	enum rfs_store_atime atime;
};
/* rfs_store_new with tune (NULL: the defaults). */
int rfs_store_new_tuned(uint64_t cap, uint64_t max_files, enum rfs_store_kind want,
			const struct rfs_store_tune *tune, struct rfs_store **out);
/*
 * A budget's tmpfs instance an earlier process made, kept for a successor:
 * its number (rfs_store_budget_id) and the instance's root.
 */
struct rfs_store_kept {
	uint64_t id;
	int dir;
};

/*
 * A live upgrade: the store an earlier program made (rfs_store_new_tuned,
 * as cap, max_files and tune say) over the tmpfs instance whose root is dir,
 * with its budgets' instances (as rfs_store_budget_roots gave them:
 * descriptors it handed on; duplicated). Until rfs_store_inherited, files
 * made are numbered as the earlier program numbered them, and one it left
 * under a number is taken as it is (f->kept) rather than skipped; a budget
 * made takes the instance kept under its number, and is refused if none is.
 */
int rfs_store_inherit(int dir, const struct rfs_store_kept *budgets, size_t n_budgets, uint64_t cap,
		      uint64_t max_files, const struct rfs_store_tune *tune,
		      struct rfs_store **out);
/* The end of either: instances kept that no budget took are let go (the
 * hooks' gone says so, rfs_store_on_budgets). */
void rfs_store_inherited(struct rfs_store *s);
/* The tmpfs instance's root, to hand on; -1 for memfds. */
int rfs_store_root(const struct rfs_store *s);
/* The mount's store s's live budgets (number and root), in the order they
 * were made, the first max of them into out: how many there are. */
size_t rfs_store_budget_roots(struct rfs_store *s, struct rfs_store_kept *out, size_t max);

/*
 * A restart (-o restart): the serving process before made budgets while
 * mounted, whose instances its supervisor kept. rfs_store_keep_budget gives
 * the mount's store s one (dir is s's from now on); a budget made with its
 * number takes it, its files as they are. While rfs_store_replay is on (a
 * journal's changes made again), reservations and resizes are not checked
 * against what the files use now, which is the end's state: the changes
 * passed those checks once, when made. Turned off, every instance is sized
 * to its cap again, and the instances no budget took are let go (as
 * rfs_store_inherited). 0, or -errno if an instance refused its size.
 */
int rfs_store_keep_budget(struct rfs_store *s, uint64_t id, int dir);
int rfs_store_replay(struct rfs_store *s, bool on);

/*
 * Tell someone of budget instances as they come and go (a supervisor keeps
 * them for the serving process's successor): made(ctx, id, dir) when a
 * budget of the mount's store s makes an instance (not one kept): an error
 * fails the budget; gone(ctx, id) when one is let go.
 */
struct rfs_store_hooks {
	int (*made)(void *ctx, uint64_t id, int dir);
	void (*gone)(void *ctx, uint64_t id);
	void *ctx;
};
void rfs_store_on_budgets(struct rfs_store *s, const struct rfs_store_hooks *hooks);

/*
 * A budget: a store of cap bytes made as parent was (kind and tune), for a
 * part of the namespace. Its cap is carved from parent, reserved there
 * (rfs_store_reserve) for as long as it lives, so budgets nest and together
 * never exceed the mount's cap; -ENOSPC if parent lacks the room.
 */
int rfs_store_new_budget(struct rfs_store *parent, uint64_t cap, struct rfs_store **out);
/* The same, numbered id (a journal's replay) rather than the next number. */
int rfs_store_new_budget_as(struct rfs_store *parent, uint64_t cap, uint64_t id,
			    struct rfs_store **out);
/* A budget's number, unique among the mount's live budgets (a new one
 * takes the next past the last made or replayed); 0 for the mount's store. */
uint64_t rfs_store_budget_id(const struct rfs_store *s);
/* A budget's new cap: -ENOSPC if its parent lacks the room, -EBUSY if its
 * regions and reservations use more, -EOPNOTSUPP where the instance cannot
 * be resized (made in a user namespace); -EINVAL for a store that is no budget. */
int rfs_store_resize(struct rfs_store *s, uint64_t cap);
/* Carve a budget from another store instead (its nesting changed): -ENOSPC
 * if to lacks the room, and then nothing changes. */
int rfs_store_move(struct rfs_store *s, struct rfs_store *to);
/* The store a budget is carved from; NULL for the mount's store. */
struct rfs_store *rfs_store_parent(const struct rfs_store *s);

/*
 * Stores are counted: each region holds its store, a budget its parent.
 * rfs_store_free drops a reference; the last one lets go of the instance
 * (whose files are gone by then) and gives a budget's bytes back.
 */
void rfs_store_hold(struct rfs_store *s);
void rfs_store_free(struct rfs_store *s);

enum rfs_store_kind rfs_store_kind(const struct rfs_store *s);
/* The cap: regions and reserved bytes together. */
uint64_t rfs_store_cap(struct rfs_store *s);
const char *rfs_store_kind_name(const struct rfs_store *s);
/* Are region pages kept out of swap (tune.noswap)? */
bool rfs_store_noswap(const struct rfs_store *s);

/*
 * A file of the store: its number, and for memfds the descriptor that keeps
 * it alive (-1 for tmpfs files, which live until rfs_store_remove).
 */
struct rfs_store_file {
	uint64_t id;
	int fd;
	bool kept; /* made by an earlier process, its bytes kept (adopted, inherited) */
};

/* Make a new empty file. -ENOSPC when the store has no file left. */
int rfs_store_create(struct rfs_store *s, struct rfs_store_file *f);
/* The file numbered id, which an earlier process made in this store's
 * instance and left (a restart): -ENOENT if it is gone, -EOPNOTSUPP for
 * memfds, which die with their descriptors. */
int rfs_store_adopt(struct rfs_store *s, uint64_t id, struct rfs_store_file *f);
/* Files made from now on are numbered past id (a restart: past every
 * file its records name). */
void rfs_store_skip_ids(struct rfs_store *s, uint64_t id);
/* A new descriptor of f, read-write (the caller closes it). */
int rfs_store_open(struct rfs_store *s, const struct rfs_store_file *f);
/* stat(2) of f. */
int rfs_store_stat(struct rfs_store *s, const struct rfs_store_file *f, struct stat *st);
/* Set f's access and modification times (utimensat semantics). */
int rfs_store_set_times(struct rfs_store *s, const struct rfs_store_file *f,
			const struct timespec times[2]);
/* Set or clear f's FS_NOATIME_FL (chattr +A). */
int rfs_store_set_noatime(struct rfs_store *s, const struct rfs_store_file *f, bool on);
/* Delete f; its bytes go once no descriptor or mapping holds them. */
void rfs_store_remove(struct rfs_store *s, struct rfs_store_file *f);
/* While keep is set on the mount's store, rfs_store_remove leaves tmpfs
 * files where they are, its budgets' too: a process handing its regions to
 * its successor frees its own state. */
void rfs_store_keep_files(struct rfs_store *s, bool keep);
bool rfs_store_keeps_files(struct rfs_store *s);

/*
 * Where the kernel cannot hold regions to the cap (memfds; a tmpfs made in
 * a user namespace, which we may not shrink, once bytes are reserved from
 * it), the daemon checks: may bytes more be allocated? -ENOSPC if not; 0
 * where the kernel checks. After a change, tell a memfd store how the
 * file's allocation moved (charge).
 */
bool rfs_store_daemon_checks(struct rfs_store *s);
int rfs_store_check(struct rfs_store *s, uint64_t bytes);
void rfs_store_charge(struct rfs_store *s, int64_t delta);

/*
 * Take bytes of the cap for something else than regions (a budget's
 * carved bytes), or give them back (bytes < 0): regions then have that
 * much less room, so the two share one cap. -ENOSPC if regions already use
 * it. A tmpfs store shrinks the instance (its last page always stays).
 */
int rfs_store_reserve(struct rfs_store *s, int64_t bytes);

/* bytes_total is the cap; bytes_used counts regions and reserved bytes. */
struct rfs_store_usage {
	uint64_t bytes_total, bytes_used;
	uint64_t files_total, files_used;
	uint64_t reserved;
};
void rfs_store_usage(struct rfs_store *s, struct rfs_store_usage *u);

#endif
