#!/usr/bin/env bash
# A regionfs directory as overlayfs's upper and work directory (what a
# container runtime asks of it): the mount is made with no warning but
# the kernel's own, copy-up keeps the bytes, deleting a lower file leaves
# a whiteout, a directory removed and made again is opaque
# (trusted.overlay.opaque), renames work, and after unmounting the overlay
# the upper directory holds exactly what the changes made.
. "$(dirname "$0")/lib.sh"

[[ $(id -u) == 0 ]] || skip "overlayfs mounts need root"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"

rfs_mount -o size=16M
W=$RFS_WORK
L=$W/lower
M=$W/merged
mkdir -p "$L/dir" "$M" "$MNT/upper" "$MNT/work"
echo lower >"$L/a"
echo keep >"$L/b"
echo x >"$L/dir/x"
head -c 1M /dev/urandom >"$L/big"
mount -t overlay overlay -o "lowerdir=$L,upperdir=$MNT/upper,workdir=$MNT/work" "$M" ||
	fail "mount -t overlay with upper and work dirs on regionfs: $(dmesg | grep -i overlay | tail -3)"
trap 'umount "$M" 2>/dev/null || true; _rfs_cleanup' EXIT
ok "overlayfs mounts with its upper and work directories on regionfs"

echo changed >>"$M/a"
assert_content "$M/a" $'lower\nchanged\n'
printf 'X' | dd of="$M/big" bs=1 seek=4096 conv=notrunc status=none
cmp -n 4096 "$M/big" "$L/big" || fail "copy-up of big lost its first page"
[[ $(dd if="$M/big" bs=1 skip=4096 count=1 status=none) == X ]] || fail "big: the byte written after copy-up is gone"
rm "$M/b"
[[ ! -e "$M/b" ]] || fail "b is still there after rm"
rm -r "$M/dir"
mkdir "$M/dir"
echo new >"$M/dir/y"
mv "$M/a" "$M/renamed"
assert_eq "big dir renamed" "$(ls "$M" | tr '\n' ' ' | sed 's/ $//')" "the merged listing"
assert_eq "y" "$(ls "$M/dir")" "the listing of the opaque dir"
ok "copy-up keeps the bytes (1 MiB file, one byte changed), rm leaves no name, a re-made directory hides the lower one, mv works"

umount "$M"
trap _rfs_cleanup EXIT
st=$(stat -c '%F %t:%T' "$MNT/upper/b")
assert_eq "character special file 0:0" "$st" "the whiteout of b in the upper dir"
assert_eq y "$(getfattr --absolute-names --only-values -n trusted.overlay.opaque "$MNT/upper/dir")" "trusted.overlay.opaque of the upper dir"
assert_content "$MNT/upper/renamed" $'lower\nchanged\n'
[[ ! -e "$MNT/upper/a" || $(stat -c %F "$MNT/upper/a") == "character special file" ]] ||
	fail "upper/a after the rename is neither gone nor a whiteout"
cmp <(head -c 4096 "$L/big") <(head -c 4096 "$MNT/upper/big") || fail "upper/big does not hold the copied-up bytes"
ok "the upper directory holds the changes: a 0:0 whiteout for b, trusted.overlay.opaque=y on dir, the renamed and copied-up files"
