#!/usr/bin/env bash
# A mount by a user without privileges (uid 65534, through fusermount3).
# Its regions keep a private tmpfs store, made inside a user namespace, and
# are served by the daemon: passthrough needs CAP_SYS_ADMIN. The log, stats
# and metrics say so; the instance enforces the cap (ENOSPC for write(), df
# from it; mmap stores over it fail at write-back: msync ENOSPC, counted and
# logged); other users, root included, are kept out as FUSE does without
# allow_other; the user unmounts and the daemon exits 0.
#
# The setup (rfs_as_nobody) opens /dev/fuse to others where it is not.
. "$(dirname "$0")/lib.sh"

rfs_as_nobody
cp "$RFS_TESTDIR/mmap_over_cap.py" "$U/"
REGIONFS=$RFS_WORK/as-nobody RFS_MNT_OWNER=65534:65534 rfs_mount -o size=4M

# --- which store and data path, said once by the log, stats and metrics
# Why the daemon: no capability, unless the suite's pass forces it anyway.
# Under ThreadSanitizer the store is memfds: its thread is restarted in the
# forked child, and a multithreaded process may not unshare a user namespace.
store=tmpfs why="no CAP_SYS_ADMIN in the initial user namespace"
[[ ${SANITIZE:-} != thread ]] || store=memfd why="a memfd store, whose cap only the daemon can check"
[[ " ${RFS_MOUNT_OPTS:-} " != *" passthrough=off "* ]] || why="-o passthrough=off"
grep -q "regions: $store store, served by the daemon" "$RFS_LOG" ||
	fail "the log does not say which store and data path: $(cat "$RFS_LOG")"
assert_eq "# regions: $store store, served by the daemon ($why)" \
	"$(nobody grep "^# regions:" "$MNT/.regionfs/stats")" "stats' regions line"
nobody grep -qx "regionfs_regions_info{store=\"$store\",noswap=\"no\",served_by=\"daemon\"} 1" "$MNT/.regionfs/metrics" ||
	fail "metrics: $(nobody grep regions_info "$MNT/.regionfs/metrics")"
ok "uid 65534 mounts: $store store, served by the daemon (log, stats, metrics)"

# --- other users are kept out, root included (no allow_other)
out=$(stat "$MNT" 2>&1) && fail "root could stat a user's mount: $out"
[[ $out == *"Permission denied"* ]] || fail "root's stat: want EACCES, got: $out"
ok "root gets EACCES on the user's mount, as FUSE does without allow_other"

# --- bytes in and out; the cap enforced by the kernel
head -c 1M /dev/urandom >"$U/scratch/src"
chmod 644 "$U/scratch/src"
nobody dd if="$U/scratch/src" of="$MNT/a" bs=64K status=none
nobody cmp "$U/scratch/src" "$MNT/a" || fail "region a differs from what was written"
out=$(nobody dd if=/dev/zero of="$MNT/b" bs=1M count=4 2>&1) &&
	fail "4 MiB more fitted under a 4 MiB cap: $out"
[[ $out == *"No space left on device"* ]] || fail "dd over the cap: want ENOSPC, got: $out"
assert_eq "$((4 << 20)) $((4 << 20))" "$(nobody python3 -c '
import os, sys
s = os.statvfs(sys.argv[1])
print(s.f_blocks * s.f_frsize, (s.f_blocks - s.f_bfree) * s.f_frsize)' "$MNT")" "df size and used"
ok "1 MiB written and read back; write() over the cap ENOSPC; df shows the cap full"

# An mmap store into a hole over the cap: the daemon hears of it only at
# write-back, so msync says ENOSPC, counted and logged; a region's bytes live on.
nobody rm "$MNT/b"
assert_eq ENOSPC "$(nobody python3 "$U/mmap_over_cap.py" "$MNT/h")" \
	"msync after mmap stores over the cap"
n=$(nobody awk '$1 == "regionfs_writeback_errors_total" { print $2 }' "$MNT/.regionfs/metrics")
((n > 0)) || fail "refused write-backs not counted: '$n'"
grep -q "mmap stores were refused at write-back" "$RFS_LOG" || fail "the log does not warn of them"
kill -0 "$RFS_PID" && nobody test -d "$MNT/.regionfs" || fail "daemon gone"
nobody cmp "$U/scratch/src" "$MNT/a" || fail "region a changed"
ok "mmap stores over the cap: msync ENOSPC, $n write-backs refused (metrics, log); region a intact"

# --- a budget in a user's mount: its room is taken from the cap, which the
# daemon checks (a tmpfs made in a user namespace cannot be shrunk)
nobody rm -f "$MNT/h" "$MNT/a"
printf 'dir tenant size=1M\n' | nobody tee "$MNT/.regionfs/control" >/dev/null ||
	fail "dir tenant size=1M: $(nobody cat "$MNT/.regionfs/control")"
out=$(nobody dd if=/dev/zero of="$MNT/tenant/f" bs=64k count=32 2>&1) && fail "2 MiB fit a 1M budget"
[[ $out == *"No space left on device"* ]] || fail "dd over the budget: $out"
out=$(nobody dd if=/dev/zero of="$MNT/outside" bs=64k count=64 2>&1) && fail "4 MiB fit beside a 1M budget in a 4M cap"
[[ $out == *"No space left on device"* ]] || fail "dd beside the budget: $out"
used=$(nobody python3 -c '
import os, sys
t = os.statvfs(sys.argv[1]); b = os.statvfs(sys.argv[1] + "/tenant")
print(t.f_blocks * t.f_frsize, (t.f_blocks - t.f_bfree) * t.f_frsize, b.f_blocks * b.f_frsize)' "$MNT")
assert_eq "$((4 << 20)) $((4 << 20)) $((1 << 20))" "$used" "df of the mount and of the budget"
nobody rm -rf "$MNT/tenant" "$MNT/outside"
ok "a 1M budget in a user's 4M mount: ENOSPC inside it and beside it, the two together never past the cap"

# --- over io_uring too, when the suite runs with it
if [[ " ${RFS_MOUNT_OPTS:-} " == *" io_uring "* ]]; then
	n=$(nobody awk '$1 == "regionfs_io_uring_requests_total" { print $2 }' "$MNT/.regionfs/metrics")
	((n > 0)) || fail "-o io_uring: no request of the user's mount went through the rings"
	ok "-o io_uring serves a user's mount: $n requests through the rings"
fi

# --- the user unmounts; the daemon exits 0
nobody fusermount3 -u "$MNT" || fail "fusermount3 -u by its user failed"
rfs_unmount
ok "fusermount3 -u by uid 65534; the daemon exits 0"
