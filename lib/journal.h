/*
 * The journal: an append-only log of the changes a serving process made,
 * kept in a memfd that outlives the process (the supervisor holds it), so
 * that the next process rebuilds the same state by replaying it.
 *
 * Crash safety: a record is written past the log's end, then published by
 * one release store of the end. A process killed at any instruction leaves
 * the log a sequence of whole records: the one it was writing is not in it.
 *
 * A record has a type, a time (the instant the change was made, which a
 * replay gives it again), the unique of the request that made it (0: none;
 * a resent request is recognised by it) and a payload of fields written
 * with rfs_rec_put_* and read back in the same order with rfs_rec_get_*.
 *
 * Thread-safe: appends are serialized by the journal's own mutex; callers
 * that need records in the order of their changes append while holding the
 * lock that orders the changes (the namespace's, for its records).
 */
#ifndef REGIONFS_JOURNAL_H
#define REGIONFS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The format; a journal of another version is refused (-EPROTO). */
#define RFS_JOURNAL_VERSION 1

struct rfs_journal;

/* A new empty journal of at most capacity bytes, in a new memfd. */
int rfs_journal_new(uint64_t capacity, struct rfs_journal **out);
/* The journal in memfd fd (dup'ed; the caller keeps fd): -EPROTO if fd holds
 * no journal or one of another version. */
int rfs_journal_open(int fd, struct rfs_journal **out);
void rfs_journal_free(struct rfs_journal *j);
/* The memfd, to hand to the next process. */
int rfs_journal_fd(const struct rfs_journal *j);
/* Bytes of records, and how many. */
uint64_t rfs_journal_bytes(struct rfs_journal *j);
uint64_t rfs_journal_records(struct rfs_journal *j);
/* Where in the memfd the next record goes (tests tear one there). */
uint64_t rfs_journal_end_offset(struct rfs_journal *j);

/* A record being written or read: its fields in order. */
#define RFS_REC_MAX (80 * 1024) /* the largest payload: an xattr value and names */
struct rfs_rec {
	uint16_t type;
	int64_t time;
	uint64_t unique;
	size_t len, pos;
	bool bad; /* a get ran past the end or found a malformed field */
	unsigned char buf[RFS_REC_MAX];
};

/* Start a record of type at time: fields follow, then rfs_journal_append. */
void rfs_rec_init(struct rfs_rec *r, uint16_t type, int64_t time);
void rfs_rec_put_u64(struct rfs_rec *r, uint64_t v);
/* A string of at most RFS_REC_MAX bytes; NULL is kept as NULL. */
void rfs_rec_put_str(struct rfs_rec *r, const char *s);
void rfs_rec_put_bytes(struct rfs_rec *r, const void *p, size_t n);
uint64_t rfs_rec_get_u64(struct rfs_rec *r);
/* Points into r (valid while r is); NULL for a NULL string. */
const char *rfs_rec_get_str(struct rfs_rec *r);
const void *rfs_rec_get_bytes(struct rfs_rec *r, size_t *n);

/*
 * The unique of the request this thread is serving, recorded with what it
 * appends: set it when a request starts, 0 when it ends.
 */
void rfs_journal_set_unique(uint64_t unique);
uint64_t rfs_journal_unique(void);

/* Append r: 0, -ENOSPC when the journal is full, -E2BIG for a payload past
 * RFS_REC_MAX (a put ran over it). */
int rfs_journal_append(struct rfs_journal *j, struct rfs_rec *r);

/* The log no longer tells the whole state, for the reason why (a phrase):
 * said to every process that opens it. The first reason is kept. */
void rfs_journal_break(struct rfs_journal *j, const char *why);
/* NULL, or why it broke. */
const char *rfs_journal_broken(struct rfs_journal *j);

/* Call fn with each record in order; fn returns non-zero to stop. Returns
 * that, 0 at the end, or -EPROTO for a malformed log. */
typedef int (*rfs_journal_fn)(void *ctx, struct rfs_rec *r);
int rfs_journal_replay(struct rfs_journal *j, rfs_journal_fn fn, void *ctx);

/* Does the log hold a record made by request unique (its resend bit
 * cleared)? Its type then, else 0. */
uint16_t rfs_journal_made_by(struct rfs_journal *j, uint64_t unique);

#endif
