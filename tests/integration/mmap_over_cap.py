"""Store through a mapping into every page of an 8 MiB hole of PATH, then
msync. Prints "stored" or the errno name msync raised; dies of SIGBUS where
the kernel refuses the store itself (a region served by the kernel)."""
import errno
import mmap
import os
import sys

SIZE = 8 << 20
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, SIZE)
m = mmap.mmap(fd, SIZE)
for off in range(0, SIZE, 4096):
    m[off] = 1
try:
    m.flush()
    print("stored")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
