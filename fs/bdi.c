/*
 * Writeback and readahead limits of the mount's backing device (bdi).
 *
 * The kernel gives every FUSE mount a bdi that assumes a slow or hostile
 * daemon: its dirty pages may take at most 1% of the system's dirty budget,
 * strictly (strict_limit), and readahead stops at 128 KiB. Dirty pages here
 * come from clients' mmap stores (and -o writeback writes); with the strict
 * limit the kernel throttles the writer and writes the pages back to us as
 * soon as a few dozen MiB are dirty, so every later store faults again:
 * measured 0.15-0.19x tmpfs for fio mmap writes, 0.95-1.0x without it. Our
 * daemon answers writeback from memory and never waits on a disk, so the
 * mount is treated like any local file system: the global vm.dirty_* limits
 * apply. msync, fsync, munmap and close flush exactly as before; only
 * background writeback of live mappings happens later (as on ext4).
 * Readahead goes to 1 MiB, the largest request: cold sequential reads
 * 2.35 -> 3.25 GB/s.
 *
 * Tuning needs root (sysfs); without it the mount keeps the kernel's
 * limits and works the same, only slower.
 */
#include "fs/bdi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs.h"
#include "fs/log.h"

#define READAHEAD_KB "1024"

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* "MAJ:MIN" of the newest mount at mountpoint; 0 or -ENOENT. */
static int mount_device(const char *mountpoint, char *dev, size_t devlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	/* Lines: ID PARENT MAJ:MIN ROOT MOUNTPOINT ...; a later line is a
	 * mount stacked on an earlier one, so the last match is ours. */
	while (fgets(line, sizeof(line), f)) {
		char devno[32], point[4096];

		if (sscanf(line, "%*d %*d %31s %*s %4095s", devno, point) != 2)
			continue;
		unescape(point);
		if (!strcmp(point, mountpoint)) {
			snprintf(dev, devlen, "%s", devno);
			err = 0;
		}
	}
	fclose(f);
	return err;
}

static int set(const char *dev, const char *knob, const char *value)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/sys/class/bdi/%s/%s", dev, knob);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		err = -errno;
	close(fd);
	return err;
}

void rfs_bdi_tune(struct rfs_daemon *d)
{
	char dev[32];
	int err;

	if (atomic_load_explicit(&d->bdi_tuned, memory_order_relaxed) ||
	    atomic_exchange(&d->bdi_tuned, true))
		return;
	err = mount_device(d->mountpoint, dev, sizeof(dev));
	if (err) {
		rfs_log(RFS_LOG_WARN,
			"no mount at %s in /proc/self/mountinfo: kernel writeback limits kept",
			d->mountpoint);
		return;
	}
	/* Not at mount: the kernel lowers readahead to the INIT reply's, later. */
	err = set(dev, "read_ahead_kb", READAHEAD_KB);
	if (!err && !d->strict_dirty)
		err = set(dev, "max_ratio", "100");
	if (!err && !d->strict_dirty)
		err = set(dev, "strict_limit", "0");
	if (err)
		rfs_log(RFS_LOG_WARN,
			"cannot tune /sys/class/bdi/%s (%s): mmap stores are throttled to the "
			"kernel's "
			"FUSE limits",
			dev, strerror(-err));
}
