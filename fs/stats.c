/* The contents of .regionfs/stats and .regionfs/metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/quote.h"
#include "fs/stats.h"
#include "fs/restart.h"
#include "fs/names.h"
#include "fs/views.h"
#include "fs/uring.h"
#include "fs/stats_budgets.h"

static const char *const op_names[] = {
#define RFS_OP_NAME(name) #name,
	RFS_OPS(RFS_OP_NAME)
#undef RFS_OP_NAME
};

/* One row of stats, as both stats and stats.json show it. */
struct stats_row {
	const char *name;
	const char *kind;
	uint64_t size, offset, dirty, resident, private_bytes;
	const char *backing; /* NULL: a region */
	const char *access;
	unsigned int opens;
	char last_flush[32]; /* ISO 8601 UTC, "" if never */
	const char *lifetime;
	const char *deleted; /* "yes", "no", or NULL for a region */
	unsigned int seals;  /* RFS_SEAL_* */
};

static void collect_row(const char *path, struct rfs_node *node, struct stats_row *r)
{
	struct rfs_mapping_info i;
	bool deleted = rfs_view_check_deleted(rfs_node_mapping(node), path);

	rfs_mapping_describe(rfs_node_mapping(node), &i);
	*r = (struct stats_row){
		.name = path,
		.kind = rfs_kind_name(i.kind),
		.size = i.size,
		.offset = i.offset,
		.dirty = i.dirty,
		.resident = i.resident,
		.private_bytes = i.private_bytes,
		.backing = i.backing,
		.access = rfs_access_name(&i),
		.opens = rfs_node_opens(node),
		.lifetime = rfs_lifetime_name(node),
		.deleted = i.kind == RFS_KIND_REGION ? NULL
			   : deleted		     ? "yes"
						     : "no",
		.seals = rfs_mapping_seals(rfs_node_mapping(node)),
	};
	if (i.last_flush_ns) {
		time_t sec = (time_t)(i.last_flush_ns / 1000000000);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(r->last_flush, sizeof(r->last_flush), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
}

static int stats_line(void *ctx, const char *path, struct rfs_node *node)
{
	struct rfs_text *t = ctx;
	char seals[RFS_SEALS_TEXT];
	struct stats_row r;

	collect_row(path, node, &r);
	rfs_text_put_quoted(t, r.name);
	rfs_text_printf(t, " %s %llu ", r.kind, (unsigned long long)r.size);
	rfs_text_put_quoted(t, r.backing ? r.backing : "-");
	rfs_text_printf(t, " %llu %s %u %llu %llu %s %s %s %llu %s\n", (unsigned long long)r.offset,
			r.access, r.opens, (unsigned long long)r.dirty,
			(unsigned long long)r.resident, r.last_flush[0] ? r.last_flush : "-",
			r.lifetime, r.deleted ? r.deleted : "-",
			(unsigned long long)r.private_bytes, rfs_seals_text(r.seals, seals));
	return 0;
}

/* A directory that makes its new regions close ones: the other columns do not apply. */
static bool close_dir(struct rfs_node *node)
{
	return rfs_node_lifetime(node) == RFS_LIFETIME_CLOSE && !rfs_node_tag(node);
}

/* A directory is a row where it makes close regions or has a budget:
 * size is the budget, resident what is charged to it. */
static int stats_dir_line(void *ctx, const char *path, struct rfs_node *node)
{
	struct rfs_text *t = ctx;
	struct rfs_store_usage u;
	bool budget = rfs_budget_of(node, &u);

	if (!close_dir(node) && !budget)
		return 0;
	rfs_text_put_quoted(t, path);
	if (budget)
		rfs_text_printf(t, " dir %llu - - - - - %llu - ", (unsigned long long)u.bytes_total,
				(unsigned long long)u.bytes_used);
	else
		rfs_text_printf(t, " dir - - - - - - - - ");
	rfs_text_printf(t, "%s - - -\n", close_dir(node) ? "close" : "persist");
	return 0;
}

/* Who serves regions, the stats files' last word. */
static const char *served_by(struct rfs_daemon *d)
{
	const char *why = atomic_load(&d->data_path);

	return why ? why : "daemon";
}

void rfs_stats_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	rfs_text_printf(t, "name kind size backing offset access opens dirty resident last_flush "
			   "lifetime deleted private seals\n");
	rfs_ns_walk_as(d->ns, who, stats_line, t);
	rfs_ns_walk_dirs(d->ns, who, stats_dir_line, t);
	rfs_stats_owner_lines(d, who, t);
	rfs_text_printf(t, "# regions: %s store%s, served by the %s\n",
			rfs_store_kind_name(d->store),
			rfs_store_noswap(d->store) ? " (noswap)" : "", served_by(d));
	rfs_restart_stats(d, t);
}

struct json_walk {
	struct rfs_text *t;
	bool first;
};

static int json_row(void *ctx, const char *path, struct rfs_node *node)
{
	struct json_walk *w = ctx;
	struct rfs_text *t = w->t;
	struct stats_row r;

	collect_row(path, node, &r);
	rfs_text_printf(t, "%s\n    {", w->first ? "" : ",");
	w->first = false;
	rfs_text_put_json_name(t, "name", r.name);
	rfs_text_printf(t, ", \"kind\": \"%s\", \"size\": %llu, ", r.kind,
			(unsigned long long)r.size);
	if (r.backing) {
		rfs_text_put_json_name(t, "backing", r.backing);
		rfs_text_printf(t, ", \"offset\": %llu, \"deleted\": %s",
				(unsigned long long)r.offset,
				!strcmp(r.deleted, "yes") ? "true" : "false");
	} else {
		rfs_text_printf(t, "\"backing\": null, \"backing_token\": null, \"offset\": 0, "
				   "\"deleted\": null");
	}
	rfs_text_printf(t,
			", \"access\": \"%s\", \"opens\": %u, \"dirty\": %llu, \"resident\": %llu, "
			"\"private\": %llu, \"lifetime\": \"%s\", \"last_flush\": ",
			r.access, r.opens, (unsigned long long)r.dirty,
			(unsigned long long)r.resident, (unsigned long long)r.private_bytes,
			r.lifetime);
	if (r.last_flush[0])
		rfs_text_printf(t, "\"%s\"", r.last_flush);
	else
		rfs_text_printf(t, "null");
	rfs_text_printf(t, ", \"seals\": [");
	for (unsigned int b = 0, n = 0; b < RFS_DECL_SEAL_COUNT; b++)
		if (r.seals & (1u << b))
			rfs_text_printf(t, "%s\"%s\"", n++ ? ", " : "", rfs_seal_word(b));
	rfs_text_printf(t, "]}");
	return 0;
}

static int json_dir(void *ctx, const char *path, struct rfs_node *node)
{
	struct json_walk *w = ctx;
	struct rfs_store_usage u;
	bool budget = rfs_budget_of(node, &u);

	if (!close_dir(node) && !budget)
		return 0;
	rfs_text_printf(w->t, "%s\n    {", w->first ? "" : ",");
	w->first = false;
	rfs_text_put_json_name(w->t, "name", path);
	rfs_text_printf(w->t, ", \"lifetime\": \"%s\", ", close_dir(node) ? "close" : "persist");
	if (budget)
		rfs_text_printf(w->t, "\"budget\": %llu, \"budget_used\": %llu}",
				(unsigned long long)u.bytes_total,
				(unsigned long long)u.bytes_used);
	else
		rfs_text_printf(w->t, "\"budget\": null, \"budget_used\": null}");
	return 0;
}

void rfs_stats_json_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	struct json_walk w = {.t = t, .first = true};

	rfs_text_printf(t,
			"{\n  \"version\": \"%s\",\n  \"regions\": {\"store\": \"%s\", "
			"\"noswap\": %s, \"served_by\": ",
			RFS_VERSION, rfs_store_kind_name(d->store),
			rfs_store_noswap(d->store) ? "true" : "false");
	rfs_text_put_json_string(t, served_by(d));
	rfs_text_printf(t, "},\n  \"mappings\": [");
	rfs_ns_walk_as(d->ns, who, json_row, &w);
	rfs_text_printf(t, "%s],\n  \"dirs\": [", w.first ? "" : "\n  ");
	w.first = true;
	rfs_ns_walk_dirs(d->ns, who, json_dir, &w);
	rfs_text_printf(t, "%s],\n  \"owners\": [", w.first ? "" : "\n  ");
	rfs_json_owners(d, who, t);
	rfs_text_printf(t, "]\n}\n");
}

struct gauge {
	const char *name, *help;
	uint64_t (*value)(const struct rfs_mapping_info *i, struct rfs_node *node);
	enum { ALL, VIEWS, REGIONS } shown; /* the mappings that have it */
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

static uint64_t g_close(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)i;
	return rfs_node_lifetime(n) == RFS_LIFETIME_CLOSE;
}

static uint64_t g_flushed(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return (uint64_t)(i->last_flush_ns / 1000000000);
}

static uint64_t g_deleted(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)n;
	return i->backing_deleted;
}

static uint64_t g_windows(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)i;
	return rfs_region_windows(rfs_node_mapping(n));
}

static uint64_t g_seals(const struct rfs_mapping_info *i, struct rfs_node *n)
{
	(void)i;
	return rfs_mapping_seals(rfs_node_mapping(n));
}

static const struct gauge gauges[] = {
	{"regionfs_mapping_size_bytes", "Size of the mapping (a view's window length).", g_size,
	 ALL},
	{"regionfs_mapping_dirty_bytes", "Bytes written through the mapping since its last flush.",
	 g_dirty, ALL},
	{"regionfs_mapping_resident_bytes", "Bytes of the mapping's contents in memory.",
	 g_resident, ALL},
	{"regionfs_mapping_private_bytes",
	 "Private copies of a cow view's pages, not yet committed or discarded; counted against "
	 "the size cap.",
	 g_private, ALL},
	{"regionfs_mapping_open_files", "Open file descriptions of the mapping.", g_opens, ALL},
	{"regionfs_mapping_last_flush_timestamp_seconds",
	 "Time of the mapping's last flush to its backing file (0: never).", g_flushed, ALL},
	{"regionfs_mapping_lifetime_close",
	 "1: a region removed with its last user (lifetime close); 0: persist.", g_close, ALL},
	{"regionfs_view_backing_deleted",
	 "1 if the view's backing file was unlinked: the view serves the deleted file's bytes.",
	 g_deleted, VIEWS},
	{"regionfs_region_windows",
	 "Windows (views) of the region alive now; while it has any, or opens made then, its "
	 "opens are served by the daemon, not by the kernel.",
	 g_windows, REGIONS},
	{"regionfs_region_seals",
	 "Seals of the region, as bits: 1 shrink, 2 grow, 4 write, 8 future_write (0: none).",
	 g_seals, REGIONS},
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
	if ((w->g->shown == VIEWS && i.kind != RFS_KIND_VIEW) ||
	    (w->g->shown == REGIONS && i.kind != RFS_KIND_REGION))
		return 0;
	rfs_text_printf(w->t, "%s{name=\"", w->g->name);
	rfs_text_put_label(w->t, path);
	rfs_text_printf(w->t, "\",kind=\"%s\",access=\"%s\",backing=\"", rfs_kind_name(i.kind),
			rfs_access_name(&i));
	rfs_text_put_label(w->t, i.backing ? i.backing : "");
	rfs_text_printf(w->t, "\"} %llu\n", (unsigned long long)w->g->value(&i, node));
	return 0;
}

static void counter(struct rfs_text *t, const char *name, const char *help, _Atomic uint64_t *v)
{
	rfs_text_printf(t, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
			(unsigned long long)atomic_load_explicit(v, memory_order_relaxed));
}

void rfs_metrics_render(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	struct rfs_counters *c = d->counters;
	struct rfs_store_usage su;

	rfs_store_usage(d->store, &su);

	for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		struct gauge_walk w = {t, &gauges[g]};

		rfs_text_printf(t, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name,
				gauges[g].help, gauges[g].name);
		rfs_ns_walk_as(d->ns, who, gauge_line, &w);
	}
	rfs_metrics_budgets(d, who, t);
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
	counter(t, "regionfs_regions_reclaimed_total",
		"Regions of lifetime close removed when their last user went.", &c->reclaimed);
	counter(t, "regionfs_commits_total", "Commits of cow views into their backing files.",
		&c->commits);
	counter(t, "regionfs_commit_errors_total", "Commits that failed (changes kept private).",
		&c->commit_errors);
	counter(t, "regionfs_discards_total", "Discards of cow views' private changes.",
		&c->discards);
	counter(t, "regionfs_faults_total",
		"Requests failed by a fault in mapped memory (EIO/ENOSPC), daemon unharmed.",
		&c->faults);
	counter(t, "regionfs_writeback_errors_total",
		"Write-backs of client mmap stores refused (ENOSPC, EIO): those stores are lost.",
		&c->writeback_errors);
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
		(unsigned long long)su.bytes_used, (unsigned long long)su.bytes_total,
		(unsigned long long)rfs_windows_mapped(d->win));
	rfs_text_printf(
		t,
		"# HELP regionfs_regions_info Where regions keep their bytes and who serves "
		"them: the kernel (FUSE passthrough) or the daemon; noswap: kept out of swap.\n"
		"# TYPE regionfs_regions_info gauge\n"
		"regionfs_regions_info{store=\"%s\",noswap=\"%s\",served_by=\"%s\"} 1\n",
		rfs_store_kind_name(d->store), rfs_store_noswap(d->store) ? "yes" : "no",
		atomic_load(&d->passthrough) ? "kernel" : "daemon");
	rfs_restart_metrics(d, t);
}
