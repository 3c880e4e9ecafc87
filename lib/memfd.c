/* Memfds that outlive a process (memfd.h). */
#include "lib/memfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

int rfs_memfd_new(const char *name, uint64_t size, const void *header, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) || pwrite(fd, header, len, 0) != (ssize_t)len) {
		err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	return fd;
}

int rfs_memfd_dup(int fd)
{
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return copy < 0 ? -errno : copy;
}

void *rfs_memfd_map(const char *name, size_t size, int *fd)
{
	static const char zero;
	bool made = *fd < 0;
	void *p;

	if (made && (*fd = rfs_memfd_new(name, size, &zero, 1)) < 0) {
		errno = -*fd;
		*fd = -1;
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p != MAP_FAILED)
		return p;
	if (made) {
		int e = errno;

		close(*fd);
		*fd = -1;
		errno = e;
	}
	return NULL;
}
