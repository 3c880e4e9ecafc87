/* The main() every unit test binary shares: run one suite, forked per test. */
#ifndef REGIONFS_CHECK_MAIN_H
#define REGIONFS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int rfs_check_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_set_fork_status(sr, CK_FORK_GETENV); /* fork unless CK_FORK=no */
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
