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
T=$(mktemp -d)
mount -t tmpfs -o size=1M,mode=755 none "$T"
want=$(python3 "$PROBE" "$T" 2>&1) || { chattr -R -ia "$T" 2>/dev/null; umount "$T"; rmdir "$T"; fail "the probe fails on tmpfs: $want"; }
chattr -R -ia "$T" 2>/dev/null || true
umount "$T"
rmdir "$T"

for path in kernel daemon memfd; do
	opts=()
	[[ $path == daemon ]] && opts=(-o passthrough=off)
	[[ $path == memfd ]] && opts=(-o store=memfd)
	rfs_mount -o size=16M "${opts[@]}"
	got=$(python3 "$PROBE" "$MNT" 2>&1) || fail "$path: the probe failed: $got"
	chattr -R -ia "$MNT" 2>/dev/null || true
	if [[ "$want" != "$got" ]]; then
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /' >&2
		fail "$path: chattr flags differ from tmpfs (< tmpfs, > regionfs)"
	fi
	rfs_unmount
	ok "$path: $(wc -l <<<"$got") cases of chattr +i, +a, +d, +A on files and directories answer as on tmpfs"
done
