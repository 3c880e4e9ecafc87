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
on_tmpfs want python3 "$PROBE"
for path in kernel daemon; do
	# shellcheck disable=SC2046
	rfs_mount -o size=16M $(path_opts $path)
	got=$(python3 "$PROBE" "$MNT" 2>&1) || fail "$path: the probe failed: $got"
	same_as_tmpfs "$want" "$got" "$path data path"
	rfs_unmount
	ok "$path data path: $(wc -l <<<"$got") cases of xattrs, ACLs, set-user-ID on write and O_TMPFILE answer as on tmpfs"
done
