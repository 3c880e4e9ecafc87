#!/usr/bin/env bash
# Regions served by the kernel: a private tmpfs store and FUSE passthrough.
# Region bytes never pass through the daemon (its byte counters stay 0), the
# kernel enforces the cap as on tmpfs (ENOSPC for write, SIGBUS for an mmap
# store into a hole, nothing that read back vanishes), sizes and times are
# the store file's, no GETXATTR per write (one per written file); -o passthrough=off and
# -o store=memfd keep the daemon's data path working and say so.
. "$(dirname "$0")/lib.sh"

W=$RFS_WORK
MiB=1048576
metric() { awk -v k="$1" '$1 == k { print $2 }' "$MNT/.regionfs/metrics"; }
op() { metric "regionfs_requests_total{op=\"$1\"}"; }

rfs_mount -o size=32M
[[ $(rfs_served_by) == kernel ]] ||
	skip "regions are not served by the kernel here: $(grep "^# regions:" "$MNT/.regionfs/stats")"
grep -q '^# regions: tmpfs store, served by the kernel (passthrough)$' "$MNT/.regionfs/stats" ||
	fail "stats does not say who serves regions: $(grep "^# regions:" "$MNT/.regionfs/stats")"
grep -q 'regions: tmpfs store, served by the kernel' "$RFS_LOG" || fail "the log does not say the data path"
ok "metrics, stats and the log say: tmpfs store, served by the kernel"

# ------------------------------------------------ bytes bypass the daemon
head -c $((4 * MiB)) /dev/urandom >"$W/r4"
rb0=$(metric regionfs_read_bytes_total) wb0=$(metric regionfs_written_bytes_total)
gx0=$(op getxattr)
cp "$W/r4" "$MNT/a"
dd if="$W/r4" of="$MNT/d" bs=4k oflag=direct status=none
cmp "$W/r4" "$MNT/a" || fail "buffered copy reads back wrong"
dd if="$MNT/d" bs=1M iflag=direct status=none | cmp - "$W/r4" || fail "direct I/O reads back wrong"
python3 - "$MNT/a" "$W/r4" <<'EOF' || fail "mmap of a region"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 0)
assert m[:] == open(sys.argv[2], "rb").read(), "mmap sees other bytes than read()"
m[0:5] = b"HELLO"
assert os.pread(os.open(sys.argv[1], os.O_RDONLY), 5, 0) == b"HELLO", "read() misses an mmap store"
EOF
assert_eq "$rb0 $wb0" "$(metric regionfs_read_bytes_total) $(metric regionfs_written_bytes_total)" \
	"daemon byte counters (read written) after region I/O"
# The kernel asks for security.capability once per written file (then it
# trusts FUSE_HANDLE_KILLPRIV_V2): two files, not each of over 1,000 writes.
gx=$(($(op getxattr) - gx0))
((gx <= 2)) || fail "GETXATTR requests during cp and 1,024 dd writes to 2 files: $gx (want at most 2)"
ok "cp, O_DIRECT dd, mmap: 8 MiB in and out with no byte through the daemon; $gx GETXATTR for the 1,000+ writes of cp and dd"

# ------------------------------------------------ size and times from the store
: >"$MNT/grow"
t0=$(stat -c %Y "$MNT/grow")
sleep 1.1
exec 5>>"$MNT/grow"
printf 'abc' >&5
assert_size "$MNT/grow" 3
printf 'defgh' >&5
assert_size "$MNT/grow" 8
exec 5>&-
(($(stat -c %Y "$MNT/grow") > t0)) || fail "mtime did not move with passthrough writes"
touch -d '2001-02-03 04:05:06' "$MNT/grow"
assert_eq 981173106 "$(stat -c %Y "$MNT/grow")" "mtime after touch -d"
ok "extending writes: size 3 then 8 at once, mtime moves, touch -d sets it"

# ------------------------------------------------ O_APPEND from two writers
python3 - "$MNT/log" <<'EOF' || fail "O_APPEND from two writers"
import os, sys
path = sys.argv[1]
pids = []
for w in range(2):
    pid = os.fork()
    if pid == 0:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for i in range(2000):
            os.write(fd, b"%d:%05d:%s\n" % (w, i, b"x" * 50))
        os._exit(0)
    pids.append(pid)
for pid in pids:
    assert os.waitpid(pid, 0)[1] == 0
lines = open(path, "rb").read().split(b"\n")[:-1]
assert len(lines) == 4000, "%d records" % len(lines)
for w in range(2):
    mine = [l for l in lines if l.startswith(b"%d:" % w)]
    assert [int(l.split(b":")[1]) for l in mine] == list(range(2000)), "writer %d lost or reordered" % w
    assert all(len(l) == 58 for l in mine), "torn record"
EOF
ok "O_APPEND: 2 x 2000 records, none torn or lost"

# ------------------------------------------------ truncate under a mapping
python3 - "$MNT/t" <<'EOF' || fail "truncate while mapped"
import mmap, os, signal, subprocess, sys
path = sys.argv[1]
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 2 << 20)
m = mmap.mmap(fd, 2 << 20)
m[(1 << 20) + 5] = 7
os.ftruncate(fd, 1 << 20)
pid = os.fork()
if pid == 0:
    m[(1 << 20) + 10] = 1  # the mapping still spans 2 MiB
    os._exit(0)
st = os.waitpid(pid, 0)[1]
assert os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGBUS, "store past the end after shrink: status %d" % st
os.ftruncate(fd, 2 << 20)
assert m[(1 << 20) + 5] == 0, "bytes past a shrink came back"
EOF
ok "shrink under a mapping: SIGBUS past the end, zeros after regrowing"

# ------------------------------------------------ fallocate, SEEK_DATA/HOLE
python3 - "$MNT/s" <<'EOF' || fail "fallocate and seek"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, 8 << 20)
os.pwrite(fd, b"data", 4 << 20)
assert os.lseek(fd, 0, os.SEEK_DATA) == 4 << 20, "SEEK_DATA"
assert os.lseek(fd, 4 << 20, os.SEEK_HOLE) == (4 << 20) + 4096, "SEEK_HOLE"
os.posix_fallocate(fd, 0, 1 << 20)
assert os.fstat(fd).st_blocks * 512 >= (1 << 20) + 4096, "fallocate allocated nothing"
EOF
ok "fallocate and SEEK_DATA/SEEK_HOLE on a region"

# ------------------------------------------------ unlink while open and mapped
python3 - "$MNT/u" <<'EOF' || fail "unlink while open and mapped"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b"z" * 8192)
m = mmap.mmap(fd, 8192)
os.unlink(sys.argv[1])
assert not os.path.exists(sys.argv[1])
m[0:4] = b"live"
assert os.pread(fd, 4, 0) == b"live"
fd2 = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
assert os.fstat(fd2).st_size == 0, "a new file by the old name is not empty"
EOF
ok "unlink while open and mapped: the old bytes live on, the name is new"

# ------------------------------------------------ the cap, as on tmpfs
rm -f "$MNT"/*
used0=$(df_used)
st=0
dd if=/dev/zero of="$MNT/big" bs=1M count=40 2>"$W/dd.err" || st=$?
((st != 0)) && grep -q "No space left" "$W/dd.err" || fail "dd over the cap: status $st: $(cat "$W/dd.err")"
size=$(stat -c %s "$MNT/big")
assert_eq $((32 * MiB)) "$((size + used0))" "bytes written up to the cap"
rm "$MNT/big"
head -c $((30 * MiB)) /dev/urandom >"$W/r30"
cp "$W/r30" "$MNT/full"
python3 - "$MNT/hole" <<'EOF' || fail "mmap store into a hole over the cap"
import mmap, os, signal, subprocess, sys
path = sys.argv[1]
code = ("import mmap, os, sys\nf = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
        "os.ftruncate(f, 8 << 20)\nm = mmap.mmap(f, 8 << 20)\n"
        "for i in range(0, 8 << 20, 4096): m[i] = 1\n")
r = subprocess.run([sys.executable, "-c", code, path])
assert r.returncode == -signal.SIGBUS, "store into a hole over the cap: status %d, not SIGBUS" % r.returncode
EOF
# What read back before must read back after the page cache is dropped.
stored=$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(sum(d[i] for i in range(0, len(d), 4096)))' "$MNT/hole")
sync
echo 3 >/proc/sys/vm/drop_caches
assert_eq "$stored" "$(python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(sum(d[i] for i in range(0, len(d), 4096)))' "$MNT/hole")" \
	"pages stored before SIGBUS, after drop_caches"
cmp "$W/r30" "$MNT/full" || fail "the file filling the cap changed"
rfs_alive || fail "daemon gone after a client's SIGBUS"
assert_eq $((32 * MiB)) "$(df_used)" "df used at the cap"
ok "cap: dd ENOSPC at exactly 32 MiB, mmap store into a hole SIGBUS ($stored pages kept after drop_caches), df full"
rfs_unmount

# ------------------------------------------------ the daemon's data path, forced
# A memfd store is served by the daemon even with passthrough on: the
# kernel would write past its cap, which only the daemon checks.
for opts in passthrough=off store=memfd; do
	rfs_mount -o "size=8M,$opts"
	assert_eq daemon "$(rfs_served_by)" "-o $opts: who serves regions"
	store=tmpfs why="-o passthrough=off"
	[[ $opts != *memfd* ]] || store=memfd why="a memfd store, whose cap only the daemon can check"
	grep -qF "# regions: $store store, served by the daemon ($why)" "$MNT/.regionfs/stats" ||
		fail "-o $opts: stats says $(grep "^# regions:" "$MNT/.regionfs/stats")"
	cp "$W/r4" "$MNT/a"
	cmp "$W/r4" "$MNT/a" || fail "-o $opts: reads back wrong"
	(($(metric regionfs_written_bytes_total) >= 4 * MiB)) || fail "-o $opts: writes did not reach the daemon"
	st=0
	dd if=/dev/zero of="$MNT/big" bs=1M count=16 2>"$W/dd.err" || st=$?
	((st != 0)) && grep -q "No space left" "$W/dd.err" || fail "-o $opts: dd over the cap: $(cat "$W/dd.err")"
	rm "$MNT/big"
	# mmap stores over the cap (8 MiB beside a's 4): the daemon hears of them
	# only at write-back, so msync says ENOSPC; the log and metrics tell the
	# operator.
	assert_eq ENOSPC "$(python3 "$RFS_TESTDIR/mmap_over_cap.py" "$MNT/h")" "-o $opts: msync after mmap stores over the cap"
	(($(metric regionfs_writeback_errors_total) > 0)) || fail "-o $opts: refused write-backs not counted"
	grep -q "mmap stores were refused at write-back (No space left on device)" "$RFS_LOG" ||
		fail "-o $opts: the log does not warn of refused write-backs"
	cmp "$W/r4" "$MNT/a" || fail "-o $opts: a changed"
	rm "$MNT/h" "$MNT/a"
	rfs_unmount
	ok "-o $opts: $store store served by the daemon: bytes, counters, ENOSPC for write() and msync (logged, counted)"
done

# -o huge=always: the store's tmpfs takes transparent huge pages.
shmem_huge() { awk '/^ShmemHugePages:/ { print $2 * 1024 }' /proc/meminfo; }
if ! grep -q '\[deny\]' /sys/kernel/mm/transparent_hugepage/shmem_enabled 2>/dev/null; then
	rfs_mount -o size=64M,huge=always
	before=$(shmem_huge)
	dd if=/dev/zero of="$MNT/h" bs=1M count=16 status=none
	after=$(shmem_huge)
	((after - before >= 8 * MiB)) || fail "-o huge=always: ShmemHugePages grew $((after - before)) bytes for 16 MiB"
	rm "$MNT/h"
	rfs_unmount
	ok "-o huge=always: 16 MiB written, $(((after - before) / MiB)) MiB of it in huge pages"
fi
printf '[regionfs]\nhuge = sometimes\n' >"$W/huge.ini"
rfs_refused "$W/huge.ini" "huge = sometimes"
grep -q "huge = sometimes: expected never, within_size, always or advise" "$W/bad.err" ||
	fail "huge = sometimes: $(cat "$W/bad.err")"

# A bad value is a usage error: nothing mounted.
st=0
"$REGIONFS" -f -o passthrough=maybe "$W" 2>"$W/bad.err" || st=$?
assert_eq 2 "$st" "-o passthrough=maybe: exit status"
grep -q "passthrough=maybe" "$W/bad.err" || fail "-o passthrough=maybe: $(cat "$W/bad.err")"
ok "-o passthrough=maybe is refused (exit 2)"
