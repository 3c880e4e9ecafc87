/*
 * A futex in a client mmap(MAP_SHARED) of a regionfs file, across processes
 * (tests/integration/t_wait.sh compiles it with cc).
 *
 *   futex_wait wait FILE OFFSET TIMEOUT_MS   sleep in FUTEX_WAIT while the
 *       32-bit word at OFFSET is 0; prints "woken: value V after N wait(s)"
 *       and exits 0, or prints "timed out" and exits 2.
 *   futex_wait wake FILE OFFSET VALUE        store VALUE in the word, then
 *       FUTEX_WAKE every waiter; prints "woke N" (waiters the kernel found).
 *
 * Shared (not FUTEX_PRIVATE) futexes: the kernel keys them by the file's
 * page, so waiter and waker meet though they mapped the file separately.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *timeout)
{
	return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE), off, woken;
	uint32_t *word;
	char *map;
	int fd;

	if (argc != 5 || (strcmp(argv[1], "wait") && strcmp(argv[1], "wake"))) {
		fprintf(stderr, "usage: %s wait FILE OFFSET TIMEOUT_MS | wake FILE OFFSET VALUE\n",
			argv[0]);
		return 1;
	}
	off = strtol(argv[3], NULL, 0);
	fd = open(argv[2], O_RDWR);
	if (fd < 0 || off < 0 || off % 4) {
		perror(argv[2]);
		return 1;
	}
	map = mmap(NULL, (size_t)(off / page + 1) * (size_t)page, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	word = (uint32_t *)(map + off);
	if (strcmp(argv[1], "wake") == 0) {
		__atomic_store_n(word, (uint32_t)strtoul(argv[4], NULL, 0), __ATOMIC_SEQ_CST);
		woken = futex(word, FUTEX_WAKE, INT_MAX, NULL);
		if (woken < 0) {
			perror("FUTEX_WAKE");
			return 1;
		}
		printf("woke %ld\n", woken);
		return 0;
	}
	long ms = strtol(argv[4], NULL, 0), waits = 0;
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	printf("waiting\n");
	fflush(stdout);
	/* The kernel sleeps only while the word still holds 0: no lost wake-up. */
	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) == 0) {
		waits++;
		if (futex(word, FUTEX_WAIT, 0, &t) == 0 || errno == EAGAIN || errno == EINTR)
			continue;
		if (errno == ETIMEDOUT) {
			printf("timed out\n");
			return 2;
		}
		perror("FUTEX_WAIT");
		return 1;
	}
	printf("woken: value %u after %ld wait(s)\n", *word, waits);
	return 0;
}
