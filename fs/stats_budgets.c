/* Budgets as the stats files show them: directories' and owners'. */
#include "fs/stats_budgets.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/ledger.h"
#include "lib/store.h"

/* A directory's budget: its size and the bytes charged to it, or false. */
bool rfs_budget_of(struct rfs_node *dir, struct rfs_store_usage *u)
{
	struct rfs_store *s = rfs_node_budget(dir);

	if (s)
		rfs_store_usage(s, u);
	return s;
}

/* One budget by owner, as the stats files show it. */
struct owner_row {
	enum rfs_owner_kind kind;
	uint32_t id;
	uint64_t limit, used;
	char name[64]; /* the user or group name, or the number */
};

struct owner_rows {
	struct owner_row *v;
	size_t n, cap;
	const struct rfs_reader *who;
};

/* May who see the budget of (kind, id)? Root sees all; others their own. */
static bool owner_visible(const struct rfs_reader *who, enum rfs_owner_kind k, uint32_t id)
{
	if (!who || who->uid == 0)
		return true;
	if (k == RFS_OWNER_USER)
		return who->uid == id;
	if (who->gid == id)
		return true;
	for (size_t i = 0; i < who->ngroups; i++)
		if (who->groups[i] == id)
			return true;
	return false;
}

static void collect_owner(void *ctx, enum rfs_owner_kind k, uint32_t id, uint64_t limit,
			  uint64_t used)
{
	struct owner_rows *rows = ctx;
	struct owner_row *v;

	if (!owner_visible(rows->who, k, id))
		return;
	if (rows->n == rows->cap) {
		v = reallocarray(rows->v, rows->cap ? rows->cap * 2 : 8, sizeof(*v));
		if (!v)
			return;
		rows->v = v;
		rows->cap = rows->cap ? rows->cap * 2 : 8;
	}
	rows->v[rows->n++] = (struct owner_row){.kind = k, .id = id, .limit = limit, .used = used};
}

/* Users first, then groups, each by id: a stable order for scripts. */
static int owner_cmp(const void *a, const void *b)
{
	const struct owner_row *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind == RFS_OWNER_USER ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The budgets by owner who may see, with names (looked up after the
 * ledger's lock is let go: NSS may be slow). Free rows->v. */
static void owner_rows(struct rfs_daemon *d, const struct rfs_reader *who, struct owner_rows *rows)
{
	struct rfs_ledger *l = atomic_load(&d->ledger);
	char buf[4096];

	*rows = (struct owner_rows){.who = who};
	if (l)
		rfs_ledger_each(l, collect_owner, rows);
	if (rows->n)
		qsort(rows->v, rows->n, sizeof(*rows->v), owner_cmp);
	for (size_t i = 0; i < rows->n; i++) {
		struct owner_row *r = &rows->v[i];
		struct passwd pw, *pwp = NULL;
		struct group gr, *grp = NULL;
		const char *name = NULL;

		if (r->kind == RFS_OWNER_USER && !getpwuid_r(r->id, &pw, buf, sizeof(buf), &pwp) &&
		    pwp)
			name = pwp->pw_name;
		else if (r->kind == RFS_OWNER_GROUP &&
			 !getgrgid_r(r->id, &gr, buf, sizeof(buf), &grp) && grp)
			name = grp->gr_name;
		if (name)
			snprintf(r->name, sizeof(r->name), "%s", name);
		else
			snprintf(r->name, sizeof(r->name), "%u", r->id);
	}
}

static const char *owner_kind_name(enum rfs_owner_kind k)
{
	return k == RFS_OWNER_USER ? "user" : "group";
}

/* A budget by owner is a row "user:NAME user SIZE ... USED ..." (or group). */
void rfs_stats_owner_lines(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	struct owner_rows rows;
	char label[80];

	owner_rows(d, who, &rows);
	for (size_t i = 0; i < rows.n; i++) {
		const struct owner_row *r = &rows.v[i];

		snprintf(label, sizeof(label), "%s:%s", owner_kind_name(r->kind), r->name);
		rfs_text_put_quoted(t, label);
		rfs_text_printf(t, " %s %llu - - - - - %llu - - - - -\n", owner_kind_name(r->kind),
				(unsigned long long)r->limit, (unsigned long long)r->used);
	}
	free(rows.v);
}

void rfs_json_owners(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	struct owner_rows rows;

	owner_rows(d, who, &rows);
	for (size_t i = 0; i < rows.n; i++) {
		const struct owner_row *r = &rows.v[i];

		rfs_text_printf(t, "%s\n    {\"kind\": \"%s\", \"id\": %u, ", i ? "," : "",
				owner_kind_name(r->kind), r->id);
		rfs_text_put_json_name(t, "name", r->name);
		rfs_text_printf(t, ", \"budget\": %llu, \"used\": %llu}",
				(unsigned long long)r->limit, (unsigned long long)r->used);
	}
	if (rows.n)
		rfs_text_printf(t, "\n  ");
	free(rows.v);
}

struct budget_walk {
	struct rfs_text *t;
	bool used; /* regionfs_budget_used_bytes, else regionfs_budget_bytes */
};

static int budget_line(void *ctx, const char *path, struct rfs_node *node)
{
	struct budget_walk *w = ctx;
	struct rfs_store_usage u;

	if (!rfs_budget_of(node, &u))
		return 0;
	rfs_text_printf(w->t, "regionfs_budget%s_bytes{dir=\"", w->used ? "_used" : "");
	rfs_text_put_label(w->t, path);
	rfs_text_printf(w->t, "\"} %llu\n",
			(unsigned long long)(w->used ? u.bytes_used : u.bytes_total));
	return 0;
}

static void owner_gauges(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	static const char *const names[] = {"regionfs_owner_budget_bytes",
					    "regionfs_owner_budget_used_bytes"};
	static const char *const helps[] = {
		"A user's or group's budget: the most its regions may take.",
		"Bytes of regions a user or group owns, as its budget counts them."};
	struct owner_rows rows;

	owner_rows(d, who, &rows);
	for (int m = 0; m < 2; m++) {
		rfs_text_printf(t, "# HELP %s %s\n# TYPE %s gauge\n", names[m], helps[m], names[m]);
		for (size_t i = 0; i < rows.n; i++) {
			rfs_text_printf(t, "%s{kind=\"%s\",id=\"%u\",name=\"", names[m],
					owner_kind_name(rows.v[i].kind), rows.v[i].id);
			rfs_text_put_label(t, rows.v[i].name);
			rfs_text_printf(t, "\"} %llu\n",
					(unsigned long long)(m ? rows.v[i].used : rows.v[i].limit));
		}
	}
	free(rows.v);
}

void rfs_metrics_budgets(struct rfs_daemon *d, const struct rfs_reader *who, struct rfs_text *t)
{
	struct budget_walk w = {t, false};

	rfs_text_printf(t, "# HELP regionfs_budget_bytes A directory's budget: the most its "
			   "regions (and budgets below it) may take.\n"
			   "# TYPE regionfs_budget_bytes gauge\n");
	rfs_ns_walk_dirs(d->ns, who, budget_line, &w);
	rfs_text_printf(t, "# HELP regionfs_budget_used_bytes Bytes charged to a directory's "
			   "budget: its regions' pages and the budgets below it.\n"
			   "# TYPE regionfs_budget_used_bytes gauge\n");
	w.used = true;
	rfs_ns_walk_dirs(d->ns, who, budget_line, &w);
	owner_gauges(d, who, t);
}
