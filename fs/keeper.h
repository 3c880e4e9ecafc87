/*
 * -o restart: the tmpfs instances of budgets made while mounted (a control
 * command, an xattr, a reload), which would die with the serving process
 * that made them. It sends each new instance's root to the supervisor
 * (SCM_RIGHTS over a socketpair), and says when one is let go; the
 * supervisor keeps them, by number, and every successor has them: a forked
 * one by inheritance, a live upgrade's by the handover. The successor's
 * store takes each when the journal's replay makes the budget of that
 * number again (rfs_store_keep_budget).
 *
 * The supervisor reads what was sent when told (SIGIO), before it starts a
 * serving process, and before an upgrade: whatever a process sent before
 * dying is in the socket's queue, its descriptors held there.
 *
 * The table of instances is the supervisor's alone (a serving process has
 * its copy from the fork, given to its store at start); no lock.
 */
#ifndef REGIONFS_KEEPER_H
#define REGIONFS_KEEPER_H

#include <stddef.h>

#include "lib/store.h"

struct rfs_journal;
struct rfs_keeper;

/*
 * The supervisor's, before its first serving process: keeping the
 * instances handed (a live upgrade's budgets no config budget took; their
 * descriptors duplicated). The journal is broken if one cannot be kept.
 */
int rfs_keeper_new(const struct rfs_store_kept *handed, size_t n, struct rfs_journal *journal,
		   struct rfs_keeper **out);
/* The supervisor, at its start (its pid is final): have SIGIO when sent to. */
void rfs_keeper_listen(struct rfs_keeper *k);
/* The supervisor: take what serving processes sent. */
void rfs_keeper_drain(struct rfs_keeper *k);
/* The instances kept, the first max of them into out: how many there are. */
size_t rfs_keeper_list(const struct rfs_keeper *k, struct rfs_store_kept *out, size_t max);
/*
 * A serving process, at its start: store (the mount's) keeps the instances
 * for its replay, and tells the supervisor of those its budgets make and
 * let go from now on.
 */
int rfs_keeper_serve(struct rfs_keeper *k, struct rfs_store *store);
/* After the store it serves (whose hooks name it) is freed. */
void rfs_keeper_free(struct rfs_keeper *k);

#endif
