#!/usr/bin/env bash
# Times as on tmpfs: mtime and ctime move after a client's mapped stores (by
# msync at the latest) and after write(), on whichever data path serves the
# region; and noatime, relatime and strictatime move atime on reads exactly
# as they do on a tmpfs of this kernel mounted with the same option.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK

# --- mtime and ctime after mapped stores and writes
rfs_mount -o size=16M
served=$(rfs_served_by)
py "
import mmap, time
p = M + '/mapped'
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 3 << 12)
m = mmap.mmap(fd, 3 << 12)
for page in range(3):
    before = os.stat(p)
    time.sleep(0.02)
    m[page << 12] = 1
    m.flush()
    after = os.stat(p)
    assert after.st_mtime_ns > before.st_mtime_ns, ('mtime after a mapped store to page', page)
    assert after.st_ctime_ns > before.st_ctime_ns, ('ctime after a mapped store to page', page)
before = os.stat(p)
time.sleep(0.02)
os.pwrite(fd, b'w', 5)
after = os.stat(p)
assert after.st_mtime_ns > before.st_mtime_ns, 'mtime after write()'
m.close()
os.close(fd)
"
ok "mtime and ctime move after mapped stores to each of 3 pages (msync) and after write() ($served)"
rfs_unmount

# --- atime: the same answers as tmpfs, mode by mode
# What a read does to atime: 'moved' or 'kept', for a first read after a
# write (atime older than mtime) and for a second read right after.
probe='
import os, sys, time
p = sys.argv[1] + "/a"
with open(p, "wb") as f:
    f.write(b"x" * 8192)
st = os.stat(p)
os.utime(p, ns=(st.st_mtime_ns - 10**10, st.st_mtime_ns))
out = []
for _ in range(2):
    before = os.stat(p).st_atime_ns
    time.sleep(0.02)
    with open(p, "rb") as f:
        f.read()
    out.append("moved" if os.stat(p).st_atime_ns > before else "kept")
print(" ".join(out))
'
if [[ $served != kernel ]]; then
	# FUSE marks its inodes S_NOATIME: a read the page cache answers never
	# reaches the daemon, so only the kernel path can keep atime.
	echo "# SKIP atime: regions are served by the daemon here (README, Semantics: Times)"
	exit 0
fi
mkdir "$W/tmpfs"
for mode in noatime relatime strictatime; do
	mount -t tmpfs -o "size=4M,$mode" none "$W/tmpfs"
	want=$(python3 -c "$probe" "$W/tmpfs")
	umount "$W/tmpfs"
	rfs_mount -o "size=16M,$mode"
	got=$(python3 -c "$probe" "$MNT")
	rfs_unmount
	assert_eq "$want" "$got" "atime under $mode (first read after a write, second read)"
	echo "# $mode: $got"
done
ok "noatime, relatime and strictatime move atime on reads as on tmpfs ($served)"
