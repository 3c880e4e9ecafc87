/* Windows of regions and how region opens are served: see lib/regwin.h. */
#include "lib/regwin.h"

#include <errno.h>

#include "lib/mapping_i.h"

static struct rfs_regwin *regwin_of(struct rfs_mapping *m)
{
	return m->ops->regwin ? m->ops->regwin(m) : NULL;
}

void rfs_regwin_init(struct rfs_regwin *rw)
{
	pthread_mutex_init(&rw->lock, NULL);
}

void rfs_regwin_destroy(struct rfs_regwin *rw)
{
	pthread_mutex_destroy(&rw->lock);
}

void rfs_regwin_changed(struct rfs_regwin *rw, struct rfs_mapping *region, uint64_t off,
			uint64_t len)
{
	pthread_mutex_lock(&rw->lock);
	/* Held across the notice: the last window cannot unregister meanwhile. */
	if (rw->windows && len)
		rfs_backing_changed(rw->w, rw->b, region, off, len);
	pthread_mutex_unlock(&rw->lock);
}

int rfs_regwin_attach(struct rfs_mapping *region, struct rfs_windows *w, struct rfs_backing *b)
{
	struct rfs_regwin *rw = regwin_of(region);
	int err = 0;

	if (!rw)
		return -EINVAL;
	pthread_mutex_lock(&rw->lock);
	if (rw->kernel_opens) {
		err = -EBUSY;
	} else if (rw->windows++ == 0) {
		rw->w = w;
		rw->b = b;
		/* Every byte: the region's cache drops whatever a window changes. */
		rfs_backing_attach(w, b, region, 0, UINT64_MAX);
	}
	pthread_mutex_unlock(&rw->lock);
	if (!err)
		rfs_mapping_hold(region);
	return err;
}

void rfs_regwin_detach(struct rfs_mapping *region)
{
	struct rfs_regwin *rw = regwin_of(region);

	pthread_mutex_lock(&rw->lock);
	if (--rw->windows == 0) {
		rfs_backing_detach(rw->w, rw->b, region);
		rw->w = NULL;
		rw->b = NULL;
	}
	pthread_mutex_unlock(&rw->lock);
	/* Last: this may free the region, and rw with it. */
	rfs_mapping_free(region);
}

bool rfs_region_serve_open(struct rfs_mapping *m, bool kernel_ok, bool *fresh)
{
	struct rfs_regwin *rw = regwin_of(m);
	bool kernel;

	*fresh = false;
	if (!rw)
		return false;
	pthread_mutex_lock(&rw->lock);
	kernel = kernel_ok && !rw->windows && !rw->daemon_opens;
	if (kernel) {
		rw->kernel_opens++;
		rw->kernel_since = true;
	} else {
		/* The kernel's writes went around the FUSE page cache. */
		*fresh = rw->kernel_since;
		rw->kernel_since = false;
		rw->daemon_opens++;
	}
	pthread_mutex_unlock(&rw->lock);
	return kernel;
}

void rfs_region_serve_close(struct rfs_mapping *m, bool kernel)
{
	struct rfs_regwin *rw = regwin_of(m);

	if (!rw)
		return;
	pthread_mutex_lock(&rw->lock);
	if (kernel) {
		rw->kernel_opens--;
		rw->kernel_since = true; /* it may have written until now */
	} else {
		rw->daemon_opens--;
	}
	pthread_mutex_unlock(&rw->lock);
}

unsigned int rfs_region_windows(struct rfs_mapping *m)
{
	struct rfs_regwin *rw = regwin_of(m);
	unsigned int n = 0;

	if (rw) {
		pthread_mutex_lock(&rw->lock);
		n = rw->windows;
		pthread_mutex_unlock(&rw->lock);
	}
	return n;
}
