#!/usr/bin/env bash
# Regular-file and directory operations a tmpfs user expects, driven by real tools.
. "$(dirname "$0")/lib.sh"

rfs_mount
W=$RFS_WORK

# --- the issue's "Done when" script
f=$MNT/testmap
truncate -s 10000 "$f"
printf 'HELLO, WORLD!' | dd of="$f" conv=notrunc status=none
assert_eq 'HELLO, WORLD!' "$(head -c 13 "$f")" "head -c 13"
assert_size "$f" 10000
assert_zeros "$f" 13 $((10000 - 13))
ok "truncate -s 10000; dd conv=notrunc; head -c 13 reads it back"
truncate -s 20M "$f"
assert_size "$f" 20971520
assert_eq 'HELLO, WORLD!' "$(head -c 13 "$f")" "head -c 13 after grow"
assert_zeros "$f" 13 $((20971520 - 13))
ok "grow to 20M keeps the bytes, the rest reads as zeros"
truncate -s 5 "$f"
assert_content "$f" HELLO
ok "shrink to 5 leaves exactly HELLO"
truncate -s 100 "$f"
assert_eq HELLO "$(head -c 5 "$f")" "head after regrow"
assert_zeros "$f" 5 95
ok "regrow after shrink reads zeros past the old end"

# --- bulk data
head -c 8M /dev/urandom >"$W/rand"
dd if="$W/rand" of="$MNT/dd8m" bs=1M status=none
cmp "$W/rand" "$MNT/dd8m" || fail "8 MiB dd bs=1M differs"
dd if="$W/rand" of="$MNT/dd8m-odd" bs=4097 status=none
cmp "$W/rand" "$MNT/dd8m-odd" || fail "8 MiB dd bs=4097 differs"
dd if="$MNT/dd8m" of="$W/back" bs=3333 status=none
cmp "$W/rand" "$W/back" || fail "8 MiB read back with bs=3333 differs"
ok "dd 8 MiB of random data in and out (bs 1M, 4097, 3333), cmp equal"
cp "$W/rand" "$MNT/copy"
cp "$MNT/copy" "$W/copy-out"
cmp "$W/rand" "$W/copy-out" || fail "cp in and out differs"
assert_size "$MNT/copy" 8388608
ok "cp in and out, cmp equal"
echo 'a much longer first line' >"$MNT/trunc"
echo short >"$MNT/trunc"
assert_content "$MNT/trunc" $'short\n'
head -c 1000 /dev/urandom >"$W/small"
cp "$W/small" "$MNT/copy"
cmp "$W/small" "$MNT/copy" || fail "cp of a 1000-byte file over an 8 MiB one differs"
assert_size "$MNT/copy" 1000
ok "open(O_TRUNC) truncates: shell > and cp over a larger file"

# --- directories
mkdir "$MNT/d"
: >"$MNT/d/x"
expect_errno ENOTEMPTY "os.rmdir(M + '/d')"
expect_errno EEXIST "os.mkdir(M + '/d')"
expect_errno ENOTDIR "os.rmdir(M + '/d/x')"
expect_errno EISDIR,EPERM "os.unlink(M + '/d')"
expect_errno ENOTDIR "os.open(M + '/d/x/y', os.O_CREAT | os.O_WRONLY)"
rm "$MNT/d/x"
rmdir "$MNT/d"
[[ ! -e "$MNT/d" ]] || fail "rmdir: d still exists"
expect_errno ENOENT "os.rmdir(M + '/d')"
ok "mkdir/rmdir; ENOTEMPTY, EEXIST, ENOTDIR, EISDIR, ENOENT"
mkdir -p "$MNT/a/b/c"
echo nested >"$MNT/a/b/c/f"
assert_eq nested "$(cat "$MNT/a/b/c/f")" "nested file"
assert_eq 3 "$(stat -c %h "$MNT/a/b")" "link count of a dir with one subdir"
[[ -d "$MNT/a/b/c" ]] || fail "nested dir missing"
ok "nested dirs (mkdir -p a/b/c) hold files"

# --- rename
echo one >"$MNT/r1"
echo two >"$MNT/r2"
mv "$MNT/r1" "$MNT/r2"
assert_eq one "$(cat "$MNT/r2")" "rename over existing"
[[ ! -e "$MNT/r1" ]] || fail "rename: source still exists"
mv "$MNT/r2" "$MNT/a/b/r3"
assert_eq one "$(cat "$MNT/a/b/r3")" "rename across dirs"
mv "$MNT/a/b" "$MNT/moved"
assert_eq nested "$(cat "$MNT/moved/c/f")" "file in renamed dir"
[[ ! -e "$MNT/a/b" ]] || fail "renamed dir still at old name"
ok "rename: plain, over an existing file, across dirs, of a directory"
mkdir -p "$MNT/rd1" "$MNT/rd2/full"
expect_errno ENOTEMPTY,EEXIST "os.rename(M + '/rd1', M + '/rd2')"
expect_errno ENOTDIR "os.rename(M + '/rd1', M + '/moved/c/f')"
expect_errno EISDIR "os.rename(M + '/moved/c/f', M + '/rd1')"
expect_errno EINVAL "os.rename(M + '/rd1', M + '/rd1/sub')"
rmdir "$MNT/rd2/full"
mv -T "$MNT/rd1" "$MNT/rd2"
[[ -d "$MNT/rd2" && ! -e "$MNT/rd1" ]] || fail "rename of a dir over an empty dir"
ok "rename errors: dir over non-empty dir, dir over file, file over dir, dir into itself"
echo n1 >"$MNT/n1"
echo n2 >"$MNT/n2"
expect_errno EEXIST "renameat2(M + '/n1', M + '/n2', 1)"
assert_eq n2 "$(cat "$MNT/n2")" "target after refused RENAME_NOREPLACE"
py "renameat2(M + '/n1', M + '/n3', 1)"
assert_eq n1 "$(cat "$MNT/n3")" "RENAME_NOREPLACE to a free name"
ok "renameat2 RENAME_NOREPLACE: EEXIST over a file, works to a free name"
echo x1 >"$MNT/x1"
echo x2 >"$MNT/x2"
py "renameat2(M + '/x1', M + '/x2', 2)"
assert_eq "x2 x1" "$(cat "$MNT/x1" "$MNT/x2" | xargs)" "contents after RENAME_EXCHANGE"
rm "$MNT/x1" "$MNT/x2"
ok "renameat2 RENAME_EXCHANGE swaps two files"

# --- create/unlink
expect_errno EEXIST "os.open(M + '/n2', os.O_CREAT | os.O_EXCL | os.O_WRONLY)"
rm "$MNT/n2"
expect_errno ENOENT "os.stat(M + '/n2')"
[[ ! -e "$MNT/n2" ]] || fail "unlink: still there"
ok "O_CREAT|O_EXCL on an existing file is EEXIST; unlink removes"

# --- attributes
chmod 0640 "$MNT/n3"
assert_eq 640 "$(stat -c %a "$MNT/n3")" "mode after chmod"
chmod 0700 "$MNT/moved"
assert_eq 700 "$(stat -c %a "$MNT/moved")" "dir mode after chmod"
chown 1234:5678 "$MNT/n3"
assert_eq 1234:5678 "$(stat -c %u:%g "$MNT/n3")" "owner after chown"
chown 4321 "$MNT/moved"
assert_eq 4321 "$(stat -c %u "$MNT/moved")" "dir owner after chown"
touch -m -d '2001-02-03 04:05:06 UTC' "$MNT/n3"
assert_eq 981173106 "$(stat -c %Y "$MNT/n3")" "mtime after touch -m -d"
touch -a -d '@1000000000' "$MNT/n3"
assert_eq 1000000000 "$(stat -c %X "$MNT/n3")" "atime after touch -a -d"
py "os.utime(M + '/n3', ns=(1500000000123456789, 1600000000987654321))"
assert_eq 1600000000.987654321 "$(stat -c %.9Y "$MNT/n3")" "mtime with ns"
ok "chmod, chown, touch -d, utime(ns) reflected in stat"
touch -d '2000-01-01 UTC' "$MNT/n3"
before=$(date +%s)
echo more >>"$MNT/n3"
read -r mtime ctime <<<"$(stat -c '%Y %Z' "$MNT/n3")"
((mtime >= before && ctime >= before)) || fail "write did not update mtime/ctime ($mtime $ctime < $before)"
ok "a write updates mtime and ctime"

# --- listing
mkdir "$MNT/ls"
: >"$MNT/ls/alpha"
: >"$MNT/ls/.hidden"
mkdir "$MNT/ls/sub"
ln -s alpha "$MNT/ls/link"
listing=$(ls -la "$MNT/ls")
for name in . .. alpha .hidden sub 'link -> alpha'; do
	awk -v n=" $name" 'substr($0, length($0) - length(n) + 1) == n { f = 1 } END { exit !f }' <<<"$listing" ||
		fail "ls -la lacks '$name': $listing"
done
assert_eq ".hidden alpha link sub" "$(find "$MNT/ls" -mindepth 1 -printf "%f\n" | sort | xargs)" "ls -A"
ok "ls -la shows ., .., files, dirs, symlinks"
mkdir "$MNT/many"
for ((i = 0; i < 500; i++)); do : >"$MNT/many/file-$i"; done
python3 - <<'EOF' || fail "readdir of 500 files wrong"
import os
d = os.environ["MNT"] + "/many"
names = os.listdir(d)
want = {f"file-{i}" for i in range(500)}
assert len(names) == 500, f"{len(names)} entries"
assert set(names) == want, f"missing {sorted(want - set(names))[:5]} extra {sorted(set(names) - want)[:5]}"
with os.scandir(d) as it:
    for e in it:
        assert e.is_file(follow_symlinks=False), e.name
EOF
assert_eq 500 "$(find "$MNT/many" -type f | wc -l)" "find count"
ok "readdir of 500 files: each exactly once"
rm -rf "$MNT/many" || fail "rm -rf of a directory of 500 files failed"
[[ ! -e "$MNT/many" ]] || fail "rm -rf left the directory behind"
ok "rm -rf of 500 files (unlink while reading the directory)"

# --- a real tree: cp -a, then compare content and metadata
src=/usr/include/linux
[[ -d "$src" ]] || src=$RFS_ROOT
cp -a "$src" "$MNT/tree" || fail "cp -a $src into the mount failed"
diff -r --no-dereference "$src" "$MNT/tree" >"$W/diff" || fail "diff -r after cp -a: $(head -5 "$W/diff")"
meta() { # directory sizes are file-system specific; everything else must match
	(cd "$1" && find . \( -type d -printf '%p d %m %u %g %T@\n' \) -o -printf '%p %y %m %u %g %s %l %T@\n' | LC_ALL=C sort)
}
diff <(meta "$src") <(meta "$MNT/tree") >"$W/diff" || fail "metadata after cp -a differs: $(head -6 "$W/diff")"
rm -rf "$MNT/tree" || fail "rm -rf of the copied tree failed"
ok "cp -a of $src: same content, modes, owners, sizes, symlinks and mtimes; rm -rf"

# --- statfs
df -B1 "$MNT" >/dev/null || fail "df failed"
total=$(df_size)
((total > 0)) || fail "statfs total is $total"
read -r bsize blocks <<<"$(stat -f -c '%S %b' "$MNT")"
assert_eq "$total" $((bsize * blocks)) "stat -f size"
used0=$(df_used)
head -c 4M /dev/urandom >"$MNT/used4m"
used1=$(df_used)
((used1 - used0 >= 4 * 1048576)) || fail "df used grew by $((used1 - used0)) after writing 4 MiB"
ok "statfs: df and stat -f agree (total $total), used grows with data"

# --- names
long=$(printf 'n%.0s' {1..255})
: >"$MNT/$long" || fail "create of a 255-byte name failed"
[[ -e "$MNT/$long" ]] || fail "255-byte name not found"
mkdir "$MNT/d$long" 2>/dev/null && fail "mkdir of a 256-byte name succeeded"
expect_errno ENAMETOOLONG "os.open(M + '/x' + 'n' * 255, os.O_CREAT | os.O_WRONLY)"
expect_errno ENAMETOOLONG "os.mkdir(M + '/x' + 'n' * 255)"
expect_errno ENAMETOOLONG "os.rename(M + '/n3', M + '/x' + 'n' * 255)"
ok "255-byte names work, 256 bytes is ENAMETOOLONG"
if [[ -d "$MNT/.regionfs" ]]; then
	refuse=EPERM,EACCES,EINVAL,EEXIST,EISDIR
else
	refuse=EPERM,EACCES,EINVAL
fi
expect_errno "$refuse" "os.open(M + '/.regionfs', os.O_CREAT | os.O_WRONLY)"
expect_errno "$refuse" "os.mkdir(M + '/.regionfs')"
expect_errno "$refuse,ENOTDIR" "os.rename(M + '/n3', M + '/.regionfs')"
: >"$MNT/moved/.regionfs" || fail "'.regionfs' below the root refused"
ok ".regionfs is refused at the root ($refuse), allowed in a subdirectory"

# --- links
echo shared >"$MNT/hl"
ln "$MNT/hl" "$MNT/hl2"
assert_eq 2 "$(stat -c %h "$MNT/hl")" "link count"
assert_eq "$(stat -c %i "$MNT/hl")" "$(stat -c %i "$MNT/hl2")" "inode of hard link"
printf 'CHANGED' | dd of="$MNT/hl2" conv=notrunc status=none
assert_content "$MNT/hl" CHANGED
rm "$MNT/hl"
assert_eq 1 "$(stat -c %h "$MNT/hl2")" "link count after rm"
assert_content "$MNT/hl2" CHANGED
ok "hard links: count 2, content shared, survives rm of one name"
ln -s hl2 "$MNT/sl"
ln -s /no/such/target "$MNT/dangling"
assert_eq hl2 "$(readlink "$MNT/sl")" "readlink"
assert_eq /no/such/target "$(readlink "$MNT/dangling")" "readlink dangling"
[[ -L "$MNT/sl" ]] || fail "symlink is not a symlink"
assert_content "$MNT/sl" CHANGED
ok "symlinks: readlink, followed on open"

# --- fallocate
fallocate -l 1M "$MNT/fa" || fail "fallocate -l 1M failed"
assert_size "$MNT/fa" 1048576
assert_zeros "$MNT/fa" 0 1048576
head -c 65536 /dev/urandom >"$W/r64k"
cp "$W/r64k" "$MNT/punch"
fallocate -p -o 4096 -l 8192 "$MNT/punch" || fail "fallocate -p failed"
assert_size "$MNT/punch" 65536
assert_zeros "$MNT/punch" 4096 8192
cmp -n 4096 "$W/r64k" "$MNT/punch" || fail "punch hole changed bytes before the hole"
cmp -i 12288:12288 "$W/r64k" "$MNT/punch" || fail "punch hole changed bytes after the hole"
fallocate -l 4096 "$MNT/punch"
assert_size "$MNT/punch" 65536
ok "fallocate -l grows, -p punches zeros keeping size; never shrinks"

# --- fsync, O_APPEND, sparse
py "
fd = os.open(M + '/sync', os.O_CREAT | os.O_RDWR)
os.write(fd, b'durable')
assert os.fsync(fd) is None
os.fdatasync(fd)
os.close(fd)
d = os.open(M, os.O_RDONLY)
os.fsync(d)
os.close(d)"
assert_content "$MNT/sync" durable
ok "fsync/fdatasync of a file and fsync of a directory succeed"
echo a >>"$MNT/app"
echo b >>"$MNT/app"
py "
fd = os.open(M + '/app', os.O_WRONLY | os.O_APPEND)
os.lseek(fd, 0, os.SEEK_SET)
os.write(fd, b'c\n')
os.close(fd)"
assert_content "$MNT/app" $'a\nb\nc\n'
ok "O_APPEND writes land at the end"
used0=$(df_used)
truncate -s 1G "$MNT/sparse"
assert_size "$MNT/sparse" 1073741824
dd if="$MNT/sparse" of="$W/hole" bs=4096 skip=$((512 * 256)) count=1 status=none
cmp "$W/hole" <(head -c 4096 /dev/zero) || fail "read at 512M of a sparse file is not 4096 zeros"
used1=$(df_used)
((used1 - used0 < 16 * 1048576)) || fail "truncate -s 1G used $((used1 - used0)) bytes"
blocks=$(stat -c %b "$MNT/sparse")
((blocks * 512 < 16 * 1048576)) || fail "sparse 1G file has st_blocks $blocks"
ok "sparse 1G file: 4096 zero bytes at 512M, no memory used for the hole"
blocks=$(stat -c %b "$MNT/dd8m")
((blocks * 512 >= 8388608)) || fail "8 MiB file has st_blocks $blocks (du would say $((blocks / 2)) KiB)"
ok "st_blocks of a dense 8 MiB file covers 8 MiB (du)"
truncate -s 100G "$MNT/far"
printf 'far away' | dd of="$MNT/far" bs=1 seek=$((50 << 30)) conv=notrunc status=none
assert_eq 'far away' "$(dd if="$MNT/far" bs=1 skip=$((50 << 30)) count=8 status=none)" "bytes at 50 GiB"
assert_size "$MNT/far" $((100 << 30))
ok "offsets past 4 GiB: write and read at 50 GiB of a 100G sparse file"

# --- permissions, on a mount other users may enter
if command -v setpriv >/dev/null; then
	rfs_unmount
	rfs_mount -o allow_other
	echo secret >"$MNT/private"
	chmod 0600 "$MNT/private"
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${nobody[@]}" cat "$MNT/private" >/dev/null 2>&1 && fail "uid 65534 read a 0600 file of root"
	chmod 0644 "$MNT/private"
	assert_eq secret "$("${nobody[@]}" cat "$MNT/private")" "uid 65534 reads a 0644 file"
	printf x | "${nobody[@]}" dd of="$MNT/private" conv=notrunc status=none 2>/dev/null &&
		fail "uid 65534 wrote a 0644 file of root"
	ok "permissions are enforced from mode and owner (uid 65534 vs 0600/0644)"
fi
