#!/usr/bin/env bash
# kill -9 of the daemon after fsync returns: every fsync'ed byte is in the
# backing file (and, when a loop-mounted ext4 is available, on its device),
# for write()+fsync and for a client mmap store + msync + fsync; and bytes
# written and close()d without fsync, since flush writes them back. The dead mount
# is cleaned up and a fresh mount serves the same bytes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
W=$RFS_WORK
here=$(dirname "$0")

# The backing file lives on a small ext4 in a loop image if we can mount one,
# so that "durable" can be checked as "written to the device".
D=$W/disk
IMG=-
mkdir "$D"
if command -v mkfs.ext4 >/dev/null && truncate -s 64M "$W/disk.img" &&
	mkfs.ext4 -q -F -b 4096 "$W/disk.img" >/dev/null 2>&1 &&
	mount -o loop "$W/disk.img" "$D" 2>/dev/null; then
	view_extra_mount "$D"
	IMG=$W/disk.img
	where="ext4 on a loop device"
else
	where="$(stat -f -c %T "$W") (no loop mount: device-level check skipped)"
fi
B=$D/back
head -c $((8 * MiB)) /dev/urandom >"$B"
sync "$B"
cp "$B" "$W/state"

woff=$((MiB + 3))
cfg=$W/crash.ini
cat >"$cfg" <<EOF
[view:v]
file = $B
offset = $woff
length = 4M
access = rw
EOF

for mode in write mmap close; do
	rfs_mount -c "$cfg"
	cmp "$MNT/v" <(view_window "$W/state" "$woff" $((4 * MiB))) || fail "$mode: view content before the writes"
	st=0
	out=$(python3 "$here/view_crash.py" "$mode" "$MNT/v" "$B" "$woff" "$RFS_PID" "$IMG" "$W/state" 2>&1) || st=$?
	kill -0 "$RFS_PID" 2>/dev/null || view_reap_killed
	((st == 0)) || fail "$mode: $out"
	[[ -z "$out" ]] || printf '%s\n' "$out"
	[[ -z "$RFS_PID" ]] || fail "$mode: daemon still alive after SIGKILL"
	if [[ $mode == close ]]; then
		ok "write + close (no fsync), kill -9: every written byte is in the backing file ($where)"
	else
		ok "$mode + fsync, kill -9 with the file open: every fsync'ed byte is in the backing file ($where)"
	fi
	ok "$mode: the dead mount is unmounted (fusermount3 -u) and removed"
done

# A new daemon on the same backing file serves exactly what is in it.
rfs_mount -c "$cfg"
cmp "$MNT/v" <(view_window "$W/state" "$woff" $((4 * MiB))) || fail "remount: view differs from the backing file"
cmp "$B" "$W/state" || fail "remount changed the backing file"
rfs_unmount
cmp "$B" "$W/state" || fail "clean unmount changed the backing file"
ok "a fresh mount after the crashes serves the backing file's bytes; clean unmount"
