#!/usr/bin/env bash
# chattr's flags as on tmpfs: chattr_probe.py sets +i, +a, +d and +A on
# files and directories with chattr and tries every call each one refuses
# (opens for writing, O_TRUNC, truncate, chmod, chown, utime, setxattr,
# link, rename, unlink, fallocate, entries of a directory), lsattr, who
# may set which flag, +A keeping atime still on reads; run on a tmpfs,
# then on regionfs with regions served by the kernel, by the daemon and
# from memfds: the same lines each time.
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip "chattr +i and +a need CAP_LINUX_IMMUTABLE (root)"
command -v chattr >/dev/null || fail "chattr missing (e2fsprogs)"
command -v setpriv >/dev/null || fail "setpriv missing (util-linux)"
PROBE=$RFS_TESTDIR/chattr_probe.py
on_tmpfs want python3 "$PROBE"
for path in kernel daemon memfd; do
	# shellcheck disable=SC2046
	rfs_mount -o size=16M $(path_opts $path)
	got=$(python3 "$PROBE" "$MNT" 2>&1) || fail "$path: the probe failed: $got"
	chattr -R -ia "$MNT" 2>/dev/null || true
	same_as_tmpfs "$want" "$got" "$path: chattr flags"
	rfs_unmount
	ok "$path: $(wc -l <<<"$got") cases of chattr +i, +a, +d, +A on files and directories answer as on tmpfs"
done
