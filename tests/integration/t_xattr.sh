#!/usr/bin/env bash
# Extended attributes, POSIX ACLs, set-user-ID on write and O_TMPFILE, as
# on tmpfs: xattr_probe.py runs on a tmpfs, then on regionfs with regions
# served by the kernel and by the daemon, and must print the same lines
# (user.*, trusted.* and security.* values, flags, size limits and errnos;
# setfacl/getfacl, access and default ACLs, the mode they set, enforcement
# for uid 65534, inheritance under umasks; set-user-ID, set-group-ID and
# security.capability dropped by another user's write or truncate;
# O_TMPFILE with linkat, O_EXCL).
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip "the probe sets trusted.* and runs parts as uid 65534 (root)"
command -v setfacl >/dev/null || fail "setfacl missing (apt-get install acl)"
PROBE=$RFS_TESTDIR/xattr_probe.py
T=$(mktemp -d)
chmod 755 "$T"
mount -t tmpfs -o size=4M,mode=755 none "$T"
want=$(python3 "$PROBE" "$T" 2>&1) || { umount "$T"; rmdir "$T"; fail "the probe fails on tmpfs: $want"; }
umount "$T"
rmdir "$T"

for path in kernel daemon; do
	opts=()
	[[ $path == daemon ]] && opts=(-o passthrough=off)
	rfs_mount -o size=16M "${opts[@]}"
	got=$(python3 "$PROBE" "$MNT" 2>&1) || fail "$path: the probe failed: $got"
	if [[ "$want" != "$got" ]]; then
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /' >&2
		fail "$path data path: differs from tmpfs (< tmpfs, > regionfs)"
	fi
	rfs_unmount
	ok "$path data path: $(wc -l <<<"$got") cases of xattrs, ACLs, set-user-ID on write and O_TMPFILE answer as on tmpfs"
done
