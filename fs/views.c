/* A view's deleted backing file, its counted flush, its change notices (views.h). */
#include "fs/views.h"

#include "conf/quote.h"
#include "fs/inval.h"
#include "fs/log.h"

bool rfs_view_check_deleted(struct rfs_mapping *m, const char *name)
{
	static const char what[] = "of a view was deleted; the view keeps serving the deleted "
				   "file's bytes until it is removed";
	char qn[256], qb[256];
	struct rfs_mapping_info i;
	bool first;

	if (!rfs_mapping_backing_deleted(m, &first))
		return false;
	if (!first)
		return true;
	rfs_mapping_describe(m, &i);
	rfs_quote(i.backing, qb, sizeof(qb));
	if (name) {
		rfs_quote(name, qn, sizeof(qn));
		rfs_log(RFS_LOG_WARN, "view %s: backing file %s %s", qn, qb, what);
	} else {
		rfs_log(RFS_LOG_WARN, "backing file %s %s", qb, what);
	}
	return true;
}

int rfs_view_flush(struct rfs_daemon *d, struct rfs_mapping *m, const char *name, bool durable)
{
	int err;

	rfs_view_check_deleted(m, name);
	err = rfs_mapping_sync(m, durable);
	rfs_add(&d->counters->flushes, 1);
	if (err)
		rfs_add(&d->counters->flush_errors, 1);
	return err;
}

void rfs_view_changed(void *ctx, struct rfs_mapping *view, uint64_t off, uint64_t len)
{
	struct rfs_daemon *d = ctx;
	struct rfs_node *node = rfs_mapping_node(view);

	/* No node: a removed region that only its windows hold; nothing caches it. */
	if (node)
		rfs_inval_post(d->inval, rfs_ino(d, node), off, len);
}
