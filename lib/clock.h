/* Wall-clock time as lib/ keeps it: nanoseconds since the epoch. */
#ifndef REGIONFS_CLOCK_H
#define REGIONFS_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_REALTIME: file times and flush times are shown to people. */
static inline int64_t rfs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
