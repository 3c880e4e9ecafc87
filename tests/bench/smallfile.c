/*
 * smallfile: the benchmark's small-file case, an open / pread 4 KiB / close
 * loop over many small files, timed per operation.
 *
 *   smallfile create DIR NFILES          write 4 KiB into DIR/f00000 ...
 *   smallfile run DIR NFILES NJOBS SECS  loop for SECS seconds, print JSON
 *
 * "run" first reads every file once (warm), then forks NJOBS workers that
 * start together; worker j walks the files round robin from file
 * j*NFILES/NJOBS, and each operation (open O_RDONLY, pread 4096 at 0, close)
 * is timed with CLOCK_MONOTONIC into a log-linear histogram (1 ns steps below
 * 128 ns, then 64 steps per power of two, ~1.6 %). Workers are processes, as
 * fio's numjobs are. A short read or a failed call is an error: exit 1.
 *
 * Output, one line: {"ops":N,"bytes":N,"seconds":S,"iops":X,"bw_bytes":X,
 *                    "p50_ns":N,"p99_ns":N,"mean_ns":N,"errors":0}
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FSIZE 4096
#define NBUCKET (128 + 40 * 64)

struct worker {
	uint64_t ops;
	uint64_t sum_ns;
	uint64_t errors;
	double seconds;
	uint64_t hist[NBUCKET];
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bucket(uint64_t v)
{
	int msb, b;
	if (v < 128)
		return (int)v;
	msb = 63 - __builtin_clzll(v); /* >= 7 */
	b = 128 + (msb - 7) * 64 + (int)((v >> (msb - 6)) - 64);
	return b < NBUCKET ? b : NBUCKET - 1;
}

/* Middle of a bucket's range, in ns. */
static uint64_t bucket_value(int b)
{
	int msb, sub;
	if (b < 128)
		return (uint64_t)b;
	msb = (b - 128) / 64 + 7;
	sub = (b - 128) % 64 + 64;
	return ((uint64_t)sub << (msb - 6)) + ((1ull << (msb - 6)) >> 1);
}

static void path_of(char *buf, size_t len, const char *dir, long i)
{
	snprintf(buf, len, "%s/f%05ld", dir, i);
}

static int one_read(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;
	if (fd < 0) {
		fprintf(stderr, "smallfile: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = pread(fd, buf, FSIZE, 0);
	if (n != FSIZE) {
		fprintf(stderr, "smallfile: pread %s: %s\n", path,
			n < 0 ? strerror(errno) : "short read");
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "smallfile: close %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int do_create(const char *dir, long nfiles)
{
	char path[4096], buf[FSIZE];
	long i;
	for (i = 0; i < nfiles; i++) {
		int fd;
		memset(buf, (int)('a' + i % 26), sizeof buf);
		path_of(path, sizeof path, dir, i);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd < 0 || pwrite(fd, buf, FSIZE, 0) != FSIZE || close(fd) != 0) {
			fprintf(stderr, "smallfile: create %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

static void work(struct worker *w, const char *dir, long nfiles, long first,
		 uint64_t start, uint64_t end)
{
	char path[4096], buf[FSIZE];
	long i = first;
	uint64_t t0, t1;
	while (now_ns() < start)
		;
	t0 = now_ns();
	do {
		path_of(path, sizeof path, dir, i);
		if (one_read(path, buf) != 0) {
			w->errors++;
			break;
		}
		t1 = now_ns();
		w->hist[bucket(t1 - t0)]++;
		w->sum_ns += t1 - t0;
		w->ops++;
		t0 = t1;
		if (++i == nfiles)
			i = 0;
	} while (t1 < end);
	w->seconds = (double)(now_ns() - start) / 1e9;
}

static uint64_t percentile(const uint64_t *hist, uint64_t total, double p)
{
	uint64_t want = (uint64_t)((double)total * p / 100.0 + 0.5), seen = 0;
	int b;
	if (want == 0)
		want = 1;
	for (b = 0; b < NBUCKET; b++) {
		seen += hist[b];
		if (seen >= want)
			return bucket_value(b);
	}
	return 0;
}

static int do_run(const char *dir, long nfiles, int njobs, double secs)
{
	struct worker *w;
	uint64_t hist[NBUCKET] = {0}, ops = 0, sum = 0, errors = 0, start, end;
	double seconds = 0;
	char path[4096], buf[FSIZE];
	long i;
	int j, status, failed = 0;

	for (i = 0; i < nfiles; i++) { /* warm: every file read once */
		path_of(path, sizeof path, dir, i);
		if (one_read(path, buf) != 0)
			return 1;
	}
	w = mmap(NULL, sizeof *w * (size_t)njobs, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED) {
		perror("smallfile: mmap");
		return 1;
	}
	start = now_ns() + 50000000u; /* every worker starts together */
	end = start + (uint64_t)(secs * 1e9);
	for (j = 0; j < njobs; j++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("smallfile: fork");
			return 1;
		}
		if (pid == 0) {
			work(&w[j], dir, nfiles, (long)j * nfiles / njobs, start, end);
			_exit(0);
		}
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	for (j = 0; j < njobs; j++) {
		int b;
		for (b = 0; b < NBUCKET; b++)
			hist[b] += w[j].hist[b];
		ops += w[j].ops;
		sum += w[j].sum_ns;
		errors += w[j].errors;
		if (w[j].seconds > seconds)
			seconds = w[j].seconds;
	}
	if (seconds <= 0)
		seconds = secs;
	printf("{\"ops\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"seconds\":%.6f,"
	       "\"iops\":%.1f,\"bw_bytes\":%.1f,\"p50_ns\":%" PRIu64
	       ",\"p99_ns\":%" PRIu64 ",\"mean_ns\":%.1f,\"errors\":%" PRIu64 "}\n",
	       ops, ops * FSIZE, seconds, (double)ops / seconds,
	       (double)ops * FSIZE / seconds, percentile(hist, ops, 50),
	       percentile(hist, ops, 99), ops ? (double)sum / (double)ops : 0.0, errors);
	return failed || errors || ops == 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "create") == 0)
		return do_create(argv[2], atol(argv[3]));
	if (argc == 6 && strcmp(argv[1], "run") == 0) {
		long nfiles = atol(argv[3]);
		int njobs = atoi(argv[4]);
		double secs = atof(argv[5]);
		if (nfiles < 1 || njobs < 1 || secs <= 0) {
			fprintf(stderr, "smallfile: bad arguments\n");
			return 2;
		}
		return do_run(argv[2], nfiles, njobs, secs);
	}
	fprintf(stderr, "usage: smallfile create DIR NFILES\n"
			"       smallfile run DIR NFILES NJOBS SECONDS\n");
	return 2;
}
