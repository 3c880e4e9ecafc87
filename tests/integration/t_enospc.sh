#!/usr/bin/env bash
# The memory cap (-o size=16M): statfs shows it, going over it is ENOSPC and
# never takes the daemon down, and freed memory can be used again.
. "$(dirname "$0")/lib.sh"

rfs_mount -o size=16M
W=$RFS_WORK
MiB=1048576

assert_eq $((16 * MiB)) "$(df_size)" "statfs total"
assert_eq $((16 * MiB)) "$(df -B1 --output=size "$MNT" | tail -n 1 | tr -d ' ')" "df size"
ok "df shows a 16M file system"

alive() { rfs_alive || fail "daemon died or mount gone after $1"; }
freed() { (($(df_used) < MiB)); }

# dd of 32 MiB into a 16M cap
st=0
dd if=/dev/zero of="$MNT/big" bs=1M count=32 conv=fsync 2>"$W/dd.err" || st=$?
((st != 0)) || fail "dd of 32 MiB into a 16M file system succeeded"
grep -q "No space left on device" "$W/dd.err" || fail "dd error is not ENOSPC: $(cat "$W/dd.err")"
alive "dd ENOSPC"
size=$(stat -c %s "$MNT/big")
((size <= 16 * MiB)) || fail "file is $size bytes, larger than the cap"
((size >= 8 * MiB)) || fail "only $size bytes written before ENOSPC (expected close to 16M)"
ok "dd of 32 MiB fails with 'No space left on device' after $((size / MiB)) MiB; daemon alive"
rm "$MNT/big"
wait_until 5 freed || fail "df used $(df_used) after rm"
head -c 8M /dev/urandom >"$W/r8"
dd if="$W/r8" of="$MNT/after" bs=1M conv=fsync status=none || fail "8 MiB write after rm failed"
cmp "$W/r8" "$MNT/after" || fail "8 MiB written after rm differs"
ok "after rm the space is back: 8 MiB written and read back"
rm "$MNT/after"
wait_until 5 freed || fail "df used $(df_used) after rm"

# fallocate beyond the cap
st=0
fallocate -l 32M "$MNT/fa" 2>"$W/fa.err" || st=$?
((st != 0)) || fail "fallocate -l 32M succeeded in a 16M file system"
grep -q "No space left on device" "$W/fa.err" || fail "fallocate error is not ENOSPC: $(cat "$W/fa.err")"
alive "fallocate ENOSPC"
rm -f "$MNT/fa"
wait_until 5 freed || fail "df used $(df_used) after a failed fallocate and rm"
fallocate -l 12M "$MNT/fa12" || fail "fallocate -l 12M failed in an empty 16M file system"
(($(df_used) >= 12 * MiB)) || fail "fallocate -l 12M: df used is only $(df_used)"
expect_errno ENOSPC "fd = os.open(M + '/fa8', os.O_CREAT | os.O_RDWR); os.posix_fallocate(fd, 0, 8 << 20)"
rm -f "$MNT/fa12" "$MNT/fa8"
wait_until 5 freed || fail "df used $(df_used) after rm of fallocated files"
ok "fallocate over the cap is ENOSPC; within it reserves (df used grows)"

# A huge sparse file is fine; filling it densely past the cap is not.
truncate -s 1T "$MNT/huge" || fail "truncate -s 1T (sparse) failed"
assert_size "$MNT/huge" 1099511627776
st=0
dd if=/dev/zero of="$MNT/huge" bs=1M count=32 seek=1000 conv=notrunc,fsync 2>"$W/dd2.err" || st=$?
((st != 0)) || fail "writing 32 MiB into holes of a sparse file succeeded past a 16M cap"
grep -q "No space left on device" "$W/dd2.err" || fail "dd into holes: not ENOSPC: $(cat "$W/dd2.err")"
alive "ENOSPC writing into holes"
assert_size "$MNT/huge" 1099511627776
ok "1T sparse file; dense writes into its holes past the cap are ENOSPC"

# Through a mapping: client stores into holes past the cap must not crash the
# daemon, and must not be lost silently: either the store faults (SIGBUS) or
# msync/fsync reports the failed write-back.
st=0
(
	python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 64 << 20, offset=1 << 30)
for off in range(0, 64 << 20, 4096):
    m[off] = 1
try:
    m.flush()
    os.fsync(fd)
except OSError as e:
    print("# msync/fsync:", e)
    sys.exit(3)
' "$MNT/huge"
	exit $?
) 2>"$W/mmap.err" || st=$?
((st != 0)) || fail "64 MiB of mapped stores past a 16M cap: msync and fsync reported success"
alive "mmap stores past the cap"
rm "$MNT/huge"
wait_until 5 freed || fail "df used $(df_used) after rm of the sparse file"
how="status $st"
((st != 3)) || how="an msync/fsync error"
((st != 135)) || how=SIGBUS
ok "mmap stores past the cap: client gets $how; daemon alive; freed after rm"

# Many small files: creating past the cap fails cleanly too.
st=0
for ((i = 0; i < 40; i++)); do
	head -c $MiB /dev/zero >"$MNT/f$i" 2>/dev/null || { st=1 && break; }
done
((st != 0)) || fail "40 files of 1 MiB fit in a 16M file system"
alive "many small files"
rm -f "$MNT"/f*
wait_until 5 freed || fail "df used $(df_used) after removing the small files"
ok "filling with 1 MiB files stops at the cap with ENOSPC; all freed after rm"
