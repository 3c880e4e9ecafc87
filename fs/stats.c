/* The contents of .regionfs/stats and .regionfs/metrics. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fs/control.h"
#include "fs/uring.h"

static const char *const op_names[] = {
#define RFS_OP_NAME(name) #name,
	RFS_OPS(RFS_OP_NAME)
#undef RFS_OP_NAME
};

static const char *kind_name(enum rfs_kind k)
{
	return k == RFS_KIND_VIEW ? "view" : "region";
}

static const char *access_name(const struct rfs_mapping_info *i)
{
	if (i->kind == RFS_KIND_REGION)
		return "rw";
	return i->access == RFS_VIEW_RO ? "ro" : i->access == RFS_VIEW_COW ? "cow" : "rw";
}

/* Names and paths in stats are single tokens: escape what would split them. */
static void put_token(struct rfs_text *t, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '\\' || c == 0x7f)
			rfs_text_printf(t, "\\x%02x", c);
		else
			rfs_text_printf(t, "%c", c);
	}
}

static int stats_line(void *ctx, const char *path, struct rfs_node *node)
{
	struct rfs_text *t = ctx;
	struct rfs_mapping_info i;
	char when[32] = "-";

	rfs_mapping_describe(rfs_node_mapping(node), &i);
	if (i.last_flush_ns) {
		time_t sec = (time_t)(i.last_flush_ns / 1000000000);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	put_token(t, path);
	rfs_text_printf(t, " %s %llu ", kind_name(i.kind), (unsigned long long)i.size);
	put_token(t, i.backing ? i.backing : "-");
	rfs_text_printf(t, " %llu %s %u %llu %llu %s %llu\n", (unsigned long long)i.offset,
			access_name(&i), rfs_node_opens(node), (unsigned long long)i.dirty,
			(unsigned long long)i.resident, when, (unsigned long long)i.private_bytes);
	return 0;
}

void rfs_stats_render(struct rfs_daemon *d, struct rfs_text *t)
{
	rfs_text_printf(t, "name kind size backing offset access opens dirty resident last_flush "
			   "private\n");
	rfs_ns_walk(d->ns, stats_line, t);
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void put_label(struct rfs_text *t, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			rfs_text_printf(t, "\\%c", *s);
		else if (*s == '\n')
			rfs_text_printf(t, "\\n");
		else
			rfs_text_printf(t, "%c", *s);
	}
}

struct gauge {
	const char *name, *help;
	uint64_t (*value)(const struct rfs_mapping_info *i, struct rfs_node *node);
};

static uint64_t g_size(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return i->size;
}

static uint64_t g_dirty(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return i->dirty;
}

static uint64_t g_resident(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return i->resident;
}

static uint64_t g_private(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return i->private_bytes;
}

static uint64_t g_opens(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)i;
	return rfs_node_opens(n);
}

static uint64_t g_flushed(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return (uint64_t)(i->last_flush_ns / 1000000000);
}

static const struct gauge gauges[] = {
	{"regionfs_mapping_size_bytes", "Size of the mapping (a view's window length).", g_size},
	{"regionfs_mapping_dirty_bytes", "Bytes written through the mapping since its last flush.",
	 g_dirty},
	{"regionfs_mapping_resident_bytes", "Bytes of the mapping's contents in memory.",
	 g_resident},
	{"regionfs_mapping_private_bytes",
	 "Private copies of a cow view's pages, not yet committed or discarded; counted against "
	 "the size cap.",
	 g_private},
	{"regionfs_mapping_open_files", "Open file descriptions of the mapping.", g_opens},
	{"regionfs_mapping_last_flush_timestamp_seconds",
	 "Time of the mapping's last flush to its backing file (0: never).", g_flushed},
};

struct gauge_walk {
	struct rfs_text *t;
	const struct gauge *g;
};

static int gauge_line(void *ctx, const char *path, struct rfs_node *node)
{
	struct gauge_walk *w = ctx;
	struct rfs_mapping_info i;

	rfs_mapping_describe(rfs_node_mapping(node), &i);
	rfs_text_printf(w->t, "%s{name=\"", w->g->name);
	put_label(w->t, path);
	rfs_text_printf(w->t, "\",kind=\"%s\",access=\"%s\",backing=\"", kind_name(i.kind),
			access_name(&i));
	put_label(w->t, i.backing ? i.backing : "");
	rfs_text_printf(w->t, "\"} %llu\n", (unsigned long long)w->g->value(&i, node));
	return 0;
}

static void counter(struct rfs_text *t, const char *name, const char *help, _Atomic uint64_t *v)
{
	rfs_text_printf(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
			(unsigned long long)atomic_load_explicit(v, memory_order_relaxed));
}

void rfs_metrics_render(struct rfs_daemon *d, struct rfs_text *t)
{
	struct rfs_counters *c = &d->counters;

	for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		struct gauge_walk w = {t, &gauges[g]};

		rfs_text_printf(t, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
				gauges[g].help, gauges[g].name);
		rfs_ns_walk(d->ns, gauge_line, &w);
	}
	rfs_text_printf(t, "# HELP regionfs_requests_total Requests served, by operation.\n"
			   "# TYPE regionfs_requests_total counter\n");
	for (size_t i = 0; i < RFS_OP_COUNT; i++)
		rfs_text_printf(
			t, "regionfs_requests_total{op=\"%s\"} %llu\n", op_names[i],
			(unsigned long long)atomic_load_explicit(&c->ops[i], memory_order_relaxed));
	counter(t, "regionfs_read_bytes_total", "Bytes returned by reads.", &c->bytes_read);
	counter(t, "regionfs_written_bytes_total", "Bytes accepted by writes.", &c->bytes_written);
	counter(t, "regionfs_flushes_total", "Flushes of views to their backing files.",
		&c->flushes);
	counter(t, "regionfs_flush_errors_total", "Flushes that failed.", &c->flush_errors);
	counter(t, "regionfs_commits_total", "Commits of cow views into their backing files.",
		&c->commits);
	counter(t, "regionfs_commit_errors_total", "Commits that failed (changes kept private).",
		&c->commit_errors);
	counter(t, "regionfs_discards_total", "Discards of cow views' private changes.",
		&c->discards);
	counter(t, "regionfs_faults_total",
		"Requests failed by a fault in mapped memory (EIO/ENOSPC), daemon unharmed.",
		&c->faults);
	rfs_text_printf(t,
			"# HELP regionfs_io_uring_requests_total Requests served through io_uring "
			"rings (-o io_uring).\n"
			"# TYPE regionfs_io_uring_requests_total counter\n"
			"regionfs_io_uring_requests_total %llu\n",
			(unsigned long long)rfs_uring_requests(d->uring));
	rfs_text_printf(
		t,
		"# HELP regionfs_memory_used_bytes Memory charged to the cap: regions and cow "
		"views' private pages.\n"
		"# TYPE regionfs_memory_used_bytes gauge\n"
		"regionfs_memory_used_bytes %llu\n"
		"# HELP regionfs_memory_cap_bytes The cap (size=).\n"
		"# TYPE regionfs_memory_cap_bytes gauge\n"
		"regionfs_memory_cap_bytes %llu\n"
		"# HELP regionfs_windows_mapped_bytes Bytes of backing files mapped by views.\n"
		"# TYPE regionfs_windows_mapped_bytes gauge\n"
		"regionfs_windows_mapped_bytes %llu\n",
		(unsigned long long)rfs_account_used(&d->acct), (unsigned long long)d->acct.cap,
		(unsigned long long)rfs_windows_mapped(d->win));
}
