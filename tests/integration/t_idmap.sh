#!/usr/bin/env bash
# Idmapped mounts (mount_setattr MOUNT_ATTR_IDMAP) of a regionfs mount, as
# of a tmpfs: owners seen through the idmapped mount are mapped (1000 on
# the mount shows as 2000), what uid 2000 creates through it is owned by
# 1000 on the mount, and the kernel's permission checks use the mapped
# owners. Opt-in (-o idmap; FUSE allows it from Linux 6.12): the kernel
# then sends the caller's ids only with requests that create, and the
# daemon finds them for the rest (stats per reader, holders); without it an
# idmapped mount is refused (EINVAL). Both data paths.
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip "idmapped mounts need root"
command -v setpriv >/dev/null || fail "setpriv missing (util-linux)"
IFS=. read -r major minor _ <<<"$(uname -r)"
((major > 6 || (major == 6 && minor >= 12))) || skip "FUSE allows idmapped mounts from Linux 6.12 (this is $(uname -r))"
PROBE=$RFS_TESTDIR/idmap_probe.py
W=$RFS_WORK
chmod 755 "$W" # uid 2000 walks to the idmapped mount
mkdir "$W/m"
on_tmpfs want python3 "$PROBE" --target "$W/m"
[[ $want == *"owner through the idmapped mount: 2000:2000"* && $want == *"owners on the mount itself: 1000:1000 1000:1000"* ]] ||
	fail "tmpfs does not map owners here: $want"

for path in kernel daemon; do
	# shellcheck disable=SC2046
	rfs_mount -o size=16M,idmap $(path_opts $path)
	got=$(python3 "$PROBE" --target "$W/m" "$MNT" 2>&1) || fail "$path: the probe failed: $got"
	same_as_tmpfs "$want" "$got" "$path data path: the idmapped mount"
	# Who reads stats is still known: root sees a file in a 0700 directory, 65534 does not.
	mkdir -m 0700 "$MNT/private"
	: >"$MNT/private/hidden"
	grep -q '^private/hidden ' "$MNT/.regionfs/stats" || fail "$path, -o idmap: root does not see private/hidden in stats"
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$MNT/.regionfs/stats" >"$W/nobody.stats"
	! grep -q hidden "$W/nobody.stats" || fail "$path, -o idmap: uid 65534 sees private/hidden in stats"
	exec 7<"$MNT/d/made"
	holder=$(awk -v p=$$ '$1 == "d/made" && $2 == p { print $4 }' "$MNT/.regionfs/holders")
	exec 7<&-
	assert_eq 0 "$holder" "$path, -o idmap: the uid holders shows for root's open of d/made"
	rfs_unmount
	ok "$path data path: an idmapped mount maps owners, creation and permission checks as on tmpfs; stats and holders still know their readers"
done

rfs_mount -o size=16M
out=$(python3 "$PROBE" --target "$W/m" "$MNT" 2>&1) || fail "without -o idmap: the probe failed: $out"
[[ $out == *"mount_setattr EINVAL"* ]] || fail "without -o idmap an idmapped mount was not refused: $out"
rfs_unmount
ok "without -o idmap, mount_setattr(MOUNT_ATTR_IDMAP) is EINVAL"
