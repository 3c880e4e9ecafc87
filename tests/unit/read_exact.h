/* Unit tests: read exactly len bytes of a mapping at off into buf. */
#ifndef REGIONFS_TESTS_READ_EXACT_H
#define REGIONFS_TESTS_READ_EXACT_H

#include <check.h>
#include <string.h>

#include "lib/mapping.h"

static inline void rd(struct rfs_mapping *m, void *buf, uint64_t off, size_t len)
{
	struct rfs_io io;
	size_t got = 0;

	ck_assert_int_eq(rfs_mapping_read_begin(m, off, len, &io), 0);
	for (int i = 0; i < io.n; i++) {
		memcpy((char *)buf + got, io.iov[i].iov_base, io.iov[i].iov_len);
		got += io.iov[i].iov_len;
	}
	rfs_mapping_read_end(m, &io);
	ck_assert_uint_eq(got, len);
}

#endif
