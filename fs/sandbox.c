/* Run-time views' files, opened only beneath an allowed root: see fs/sandbox.h. */
#include "fs/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "conf/quote.h"

int rfs_open_beneath(char *const *roots, size_t n_roots, const char *file, bool rw, char *err,
		     size_t errlen)
{
	char q[256], r[256];

	rfs_quote(file, q, sizeof(q));
	for (size_t i = 0; i < n_roots; i++) {
		const char *root = roots[i];
		size_t len = strlen(root);
		struct open_how how = {.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
		int rootfd, fd, e;

		while (len > 1 && root[len - 1] == '/')
			len--;
		if (strncmp(file, root, len) != 0 || (file[len] != '/' && len != 1))
			continue;
		rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			continue;
		how.flags = O_RDWR | O_CLOEXEC;
		fd = (int)syscall(SYS_openat2, rootfd, file + len + (len > 1), &how, sizeof(how));
		if (fd < 0 && !rw && (errno == EACCES || errno == EROFS)) {
			how.flags = O_RDONLY | O_CLOEXEC;
			fd = (int)syscall(SYS_openat2, rootfd, file + len + (len > 1), &how,
					  sizeof(how));
		}
		e = errno; /* close may change it */
		close(rootfd);
		if (fd >= 0)
			return fd;
		if (e == EXDEV || e == ELOOP) {
			rfs_quote(root, r, sizeof(r));
			snprintf(err, errlen, "%s: leaves allowed root %.200s", q, r);
			return -EACCES;
		}
		snprintf(err, errlen, "%s: %s", q, strerror(e));
		return -e;
	}
	snprintf(err, errlen, "%s: not inside allowed_roots", q);
	return -EACCES;
}
