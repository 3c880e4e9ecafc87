#!/usr/bin/env bash
# The mount's backing device (fs/bdi.c): at the first open regionfs lifts the
# kernel's strict 1% dirty limit for FUSE and raises readahead to 1 MiB;
# -o strict_dirty (or strict_dirty = yes) keeps the limit. Stores through a
# client's mapping then stay dirty in the page cache longer: they must still
# be seen by read() at once and reach the daemon at msync and at munmap.
. "$(dirname "$0")/lib.sh"

W=$RFS_WORK
MiB=1048576
[[ $(id -u) == 0 ]] || skip "tuning /sys/class/bdi needs root"

bdi() { cat "/sys/class/bdi/$(mountpoint -d "$MNT")/$1"; }

# ------------------------------------------------ default: limits lifted
rfs_mount -o size=512M
BDI=/sys/class/bdi/$(mountpoint -d "$MNT")
[[ -w $BDI/strict_limit ]] || skip "$BDI is not writable here"
assert_eq 1 "$(bdi strict_limit)" "strict_limit before any open (kernel default)"
: >"$MNT/first"
assert_eq 0 "$(bdi strict_limit)" "strict_limit after the first open"
assert_eq 100 "$(bdi max_ratio)" "max_ratio after the first open"
assert_eq 1024 "$(bdi read_ahead_kb)" "read_ahead_kb after the first open"
ok "default: dirty limit lifted, readahead 1 MiB (at the first open)"

# 96 MiB of mmap stores: more than the kernel's strict limit would let stay
# dirty (1% of the dirty budget). read() of another process sees them before
# any msync; the daemon's memory (its memfd, read through /proc/PID/fd) has
# them after msync and after munmap. Regions served by the kernel never use
# the FUSE page cache: this mount serves them in the daemon, from memfds.
rfs_unmount
rfs_mount -o size=512M,passthrough=off,store=memfd
assert_eq daemon "$(rfs_served_by)" "-o passthrough=off: who serves regions"
R=$MNT/mapped
truncate -s $((96 * MiB)) "$R"
python3 - "$R" "$RFS_PID" <<'EOF2' || fail "mmap stores"
import hashlib, mmap, os, subprocess, sys
path, pid = sys.argv[1:3]
size = 96 << 20

def sha(p):
    return subprocess.run(["sha256sum", p], capture_output=True, text=True).stdout.split()[0]

def daemon_copy():
    """The daemon's memfd behind the 96 MiB region (the only one that size)."""
    d = f"/proc/{pid}/fd"
    for n in os.listdir(d):
        f = os.path.join(d, n)
        try:
            if os.readlink(f).startswith("/memfd:regionfs") and os.stat(f).st_size == size:
                return f
        except OSError:
            pass
    sys.exit("no 96 MiB memfd in the daemon")

fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, size)
blob = os.urandom(1 << 20)
for i in range(96):
    m[i << 20:(i + 1) << 20] = bytes([i]) + blob[1:]
want = hashlib.sha256(m[:]).hexdigest()
if sha(path) != want:
    sys.exit("read() of another process does not see the mapped stores")
m.flush()
if sha(daemon_copy()) != want:
    sys.exit("after msync the daemon's memory lacks the stores")
m[0:5] = b"LAST!"
want = hashlib.sha256(m[:]).hexdigest()
m.close()
os.close(fd)
if sha(daemon_copy()) != want:
    sys.exit("after munmap the daemon's memory lacks the last store")
EOF2
ok "96 MiB of mmap stores: seen by read() at once, in the daemon after msync and munmap"
rfs_unmount

# ------------------------------------------------ opt-out keeps the limit
rfs_mount -o strict_dirty
: >"$MNT/first"
assert_eq 1 "$(bdi strict_limit)" "-o strict_dirty: strict_limit"
assert_eq 1 "$(bdi max_ratio)" "-o strict_dirty: max_ratio"
assert_eq 1024 "$(bdi read_ahead_kb)" "-o strict_dirty: read_ahead_kb"
rfs_unmount

printf '[regionfs]\nstrict_dirty = yes\n' >"$W/strict.ini"
rfs_mount -c "$W/strict.ini"
: >"$MNT/first"
assert_eq 1 "$(bdi strict_limit)" "strict_dirty = yes: strict_limit"
rfs_unmount
printf '[regionfs]\nstrict_dirty = maybe\n' >"$W/bad.ini"
rfs_refused "$W/bad.ini" "strict_dirty = maybe"
ok "-o strict_dirty and strict_dirty = yes keep the kernel's limit; a bad value is refused"
