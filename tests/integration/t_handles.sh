#!/usr/bin/env bash
# File handles (name_to_handle_at / open_by_handle_at), as NFS export and
# handle-based tools use them: a handle of a file, of its hard link and of a
# directory opens the same object after the kernel dropped its caches
# (drop_caches), on both data paths; a handle of a removed file is ESTALE.
# The same probe runs on tmpfs first: regionfs must answer as tmpfs does.
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip "open_by_handle_at needs CAP_DAC_READ_SEARCH (root)"
probe='
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
class Handle(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_uint), ("type", ctypes.c_int), ("f", ctypes.c_ubyte * 128)]
def handle(path):
    h, mount_id = Handle(bytes=128), ctypes.c_int()
    if libc.name_to_handle_at(AT_FDCWD, path.encode(), ctypes.byref(h), ctypes.byref(mount_id), 0):
        raise OSError(ctypes.get_errno(), "name_to_handle_at " + path)
    return h
def opened(h, flags):
    fd = libc.open_by_handle_at(root_fd, ctypes.byref(h), flags)
    if fd < 0:
        return errno.errorcode[ctypes.get_errno()]
    return fd
def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3")
d = sys.argv[1]
root_fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.mkdir(d + "/dir")
with open(d + "/dir/file", "wb") as f:
    f.write(b"through a handle")
os.link(d + "/dir/file", d + "/linked")
with open(d + "/gone", "wb") as f:
    f.write(b"x")
hf, hl, hd, hg = handle(d + "/dir/file"), handle(d + "/linked"), handle(d + "/dir"), handle(d + "/gone")
ino = os.stat(d + "/dir/file").st_ino
os.unlink(d + "/gone")
drop_caches()
out = []
fd = opened(hf, os.O_RDONLY)
out.append(os.read(fd, 64).decode() if isinstance(fd, int) else fd)
out.append("same" if isinstance(fd, int) and os.fstat(fd).st_ino == ino else "other")
os.close(fd)
fd = opened(hl, os.O_RDWR)
os.pwrite(fd, b"THROUGH", 0)
out.append("nlink %d" % os.fstat(fd).st_nlink)
os.close(fd)
out.append(open(d + "/dir/file", "rb").read().decode())
drop_caches()
fd = opened(hd, os.O_RDONLY | os.O_DIRECTORY)
out.append(",".join(sorted(os.listdir(fd))) if isinstance(fd, int) else fd)
out.append(opened(hg, os.O_RDONLY))
# A directory moved while nothing holds it: its handle still opens it.
os.rename(d + "/dir", d + "/moved")
drop_caches()
fd = opened(hd, os.O_RDONLY | os.O_DIRECTORY)
out.append(",".join(os.listdir(fd)) if isinstance(fd, int) else fd)
os.close(fd)
# A file removed after its handle was made, its last name gone: ESTALE.
os.unlink(d + "/moved/file")
os.unlink(d + "/linked")
drop_caches()
out.append(opened(hf, os.O_RDONLY))
print(" | ".join(str(x) for x in out))
'
on_tmpfs want python3 -c "$probe"
for path in kernel daemon; do
	# shellcheck disable=SC2046
	rfs_mount -o size=16M $(path_opts $path)
	got=$(python3 -c "$probe" "$MNT" 2>&1) || fail "$path: $got"
	same_as_tmpfs "$want" "$got" "file handles after drop_caches ($path data path)"
	rfs_unmount
	ok "$path data path: handles of a file, a hard link and a directory open them after drop_caches (also after a rename); a removed file's is ESTALE: as on tmpfs ($got)"
done
