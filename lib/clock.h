/*
 * Wall-clock times as the namespace keeps them: signed nanoseconds since
 * the epoch (CLOCK_REALTIME), and their conversion to and from timespec.
 * Header-only; no state.
 */
#ifndef REGIONFS_CLOCK_H
#define REGIONFS_CLOCK_H

#include <stdint.h>
#include <time.h>

#define RFS_NS_PER_SEC 1000000000

/* Now, in ns since the epoch. */
static inline int64_t rfs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * RFS_NS_PER_SEC + ts.tv_nsec;
}

/* ns as a timespec whose tv_nsec is in [0, 1e9), also before the epoch. */
static inline struct timespec rfs_ns_to_ts(int64_t ns)
{
	struct timespec ts = {.tv_sec = ns / RFS_NS_PER_SEC, .tv_nsec = ns % RFS_NS_PER_SEC};

	if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += RFS_NS_PER_SEC;
	}
	return ts;
}

static inline int64_t rfs_ts_to_ns(struct timespec ts)
{
	return (int64_t)ts.tv_sec * RFS_NS_PER_SEC + ts.tv_nsec;
}

#endif
