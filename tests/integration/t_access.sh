#!/usr/bin/env bash
# Access for other users. Mounted by root with default options the namespace
# is open to every user, modes checked by the kernel as on tmpfs: uid 65534
# reads and writes a 0666 file and gets EACCES for a 0600 one. -o owner_only
# (config owner_only = yes) keeps everyone but the mounting user out. An
# unprivileged -o allow_other without user_allow_other in /etc/fuse.conf is
# refused with exit 2 and a message naming the rule.
. "$(dirname "$0")/lib.sh"

rfs_require
[[ $(id -u) == 0 ]] || skip "needs root (mounts as root, acts as uid 65534)"
command -v setpriv >/dev/null || skip "setpriv missing (util-linux)"
W=$RFS_WORK
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# as_nobody OP PATH [DATA]: OP (read, write, create, stat, list) on PATH as
# uid 65534; prints "ok", "ok:CONTENT" (read) or the errno name.
as_nobody() {
	"${NOBODY[@]}" python3 -c '
import errno, os, sys
op, path = sys.argv[1], sys.argv[2]
try:
    if op == "read":
        with open(path, "rb") as f:
            print("ok:" + f.read().decode())
        sys.exit(0)
    if op == "write":
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, sys.argv[3].encode())
        os.close(fd)
    elif op == "create":
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    elif op == "stat":
        os.stat(path)
    elif op == "list":
        os.listdir(path)
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
' "$@"
}

# nobody_gets WANT OP PATH [DATA]
nobody_gets() {
	local want=$1 got
	shift
	got=$(as_nobody "$@") || fail "as_nobody $* failed: $got"
	assert_eq "$want" "$got" "uid 65534: $*"
}

# mount_has_allow_other: the kernel's options for $MNT include allow_other.
mount_has_allow_other() {
	awk -v m="$MNT" '$5 == m { for (i = 7; i <= NF; i++) if ($i == "-") { print $(i + 3); exit } }' \
		/proc/self/mountinfo | tr ',' '\n' | grep -qx allow_other
}

# --- mounted by root, defaults: open to other users, modes enforced
rfs_mount -o size=8M
printf 'shared' >"$MNT/f666"
chmod 0666 "$MNT/f666"
printf 'secret' >"$MNT/f600"
chmod 0600 "$MNT/f600"
mkdir -m 0700 "$MNT/d700"
printf 'x' >"$MNT/d700/inner"
chmod 0666 "$MNT/d700/inner"
mount_has_allow_other || fail "root mount without allow_other: $(grep " $MNT " /proc/self/mountinfo)"
nobody_gets ok:shared read "$MNT/f666"
nobody_gets ok write "$MNT/f666" SHARED
assert_content "$MNT/f666" SHARED
nobody_gets ok list "$MNT"
ok "root's default mount: uid 65534 lists the root, reads and writes a 0666 file"
nobody_gets EACCES read "$MNT/f600"
nobody_gets EACCES write "$MNT/f600" x
assert_content "$MNT/f600" secret
nobody_gets EACCES create "$MNT/new"
[[ ! -e "$MNT/new" ]] || fail "uid 65534 created a file in root's 0755 directory"
nobody_gets EACCES stat "$MNT/d700/inner"
nobody_gets EACCES write "$MNT/.regionfs/control" "region x size=1M"
ok "modes still hold: a 0600 file, a 0755 directory, a 0700 directory and control are EACCES for uid 65534"
rfs_unmount

# --- -o owner_only: only the mounting user
rfs_mount -o size=8M -o owner_only
printf 'shared' >"$MNT/f666"
chmod 0666 "$MNT/f666"
! mount_has_allow_other || fail "-o owner_only mounted with allow_other"
nobody_gets EACCES stat "$MNT"
nobody_gets EACCES list "$MNT"
nobody_gets EACCES read "$MNT/f666"
nobody_gets EACCES write "$MNT/f666" x
nobody_gets EACCES create "$MNT/new"
assert_content "$MNT/f666" shared
ok "-o owner_only: uid 65534 gets EACCES for stat, list, read, write and create, even on a 0666 file"
rfs_unmount

printf '[regionfs]\nowner_only = yes\n' >"$W/owner.ini"
rfs_mount -c "$W/owner.ini"
printf 'shared' >"$MNT/f666"
chmod 0666 "$MNT/f666"
nobody_gets EACCES read "$MNT/f666"
! mount_has_allow_other || fail "owner_only = yes mounted with allow_other"
ok "config owner_only = yes: the same"
rfs_unmount

# An explicit allow_other stays as given; it contradicts owner_only.
rfs_mount -o size=8M -o allow_other
printf 'shared' >"$MNT/f666"
chmod 0666 "$MNT/f666"
nobody_gets ok:shared read "$MNT/f666"
rfs_unmount
mkdir "$W/m"
rfs_refused_run "owner_only with allow_other" "$W/m" "$REGIONFS" -f -o owner_only,allow_other "$W/m"
grep -q owner_only "$W/bad.err" || fail "owner_only with allow_other: message lacks owner_only: $(cat "$W/bad.err")"
rfs_refused_run "owner_only = yes with allow_other" "$W/m" "$REGIONFS" -f -c "$W/owner.ini" -o allow_other "$W/m"
ok "-o allow_other works as given; with owner_only it is refused ($(cat "$W/bad.err"))"

# --- unprivileged: FUSE's rule, said clearly
if grep -qsE '^[[:space:]]*user_allow_other[[:space:]]*(#.*)?$' /etc/fuse.conf; then
	echo "# /etc/fuse.conf has user_allow_other: the unprivileged refusal cannot be checked here"
else
	um=$(mktemp -d "${TMPDIR:-/tmp}/rfs-user.XXXXXX")
	chown 65534:65534 "$um"
	for opt in allow_other allow_root; do
		rfs_refused_run "unprivileged -o $opt" "$um" "${NOBODY[@]}" "$REGIONFS" -f -o "$opt" "$um"
		grep -q "user_allow_other" "$W/bad.err" && grep -q /etc/fuse.conf "$W/bad.err" ||
			{ rmdir "$um"; fail "unprivileged -o $opt: message does not name user_allow_other in /etc/fuse.conf: $(cat "$W/bad.err")"; }
	done
	rmdir "$um"
	ok "unprivileged -o allow_other or allow_root without user_allow_other: exit 2, nothing mounted ($(cat "$W/bad.err"))"
fi
