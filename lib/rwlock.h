/*
 * Reader-writer locks that prefer writers. glibc's default prefers readers,
 * so a steady stream of readers (reads of a region, lookups in a busy tree)
 * would starve a writer (a resize, a rename) forever. The writer-preferring
 * kind is non-recursive: no thread may take such a lock shared twice.
 */
#ifndef REGIONFS_RWLOCK_H
#define REGIONFS_RWLOCK_H

#include <pthread.h>

static inline void rfs_rwlock_init(pthread_rwlock_t *lock)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
}

#endif
