#!/usr/bin/env bash
# statx birth time (STATX_BTIME), as on tmpfs: every kind of node has one,
# taken when it was made and kept through writes, chmod, rename and links;
# later nodes are born later. One probe on a tmpfs, then on regionfs with
# regions served by the kernel and by the daemon; `stat` shows it too.
. "$(dirname "$0")/lib.sh"

probe='
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
STATX_BTIME, AT_SYMLINK_NOFOLLOW = 0x800, 0x100
class T(ctypes.Structure):
    _fields_ = [("sec", ctypes.c_int64), ("nsec", ctypes.c_uint32), ("r", ctypes.c_int32)]
class Statx(ctypes.Structure):  # struct statx: 256 bytes
    _fields_ = [("mask", ctypes.c_uint32), ("blksize", ctypes.c_uint32),
                ("attributes", ctypes.c_uint64), ("nlink", ctypes.c_uint32),
                ("uid", ctypes.c_uint32), ("gid", ctypes.c_uint32), ("mode", ctypes.c_uint16),
                ("pad", ctypes.c_uint16), ("ino", ctypes.c_uint64), ("size", ctypes.c_uint64),
                ("blocks", ctypes.c_uint64), ("amask", ctypes.c_uint64), ("atime", T),
                ("btime", T), ("ctime", T), ("mtime", T), ("rest", ctypes.c_uint64 * 16)]
def sx(path, fd=-100):
    s = Statx()
    if libc.statx(fd, path.encode(), AT_SYMLINK_NOFOLLOW | (0x1000 if not path else 0),
                  0x7ff | STATX_BTIME, ctypes.byref(s)):
        raise OSError(ctypes.get_errno(), path)
    ns = lambda t: t.sec * 10**9 + t.nsec
    return bool(s.mask & STATX_BTIME), ns(s.btime), ns(s.mtime), ns(s.ctime)
d = sys.argv[1]
out = []
t0 = time.time_ns()
open(d + "/f", "w").close()
os.mkdir(d + "/dir")
os.symlink("f", d + "/sym")
os.mkfifo(d + "/fifo")
for n in ("f", "dir", "sym", "fifo"):
    has, b, m, c = sx(d + "/" + n)
    out.append("%s: btime %s, made now %s, <= mtime %s" % (n, has, abs(b - t0) < 5 * 10**9, b <= m))
has, b, m, c = sx(d + "/f")
time.sleep(0.05)
with open(d + "/f", "a") as fh:
    fh.write("more")
os.chmod(d + "/f", 0o600)
os.rename(d + "/f", d + "/dir/g")
os.link(d + "/dir/g", d + "/h")
has2, b2, m2, c2 = sx(d + "/dir/g")
out.append("after write, chmod, rename: same btime %s, mtime later %s, ctime later %s" % (b2 == b, m2 > b, c2 > b))
out.append("hard link: same btime %s" % (sx(d + "/h")[1] == b))
time.sleep(0.05)
open(d + "/later", "w").close()
out.append("a later file is born later: %s" % (sx(d + "/later")[1] > b))
fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
out.append("O_TMPFILE: btime %s" % sx("", fd)[0])
print("\n".join(out))
'
on_tmpfs want python3 -c "$probe"
for path in kernel daemon; do
	# shellcheck disable=SC2046
	rfs_mount -o size=16M $(path_opts $path)
	got=$(python3 -c "$probe" "$MNT" 2>&1) || fail "$path: the probe failed: $got"
	same_as_tmpfs "$want" "$got" "$path data path: statx birth times"
	birth=$(stat -c %w "$MNT/later")
	[[ $birth != "-" ]] || fail "$path: stat -c %w shows no birth time"
	rfs_unmount
	ok "$path data path: statx birth times as on tmpfs (every kind of node; kept by write, chmod, rename, link); stat shows $birth"
done
