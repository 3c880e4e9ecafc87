#!/usr/bin/env bash
# -o io_uring (fs/uring.c): with the kernel's offer the rings serve the
# requests (metrics count them, bytes come back right, direct I/O too, and
# SIGTERM still ends the daemon cleanly); without it the daemon says so and
# /dev/fuse serves. The module parameter is restored at exit.
. "$(dirname "$0")/lib.sh"

W=$RFS_WORK
MiB=1048576
PARAM=/sys/module/fuse/parameters/enable_uring
unset RFS_MOUNT_OPTS # this test chooses its own options
[[ -w $PARAM ]] || skip "$PARAM not writable (needs root and Linux 6.14+)"
OLD=$(cat "$PARAM")
# Restore the parameter, then lib.sh's cleanup (with this script's status).
trap 'rc=$?; set +e; echo "$OLD" >"$PARAM"; (exit $rc); _rfs_cleanup' EXIT

ring_requests() { awk '$1 == "regionfs_io_uring_requests_total" { print $2 }' "$MNT/.regionfs/metrics"; }

# ------------------------------------------------ the kernel offers it
echo Y >"$PARAM"
rfs_mount -o io_uring,size=64M,passthrough=off # regions through the daemon: their requests use the rings
head -c $((32 * MiB)) /dev/urandom >"$W/data"
dd if="$W/data" of="$MNT/r" bs=1M oflag=direct status=none
cmp "$W/data" "$MNT/r" || fail "buffered read-back over io_uring differs"
dd if="$MNT/r" of="$W/back" bs=4k iflag=direct status=none
cmp "$W/data" "$W/back" || fail "direct 4 KiB read-back over io_uring differs"
n=$(ring_requests)
((n > 8192)) || fail "only $n requests went through the rings (a direct 4 KiB read of 32 MiB alone is 8192)"
expect_errno ENOENT 'open(M + "/missing")'
# Past the 64 MiB cap: a short write, then ENOSPC.
expect_errno ENOSPC 'fd = os.open(M + "/r", os.O_WRONLY)
n = os.pwrite(fd, bytes(48 << 20), 32 << 20)
assert 0 < n <= 32 << 20, n
os.pwrite(fd, bytes(1 << 20), (32 << 20) + n)'
cmp "$W/data" <(head -c $((32 * MiB)) "$MNT/r") || fail "bytes before the cap changed"
ok "with the kernel's offer: $n requests through the rings, bytes intact, errors reported"

# SIGTERM while idle rings wait: a clean exit, and the mount is gone.
kill -TERM "$RFS_PID"
wait_until 5 bash -c "! kill -0 $RFS_PID 2>/dev/null" || fail "daemon still running 5 s after SIGTERM"
st=0
wait "$RFS_PID" || st=$?
RFS_PID=""
assert_eq 0 "$st" "exit status after SIGTERM"
_rfs_mounted "$MNT" && fail "$MNT still mounted after SIGTERM"
rmdir "$MNT"
ok "SIGTERM with rings running: exit 0, unmounted"

# ------------------------------------------------ the kernel does not offer it
echo N >"$PARAM"
rfs_mount -o io_uring
printf fallback >"$MNT/f"
assert_content "$MNT/f" "fallback"
assert_eq 0 "$(ring_requests)" "requests through rings without the kernel's offer"
grep -q "does not offer FUSE over io_uring" "$RFS_LOG" || fail "no warning in the daemon log"
rfs_unmount
ok "without the kernel's offer: a warning, and /dev/fuse serves"
