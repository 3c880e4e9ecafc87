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

# listxattr racing setxattr/removexattr: a list counted empty and then filled
# must be ERANGE-and-retried inside the daemon, never a reply of unwritten
# bytes (the kernel calls those EIO; before, 86 in 5 s).
rfs_mount -o size=16M
race=$(python3 - "$MNT" <<'PY'
import errno, os, sys, threading, time
f = sys.argv[1] + "/x"
open(f, "w").close()
bad, stop = [], time.time() + 3
def setter():
    while time.time() < stop:
        os.setxattr(f, "user.a", b"1")
        os.removexattr(f, "user.a")
def lister():
    while time.time() < stop:
        try:
            names = os.listxattr(f)
            if names not in ([], ["user.a"]):
                bad.append("list %r" % names)
        except OSError as e:
            bad.append(errno.errorcode[e.errno])
ts = [threading.Thread(target=t) for t in (setter, lister, lister)]
[t.start() for t in ts]
[t.join() for t in ts]
print(" ".join(sorted(set(bad))) or "clean")
PY
) || fail "the listxattr race failed: $race"
assert_eq clean "$race" "listxattr racing setxattr/removexattr"
rfs_unmount
ok "3 s of listxattr racing setxattr and removexattr: every list whole, no EIO"
