#!/usr/bin/env bash
# A removed region stays alive while open or mapped, and is freed after.
. "$(dirname "$0")/lib.sh"

rfs_mount
used0=$(df_used)

# The python process holds an fd and a MAP_SHARED mapping across the rm; it
# reports each step, so the first failing assertion names itself.
python3 - "$used0" <<'EOF' || fail "unlinked region (see above)"
import mmap, os, subprocess, sys

M = os.environ["MNT"]
path = M + "/doomed"
used0 = int(sys.argv[1])
MiB = 1 << 20

def used():
    s = os.statvfs(M)
    return (s.f_blocks - s.f_bfree) * s.f_frsize

def check(cond, what):
    if not cond:
        print(f"not ok - {what}", file=sys.stderr)
        sys.exit(1)

data = os.urandom(16 * MiB)
with open(path, "wb") as f:
    f.write(data)
check(used() - used0 >= 16 * MiB, f"df used grows by 16 MiB (grew {used() - used0})")

fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 16 * MiB)
subprocess.run(["rm", path], check=True)
check("doomed" not in os.listdir(M), "gone from readdir after rm")
check(subprocess.run(["ls", path], capture_output=True).returncode != 0, "ls fails after rm")
try:
    os.stat(path)
    check(False, "stat after rm is ENOENT")
except FileNotFoundError:
    pass
st = os.fstat(fd)
check(st.st_size == 16 * MiB, f"fstat size {st.st_size}")
check(st.st_nlink == 0, f"fstat nlink {st.st_nlink} after rm (want 0)")
print("ok - rm: gone from ls/stat; fstat says size 16M, nlink 0")

check(os.pread(fd, 4096, 5 * MiB) == data[5 * MiB:5 * MiB + 4096], "pread via fd")
check(m[7 * MiB:7 * MiB + 4096] == data[7 * MiB:7 * MiB + 4096], "read via mapping")
os.pwrite(fd, b"written-by-fd", 100)
check(m[100:113] == b"written-by-fd", "mapping sees pwrite on the unlinked region")
m[9 * MiB:9 * MiB + 14] = b"written-by-map"
check(os.pread(fd, 14, 9 * MiB) == b"written-by-map", "pread sees mapping store")
os.ftruncate(fd, 17 * MiB)
check(os.fstat(fd).st_size == 17 * MiB, "ftruncate grows the unlinked region")
check(os.pread(fd, 16, 16 * MiB) == bytes(16), "grown part reads zeros")
print("ok - unlinked region readable/writable via fd and mapping, resizable")

# A new file under the old name is a different, empty region.
with open(path, "wb") as f:
    f.write(b"new")
check(os.pread(fd, 13, 100) == b"written-by-fd", "old region unchanged by new file of same name")
with open(path, "rb") as f:
    check(f.read() == b"new", "new file has its own content")
os.unlink(path)
print("ok - a new file under the removed name is a separate region")

check(used() - used0 >= 16 * MiB, f"memory still accounted while open (used +{used() - used0})")
os.close(fd)
check(m[9 * MiB:9 * MiB + 14] == b"written-by-map", "mapping alive after close(fd)")
m[0:4] = b"live"
check(m[0:4] == b"live", "mapping writable after close(fd)")
m.close()
print("ok - mapping keeps the region alive after the last fd closes")
EOF
ok "unlinked region: python checks passed"

# release is asynchronous to close/munmap: allow a few seconds.
freed() { (($(df_used) - used0 < 1048576)); }
wait_until 5 freed || fail "df used still $(($(df_used) - used0)) bytes above start after last close/munmap"
ok "memory freed after the last fd and mapping go (df used back to start)"

# Same again with a shell-held descriptor and no mapping.
head -c 4M /dev/urandom >"$RFS_WORK/r"
cp "$RFS_WORK/r" "$MNT/held"
exec 3<"$MNT/held"
rm "$MNT/held"
cmp "$RFS_WORK/r" - <&3 || fail "reading a removed file through an open fd"
exec 3<&-
wait_until 5 freed || fail "df used not back to start after closing the shell fd"
ok "shell fd: removed file readable while open, freed on close"
