#!/usr/bin/env bash
# rename(RENAME_WHITEOUT), as overlayfs asks of its upper directory: the file
# moves, its old name becomes a whiteout (a character device 0:0 owned by the
# caller), as on tmpfs; RENAME_WHITEOUT with RENAME_EXCHANGE is EINVAL.
. "$(dirname "$0")/lib.sh"

rfs_mount -o size=16M
W=$RFS_WORK
mkdir "$W/tmpfs"
mount -t tmpfs -o size=1M none "$W/tmpfs"
probe='
import ctypes, errno, os, stat, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, NOREPLACE, EXCHANGE, WHITEOUT = -100, 1, 2, 4
def rename2(a, b, flags):
    if libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags):
        return errno.errorcode[ctypes.get_errno()]
    return "ok"
d = sys.argv[1]
with open(d + "/a", "w") as f:
    f.write("payload")
os.mkdir(d + "/sub")
out = [rename2(d + "/a", d + "/sub/b", WHITEOUT)]
st = os.lstat(d + "/a")
out.append("whiteout" if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0 else "mode %o rdev %d" % (st.st_mode, st.st_rdev))
out.append("uid %d" % st.st_uid)
out.append(open(d + "/sub/b").read())
out.append(rename2(d + "/sub/b", d + "/a", EXCHANGE | WHITEOUT))
out.append(rename2(d + "/sub/b", d + "/a", WHITEOUT))
out.append("whiteout" if stat.S_ISCHR(os.lstat(d + "/sub/b").st_mode) else "not")
out.append(rename2(d + "/nope", d + "/x", WHITEOUT))
print(" ".join(out))
'
want=$(python3 -c "$probe" "$W/tmpfs")
umount "$W/tmpfs"
got=$(python3 -c "$probe" "$MNT")
assert_eq "$want" "$got" "RENAME_WHITEOUT as on tmpfs"
ok "rename(RENAME_WHITEOUT): the file moves, a 0:0 whiteout takes its name, over a whiteout too; with EXCHANGE EINVAL; a missing name ENOENT: as on tmpfs ($got)"
