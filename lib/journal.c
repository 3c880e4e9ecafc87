/* The journal (journal.h): a log of whole records in a mapped memfd. */
#include "lib/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/memfd.h"

#define MAGIC	 0x6c6e726a73667272ULL /* "rrfsjrnl" */
#define ALIGN	 8
#define RESEND	 (1ULL << 63) /* FUSE_UNIQUE_RESEND: the kernel's mark of a resent request */
#define NULL_STR UINT32_MAX   /* a string field's length for NULL */

/* At the start of the memfd; the records follow it. */
struct header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t capacity;	/* bytes of records the memfd has room for */
	_Atomic uint64_t end;	/* bytes of published records: the release store that publishes */
	_Atomic uint64_t count; /* records published; written before end */
	/* rfs_journal_break: 0; 1 while why is written; 2 once it is */
	_Atomic int32_t broken;
	char why[124];
	_Atomic uint32_t killed; /* record types the test hook has killed after */
	uint32_t zero;
};

/* A record's fixed part; the payload follows, then padding to ALIGN. */
struct record {
	uint32_t size; /* of the whole record, padded */
	uint16_t type;
	uint16_t zero;
	uint64_t unique;
	int64_t time;
	uint64_t len; /* of the payload */
};

struct rfs_journal {
	int fd;
	struct header *h;
	unsigned char *data; /* the records: (unsigned char *)h + header_size */
	size_t map_size;
	pthread_mutex_t lock; /* serializes appends */
	uint32_t kill_after;  /* the test hook's record types (RFS_TEST_KILL_AFTER_RECORD) */
};

static _Thread_local uint64_t current_unique;

void rfs_journal_set_unique(uint64_t unique)
{
	/* A resend is the same request: recorded as the first time, so that
	 * a second resend finds what the first made. */
	current_unique = unique & ~RESEND;
}

uint64_t rfs_journal_unique(void)
{
	return current_unique;
}

static int map(int fd, struct rfs_journal **out)
{
	struct rfs_journal *j = calloc(1, sizeof(*j));
	struct header h;
	struct stat st;

	if (!j)
		return -ENOMEM;
	j->fd = fd;
	if (fstat(fd, &st) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != MAGIC || h.header_size != sizeof(h) ||
	    (uint64_t)st.st_size != sizeof(h) + h.capacity) {
		free(j);
		return -EPROTO;
	}
	if (h.version != RFS_JOURNAL_VERSION) {
		free(j);
		return -EPROTO;
	}
	j->map_size = (size_t)st.st_size;
	j->h = mmap(NULL, j->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (j->h == MAP_FAILED) {
		int err = -errno;

		free(j);
		return err;
	}
	j->data = (unsigned char *)j->h + sizeof(struct header);
	pthread_mutex_init(&j->lock, NULL);
	*out = j;
	return 0;
}

/*
 * A test hook (tests/integration/t_restart.sh): RFS_TEST_KILL_AFTER_RECORD,
 * a list of record types, kills the process that appends a record of one
 * of them, once per type for the journal's life, right after the record
 * is published and before the change's reply: the moment a resend must
 * not make the change twice.
 */
static uint32_t test_kill_types(void)
{
	const char *s = getenv("RFS_TEST_KILL_AFTER_RECORD");
	uint32_t types = 0;

	while (s && *s) {
		char *end;
		unsigned long t = strtoul(s, &end, 10);

		if (end == s)
			break;
		if (t < 32)
			types |= 1u << t;
		s = *end == ',' ? end + 1 : end;
	}
	return types;
}

int rfs_journal_new(uint64_t capacity, struct rfs_journal **out)
{
	struct header h = {.magic = MAGIC,
			   .version = RFS_JOURNAL_VERSION,
			   .header_size = sizeof(h),
			   .capacity = capacity / ALIGN * ALIGN};
	int fd = rfs_memfd_new("regionfs-journal", sizeof(h) + h.capacity, &h, sizeof(h));
	int err = fd < 0 ? fd : map(fd, out);

	if (err && fd >= 0)
		close(fd);
	if (!err)
		(*out)->kill_after = test_kill_types();
	return err;
}

int rfs_journal_open(int fd, struct rfs_journal **out)
{
	int copy = rfs_memfd_dup(fd);
	int err = copy < 0 ? copy : map(copy, out);

	if (err && copy >= 0)
		close(copy);
	return err;
}

void rfs_journal_free(struct rfs_journal *j)
{
	if (!j)
		return;
	munmap(j->h, j->map_size);
	close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

int rfs_journal_fd(const struct rfs_journal *j)
{
	return j->fd;
}

uint64_t rfs_journal_bytes(struct rfs_journal *j)
{
	return atomic_load_explicit(&j->h->end, memory_order_acquire);
}

uint64_t rfs_journal_end_offset(struct rfs_journal *j)
{
	return sizeof(struct header) + rfs_journal_bytes(j);
}

uint64_t rfs_journal_records(struct rfs_journal *j)
{
	return atomic_load_explicit(&j->h->count, memory_order_acquire);
}

void rfs_rec_init(struct rfs_rec *r, uint16_t type, int64_t time)
{
	r->type = type;
	r->time = time;
	r->unique = current_unique;
	r->len = r->pos = 0;
	r->bad = false;
}

void rfs_rec_put_bytes(struct rfs_rec *r, const void *p, size_t n)
{
	uint32_t len = (uint32_t)n;

	if (n > RFS_REC_MAX || r->len + sizeof(len) + n > RFS_REC_MAX) {
		r->bad = true;
		return;
	}
	memcpy(r->buf + r->len, &len, sizeof(len));
	if (n)
		memcpy(r->buf + r->len + sizeof(len), p, n);
	r->len += sizeof(len) + n;
}

void rfs_rec_put_u64(struct rfs_rec *r, uint64_t v)
{
	rfs_rec_put_bytes(r, &v, sizeof(v));
}

void rfs_rec_put_str(struct rfs_rec *r, const char *s)
{
	uint32_t null = NULL_STR;

	if (s) {
		/* with its NUL, so that a get can hand it out in place */
		rfs_rec_put_bytes(r, s, strlen(s) + 1);
		return;
	}
	if (r->len + sizeof(null) > RFS_REC_MAX) {
		r->bad = true;
		return;
	}
	memcpy(r->buf + r->len, &null, sizeof(null));
	r->len += sizeof(null);
}

/* The next field: its bytes and length, or NULL (r->bad set, or a NULL string). */
static const unsigned char *next_field(struct rfs_rec *r, uint32_t *n)
{
	const unsigned char *p;

	if (r->bad || r->pos + sizeof(*n) > r->len) {
		r->bad = true;
		return NULL;
	}
	memcpy(n, r->buf + r->pos, sizeof(*n));
	r->pos += sizeof(*n);
	if (*n == NULL_STR)
		return NULL;
	if (*n > r->len - r->pos) {
		r->bad = true;
		return NULL;
	}
	p = r->buf + r->pos;
	r->pos += *n;
	return p;
}

const void *rfs_rec_get_bytes(struct rfs_rec *r, size_t *n)
{
	uint32_t len = 0;
	const unsigned char *p = next_field(r, &len);

	if (!p && len == NULL_STR)
		r->bad = true;
	*n = p ? len : 0;
	return p;
}

uint64_t rfs_rec_get_u64(struct rfs_rec *r)
{
	size_t n;
	const void *p = rfs_rec_get_bytes(r, &n);
	uint64_t v = 0;

	if (p && n == sizeof(v))
		memcpy(&v, p, sizeof(v));
	else
		r->bad = true;
	return v;
}

const char *rfs_rec_get_str(struct rfs_rec *r)
{
	uint32_t len = 0;
	const unsigned char *p = next_field(r, &len);

	if (!p)
		return NULL;
	if (!len || p[len - 1] || memchr(p, 0, len) != p + len - 1) {
		r->bad = true;
		return NULL;
	}
	return (const char *)p;
}

int rfs_journal_append(struct rfs_journal *j, struct rfs_rec *r)
{
	struct record rec = {.type = r->type, .unique = r->unique, .time = r->time, .len = r->len};
	uint64_t end;

	if (r->bad)
		return -E2BIG;
	rec.size = (uint32_t)((sizeof(rec) + r->len + ALIGN - 1) / ALIGN * ALIGN);
	pthread_mutex_lock(&j->lock);
	end = atomic_load_explicit(&j->h->end, memory_order_relaxed);
	if (rec.size > j->h->capacity - end) {
		pthread_mutex_unlock(&j->lock);
		return -ENOSPC;
	}
	memcpy(j->data + end, &rec, sizeof(rec));
	memcpy(j->data + end + sizeof(rec), r->buf, r->len);
	atomic_store_explicit(&j->h->count,
			      atomic_load_explicit(&j->h->count, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	/* Published: a process killed before this store left no trace of the record. */
	atomic_store_explicit(&j->h->end, end + rec.size, memory_order_release);
	pthread_mutex_unlock(&j->lock);
	if (r->type < 32 && j->kill_after & (1u << r->type) &&
	    !(atomic_fetch_or(&j->h->killed, 1u << r->type) & (1u << r->type)))
		raise(SIGKILL);
	return 0;
}

void rfs_journal_break(struct rfs_journal *j, const char *why)
{
	int32_t none = 0;

	if (!atomic_compare_exchange_strong(&j->h->broken, &none, 1))
		return;
	snprintf(j->h->why, sizeof(j->h->why), "%s", why);
	atomic_store_explicit(&j->h->broken, 2, memory_order_release);
}

const char *rfs_journal_broken(struct rfs_journal *j)
{
	switch (atomic_load_explicit(&j->h->broken, memory_order_acquire)) {
	case 0:
		return NULL;
	case 2:
		return j->h->why;
	default:
		return "the journal was being marked incomplete when its writer died";
	}
}

/* The record at *at into r, *at moved past it: 1, 0 at the end, -EPROTO. */
static int read_record(struct rfs_journal *j, uint64_t end, uint64_t *at, struct rfs_rec *r)
{
	struct record rec;

	if (*at == end)
		return 0;
	if (end - *at < sizeof(rec))
		return -EPROTO;
	memcpy(&rec, j->data + *at, sizeof(rec));
	if (rec.size < sizeof(rec) || rec.size % ALIGN || rec.size > end - *at ||
	    rec.len > rec.size - sizeof(rec) || rec.len > RFS_REC_MAX)
		return -EPROTO;
	r->type = rec.type;
	r->unique = rec.unique;
	r->time = rec.time;
	r->len = rec.len;
	r->pos = 0;
	r->bad = false;
	memcpy(r->buf, j->data + *at + sizeof(rec), rec.len);
	*at += rec.size;
	return 1;
}

int rfs_journal_replay(struct rfs_journal *j, rfs_journal_fn fn, void *ctx)
{
	uint64_t end = rfs_journal_bytes(j), at = 0;
	struct rfs_rec *r = malloc(sizeof(*r));
	int ret;

	if (!r)
		return -ENOMEM;
	while ((ret = read_record(j, end, &at, r)) == 1) {
		ret = fn(ctx, r);
		if (ret)
			break;
	}
	free(r);
	return ret;
}

uint16_t rfs_journal_made_by(struct rfs_journal *j, uint64_t unique)
{
	uint64_t end = rfs_journal_bytes(j), at = 0;
	uint16_t type = 0;
	struct record rec;

	unique &= ~RESEND;
	if (!unique)
		return 0;
	while (end - at >= sizeof(rec)) {
		memcpy(&rec, j->data + at, sizeof(rec));
		if (rec.size < sizeof(rec) || rec.size % ALIGN || rec.size > end - at)
			break;
		if (rec.unique == unique)
			type = rec.type;
		at += rec.size;
	}
	return type;
}
