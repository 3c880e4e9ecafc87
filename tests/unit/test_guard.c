/*
 * Unit tests for lib/guard.c: a SIGBUS inside a guarded copy becomes -EIO,
 * again and again (the signal is not left blocked); one outside the guarded
 * range still kills the process.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "lib/guard.h"

static size_t page;
static int fd = -1;
static unsigned char *map; /* 2 pages of a temporary file, MAP_SHARED */

/* Map two pages of a fresh temporary file holding 0x5a. */
static void setup(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];
	unsigned char *buf;

	page = (size_t)sysconf(_SC_PAGESIZE);
	ck_assert_int_eq(rfs_guard_init(), 0);
	snprintf(path, sizeof(path), "%s/rfs-guard-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(unlink(path), 0);
	buf = malloc(2 * page);
	ck_assert_ptr_nonnull(buf);
	memset(buf, 0x5a, 2 * page);
	ck_assert_int_eq(write(fd, buf, 2 * page), (ssize_t)(2 * page));
	free(buf);
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
}

static void teardown(void)
{
	ck_assert_int_eq(munmap(map, 2 * page), 0);
	ck_assert_int_eq(close(fd), 0);
}

/* Truncate the file under the mapping: touching it now raises SIGBUS. */
static void truncate_file(void)
{
	ck_assert_int_eq(ftruncate(fd, 0), 0);
}

static bool sigbus_blocked(void)
{
	sigset_t cur;

	ck_assert_int_eq(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	return sigismember(&cur, SIGBUS) == 1;
}

static bool all_bytes(const unsigned char *p, size_t n, unsigned char c)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

START_TEST(init_idempotent)
{
	struct sigaction sa;

	ck_assert_int_eq(rfs_guard_init(), 0);
	ck_assert_int_eq(rfs_guard_init(), 0);
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &sa), 0);
	ck_assert(sa.sa_flags & SA_SIGINFO);
	ck_assert(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}
END_TEST

START_TEST(copy_normal)
{
	unsigned char *dst = malloc(2 * page);

	ck_assert_ptr_nonnull(dst);
	memset(dst, 0, 2 * page);
	ck_assert_int_eq(rfs_guarded_copy(dst, map, 2 * page, map, 2 * page), 0);
	ck_assert(all_bytes(dst, 2 * page, 0x5a));
	/* Into the mapping, guarded on the destination. */
	memset(dst, 0x33, page);
	ck_assert_int_eq(rfs_guarded_copy(map + page, dst, page, map, 2 * page), 0);
	ck_assert(all_bytes(map + page, page, 0x33));
	ck_assert(all_bytes(map, page, 0x5a));
	free(dst);
}
END_TEST

START_TEST(copy_truncated)
{
	unsigned char *dst = malloc(2 * page);
	int i;

	ck_assert_ptr_nonnull(dst);
	truncate_file();
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(rfs_guarded_copy(dst, map, 2 * page, map, 2 * page), -EIO);
		ck_assert_msg(!sigbus_blocked(), "SIGBUS left blocked after round %d", i);
		/* Writing into the truncated mapping faults too. */
		ck_assert_int_eq(rfs_guarded_copy(map + page, dst, page, map, 2 * page), -EIO);
		ck_assert(!sigbus_blocked());
	}
	/* A later normal copy still works. */
	memset(dst, 1, page);
	ck_assert_int_eq(rfs_guarded_copy(dst + page, dst, page, dst, 2 * page), 0);
	ck_assert(all_bytes(dst + page, page, 1));
	free(dst);
}
END_TEST

START_TEST(copy_partial_fault)
{
	unsigned char *dst = malloc(2 * page);

	ck_assert_ptr_nonnull(dst);
	memset(dst, 0, 2 * page);
	/* Only the second page goes: the copy faults part-way. */
	ck_assert_int_eq(ftruncate(fd, (off_t)page), 0);
	ck_assert_int_eq(rfs_guarded_copy(dst, map, 2 * page, map, 2 * page), -EIO);
	ck_assert_int_eq(rfs_guarded_copy(dst, map, page, map, 2 * page), 0);
	ck_assert(all_bytes(dst, page, 0x5a));
	free(dst);
}
END_TEST

START_TEST(repeated_faults)
{
	unsigned char *src = calloc(2, page);
	int i;

	ck_assert_ptr_nonnull(src);
	truncate_file();
	for (i = 0; i < 10; i++) {
		ck_assert_int_eq(rfs_guarded_copy(map, src, 2 * page, map, 2 * page), -EIO);
		ck_assert_msg(!sigbus_blocked(), "SIGBUS left blocked after round %d", i);
	}
	free(src);
}
END_TEST

/* Run fn in a child; true if the child was killed by SIGBUS. */
static bool dies_of_sigbus(void (*fn)(void))
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn();
		_exit(0); /* survived: the fault was swallowed */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return WTERMSIG(status) == SIGBUS;
	ck_assert_msg(0, "child exited with status %d instead of dying of SIGBUS",
		      WEXITSTATUS(status));
	return false;
}

static void touch_unguarded(void)
{
	volatile unsigned char *p = map;

	truncate_file();
	(void)p[0];
}

static unsigned char other[64];

static void fault_outside_range(void)
{
	unsigned char dst[64];

	truncate_file();
	/* The guard covers another buffer, not the memory that faults. */
	(void)rfs_guarded_copy(dst, map, sizeof(dst), other, sizeof(other));
}

static void fault_after_guarded_fault(void)
{
	unsigned char dst[64];
	volatile unsigned char *p = map;

	truncate_file();
	if (rfs_guarded_copy(dst, map, sizeof(dst), map, 2 * page) != -EIO)
		_exit(3);
	(void)p[0];
}

static void fault_after_guarded_copy(void)
{
	unsigned char dst[64];
	volatile unsigned char *p = map;

	/* A finished guarded copy leaves no guard behind. (Earlier children
	 * truncated the shared file: give it its pages back first.) */
	if (ftruncate(fd, (off_t)(2 * page)) != 0)
		_exit(4);
	if (rfs_guarded_copy(dst, map, sizeof(dst), map, 2 * page) != 0)
		_exit(3);
	truncate_file();
	(void)p[0];
}

START_TEST(fault_outside_kills)
{
	static unsigned char buf[65536];

	ck_assert_uint_le(page, sizeof(buf));
	ck_assert(dies_of_sigbus(touch_unguarded));
	ck_assert(dies_of_sigbus(fault_outside_range));
	ck_assert(dies_of_sigbus(fault_after_guarded_fault));
	ck_assert(dies_of_sigbus(fault_after_guarded_copy));
	/* The parent's handler still contains guarded faults. */
	truncate_file();
	ck_assert_int_eq(rfs_guarded_copy(buf, map, page, map, page), -EIO);
}
END_TEST

static Suite *guard_suite(void)
{
	Suite *s = suite_create("guard");
	struct {
		const char *name;
		const TTest *tests[8];
	} cases[] = {
		{"init", {init_idempotent}},
		{"copy", {copy_normal, copy_truncated, copy_partial_fault, repeated_faults}},
		{"unguarded", {fault_outside_kills}},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_set_timeout(tc, 10);
		tcase_add_checked_fixture(tc, setup, teardown);
		for (j = 0; j < 8 && cases[i].tests[j]; j++)
			tcase_add_test(tc, cases[i].tests[j]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return rfs_check_run(guard_suite());
}
