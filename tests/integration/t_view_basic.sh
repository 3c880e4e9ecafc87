#!/usr/bin/env bash
# Views: windows of a backing file at any byte offset read back byte-identical;
# rw writes reach the backing file by the time close() returns and show at once
# in an overlapping view; ro refuses writes; cow writes stay private; writes
# past the window are EFBIG; bad view configs exit 2 with file:line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
W=$RFS_WORK
B=$W/words  # 64 MiB, every 8-byte LE word holds its own offset
E=$W/expect # what B must hold: B plus every write made through rw views
export B
view_words "$B" $((64 * MiB))
cp "$B" "$E"
assert_eq 0000000000000000080000000000000010000000000000001800000000000000 \
	"$(head -c 32 "$B" | od -An -tx1 | tr -d ' \n')" "first words of the generated file"
S=$W/small # 1000 bytes; an rw view past its end must grow it
head -c 1000 /dev/urandom >"$S"
cp "$S" "$W/small.orig"

cfg=$W/views.ini
cat >"$cfg" <<EOF
[regionfs]
size = 64M

[view:rw]
file = $B
offset = 16M
length = 8M
access = rw

[view:sub/odd]
file = $B
offset = 4097
length = 12345
access = ro

[view:cow]
file = $B
offset = 32M
length = 4M
access = cow

[view:over]
file = $B
offset = 20M
length = 1M
access = rw
mode = 0640
uid = 1234
gid = 5678

[view:tail]
file = $B
offset = 60M
access = ro

[view:grow]
file = $S
offset = 4000
length = 1M
access = rw
EOF
rfs_mount -c "$cfg"

# --- sizes, modes, owners
assert_eq "regular file $((8 * MiB)) 644" "$(stat -c '%F %s %a' "$MNT/rw")" "rw: type size mode"
[[ -d "$MNT/sub" ]] || fail "view sub/odd did not create directory sub"
assert_eq "regular file 12345 444" "$(stat -c '%F %s %a' "$MNT/sub/odd")" "sub/odd (ro): type size mode"
assert_eq "regular file $((4 * MiB))" "$(stat -c '%F %s' "$MNT/cow")" "cow: type size"
assert_eq "$MiB 640 1234:5678" "$(stat -c '%s %a %u:%g' "$MNT/over")" "over: size mode uid:gid"
assert_eq "$((4 * MiB)) 444" "$(stat -c '%s %a' "$MNT/tail")" "tail (no length: to end of file): size mode"
assert_eq "$MiB" "$(stat -c %s "$MNT/grow")" "grow: size"
assert_eq "cow grow over rw sub tail" "$(find "$MNT" -mindepth 1 -maxdepth 1 ! -name .regionfs -printf '%f\n' | sort | xargs)" "root listing"
ok "views have st_size = window length (8M, 12345, 4M, 1M, to-EOF 4M), ro is 0444, mode/uid/gid apply"

# --- contents: byte-identical to the backing file's window
cmp "$MNT/rw" <(view_window "$B" $((16 * MiB)) $((8 * MiB))) || fail "rw view (16M+8M) differs from the window"
cmp "$MNT/sub/odd" <(view_window "$B" 4097 12345) || fail "ro view (4097+12345) differs from the window"
cmp "$MNT/cow" <(view_window "$B" $((32 * MiB)) $((4 * MiB))) || fail "cow view (32M+4M) differs from the window"
cmp "$MNT/over" <(view_window "$B" $((20 * MiB)) "$MiB") || fail "over view (20M+1M) differs from the window"
cmp "$MNT/tail" <(view_window "$B" $((60 * MiB)) $((4 * MiB))) || fail "tail view (60M..EOF) differs from the window"
ok "rw, ro (offset 4097, length 12345), cow, overlapping and to-EOF views cmp equal to their windows"
py "
fd = os.open(M + '/sub/odd', os.O_RDONLY)
w = lambda o: struct.unpack('<Q', os.pread(fd, 8, o))[0]
assert w(8192 - 4097) == 8192, 'word at view offset 4095: %d' % w(8192 - 4097)
assert w(12288 - 4097) == 12288, 'word at view offset 8191: %d' % w(12288 - 4097)
tail = os.pread(fd, 100, 12340)
assert tail == os.pread(os.open(os.environ['B'], os.O_RDONLY), 5, 4097 + 12340), 'last 5 bytes'
assert len(tail) == 5, 'pread of 100 at 12340 returned %d bytes, want 5' % len(tail)
assert os.pread(fd, 100, 12345) == b'', 'read at the window end is not EOF'
assert os.pread(fd, 100, 1 << 40) == b'', 'read far past the window end is not EOF'
"
ok "unaligned window: word at view offset 4095 holds 8192; reads stop at the window end (EOF)"

# --- rw grows a short backing file to fit, reserving the space
assert_eq $((4000 + MiB)) "$(stat -c %s "$S")" "size of the backing file of an rw view past its end"
(($(stat -c %b "$S") * 512 >= MiB)) || fail "grown backing file is not allocated: st_blocks $(stat -c %b "$S")"
cmp -n 1000 "$W/small.orig" "$S" || fail "growing changed the original bytes"
assert_zeros "$S" 1000 $((3000 + MiB))
assert_zeros "$MNT/grow" 0 "$MiB"
ok "rw view past the end of a 1000-byte file grew it to 4000+1M (allocated), zeros, old bytes kept"

# --- dd through the rw view: in the backing file when close() returns, and at
# once in an overlapping view whose cache is warm (open fd and a MAP_SHARED map)
head -c 65536 /dev/urandom >"$W/pat"
python3 - "$MNT" "$W/pat" "$E" <<'EOF' || fail "overlapping view did not show the write through rw at once"
import mmap, os, subprocess, sys
M, patf, expect = sys.argv[1:]
MiB = 1 << 20
pat = open(patf, "rb").read()
want_before = open(expect, "rb").read()[20 * MiB:21 * MiB]
over = os.open(M + "/over", os.O_RDONLY)
assert os.pread(over, MiB, 0) == want_before, "over: content before the write"
mm = mmap.mmap(over, MiB, mmap.MAP_SHARED, mmap.PROT_READ)
assert mm[:] == want_before, "over: mmap content before the write"
# rw view offset 4M - 1000 is file offset 20M - 1000: the last 64536 bytes land in over.
subprocess.run(["dd", "if=" + patf, "of=" + M + "/rw", "oflag=seek_bytes",
                "seek=%d" % (4 * MiB - 1000), "bs=64K", "conv=notrunc", "status=none"], check=True)
got = os.pread(over, 65536 - 1000, 0)
if got != pat[1000:]:
    sys.exit("read() of over (open, cached) after the write: %d of %d bytes differ" %
             (sum(a != b for a, b in zip(got, pat[1000:])), len(got)))
if mm[:65536 - 1000] != pat[1000:]:
    sys.exit("mmap of over after the write: stale")
if mm[65536 - 1000:] != want_before[65536 - 1000:]:
    sys.exit("over changed past the written range")
mm.close()
os.close(over)
EOF
view_put "$E" $((20 * MiB - 1000)) <"$W/pat"
view_same "$B" $((20 * MiB - 1000)) "$W/pat" "backing file right after dd through rw (mount up)"
view_same "$MNT/rw" $((4 * MiB - 1000)) "$W/pat" "rw view after its own write"
cmp "$B" "$E" || fail "backing file differs from the expected image after dd through rw"
ok "dd through rw: bytes in the backing file when dd exits (mount up), overlapping view (open fd, mmap) shows them at once"
cmp "$MNT/over" <(view_window "$E" $((20 * MiB)) "$MiB") || fail "over view re-read after the write"
ok "the overlapping view read afresh matches the backing file"

# --- an rw view mapped MAP_SHARED by a client: store + msync reach the backing file
python3 - "$MNT" "$B" <<'EOF' || fail "store through MAP_SHARED mapping of rw + msync"
import mmap, os, sys
M, B = sys.argv[1:]
MiB = 1 << 20
fd = os.open(M + "/rw", os.O_RDWR)
mm = mmap.mmap(fd, 8 * MiB, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
mm[5 * MiB + 7:5 * MiB + 23] = b"MMAP-STORE-12345"
mm.flush()  # msync(MS_SYNC)
bf = os.open(B, os.O_RDONLY)
got = os.pread(bf, 16, 21 * MiB + 7)
if got != b"MMAP-STORE-12345":
    sys.exit("backing file at 21M+7 after msync (mapping still up): %r" % got)
got = os.pread(fd, 16, 5 * MiB + 7)
if got != b"MMAP-STORE-12345":
    sys.exit("read() of rw after msync: %r" % got)
mm.close()
os.close(fd)
EOF
printf 'MMAP-STORE-12345' | view_put "$E" $((21 * MiB + 7))
cmp "$B" "$E" || fail "backing file differs from the expected image after the mmap store"
ok "mmap(MAP_SHARED) of rw: store + msync is in the backing file, mapping still up"

# --- past the window end: EFBIG, nothing written beyond
expect_errno EFBIG,ENOSPC "
fd = os.open(M + '/rw', os.O_WRONLY)
os.pwrite(fd, b'x', 8 << 20)"
expect_errno EFBIG,ENOSPC "
fd = os.open(M + '/rw', os.O_WRONLY)
os.pwrite(fd, b'x' * 4096, (8 << 20) + 12345)"
n=$(python3 -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    print(os.pwrite(fd, b"Z" * 10, (8 << 20) - 5))
except OSError as e:
    print(errno.errorcode[e.errno])
' "$MNT/rw") || fail "straddling pwrite crashed"
case $n in
5) printf 'ZZZZZ' | view_put "$E" $((24 * MiB - 5)) ;;
EFBIG | ENOSPC) ;;
*) fail "pwrite of 10 bytes at window end - 5: got '$n', want 5 or EFBIG" ;;
esac
assert_size "$MNT/rw" $((8 * MiB))
cmp "$B" "$E" || fail "a write past the window end changed the backing file outside the window (pwrite at 8M-5: $n)"
ok "write at/after the window end: EFBIG; straddling write: $n; nothing past the window written"
expect_errno EPERM "os.truncate(M + '/rw', 4096)"
expect_errno EPERM "os.truncate(M + '/rw', 16 << 20)"
assert_size "$MNT/rw" $((8 * MiB))
assert_eq $((64 * MiB)) "$(stat -c %s "$B")" "backing file size after refused truncates"
ok "truncate of a view to another size: EPERM; sizes unchanged"

# --- ro refuses writes and writable shared mappings, even for root
expect_errno EACCES,EROFS "os.open(M + '/sub/odd', os.O_WRONLY)"
expect_errno EACCES,EROFS "os.open(M + '/sub/odd', os.O_RDWR)"
expect_errno EACCES,EROFS "os.open(M + '/tail', os.O_WRONLY | os.O_APPEND)"
expect_errno EACCES "os.truncate(M + '/sub/odd', 0)"
expect_errno EACCES "os.open(M + '/sub/odd', os.O_WRONLY | os.O_TRUNC)"
expect_errno EACCES,EPERM "
fd = os.open(M + '/sub/odd', os.O_RDONLY)
mmap.mmap(fd, 12345, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)"
printf 'x' | dd of="$MNT/sub/odd" conv=notrunc status=none 2>/dev/null && fail "dd into the ro view succeeded"
cmp "$MNT/sub/odd" <(view_window "$E" 4097 12345) || fail "ro view changed"
cmp "$B" "$E" || fail "backing file changed by writes to the ro view"
ok "ro (as root): open for write EACCES, truncate refused, mmap PROT_WRITE|MAP_SHARED EACCES, bytes unchanged"

# --- a backing file changed outside the mount is seen at the next open
cat "$MNT/rw" "$MNT/tail" >/dev/null # in the page cache now
for f in "$B" "$E"; do
	printf 'OUTSIDE-1' | view_put "$f" $((22 * MiB + 5))
	printf 'OUTSIDE-2' | view_put "$f" $((62 * MiB + 5))
done
assert_eq OUTSIDE-1 "$(view_window "$MNT/rw" $((6 * MiB + 5)) 9)" "rw view, opened after the backing file changed"
assert_eq OUTSIDE-2 "$(view_window "$MNT/tail" $((2 * MiB + 5)) 9)" "ro view, opened after the backing file changed"
cmp "$MNT/rw" <(view_window "$E" $((16 * MiB)) $((8 * MiB))) || fail "rw view after the outside change"
ok "a change made to the backing file outside the mount shows at the next open (rw and ro views, cache warm)"

# --- cow: the write shows through the view only
sum0=$(view_sum "$B")
view_put "$MNT/cow" 123 <"$W/pat"
view_same "$MNT/cow" 123 "$W/pat" "cow view after its write"
cp "$W/pat" "$W/pat.cow"
view_window "$E" $((32 * MiB)) $((4 * MiB)) >"$W/cow.expect"
view_put "$W/cow.expect" 123 <"$W/pat"
cmp "$MNT/cow" "$W/cow.expect" || fail "cow view: bytes outside the write changed"
assert_eq "$sum0" "$(view_sum "$B")" "sha256 of the backing file after a cow write"
cmp "$B" "$E" || fail "backing file differs from the expected image after a cow write"
python3 - "$MNT/cow" "$W/pat" <<'EOF' || fail "cow view: MAP_SHARED store + msync"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
mm = mmap.mmap(fd, 4 << 20, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
assert mm[123:123 + 65536] == open(sys.argv[2], "rb").read(), "cow mmap does not show the earlier write"
mm[3 << 20:(3 << 20) + 8] = b"COW-MMAP"
mm.flush()
mm.close()
os.close(fd)
fd = os.open(sys.argv[1], os.O_RDONLY)
got = os.pread(fd, 8, 3 << 20)
assert got == b"COW-MMAP", "cow read after mmap store: %r" % got
EOF
printf 'COW-MMAP' | view_put "$W/cow.expect" $((3 * MiB))
cmp "$MNT/cow" "$W/cow.expect" || fail "cow view after the mmap store"
assert_eq "$sum0" "$(view_sum "$B")" "sha256 of the backing file after a cow mmap store"
ok "cow: dd and mmap stores show through the cow view (reopened); backing file sha256 unchanged"

# --- everything reaches (or stays out of) the backing file across unmount
rfs_unmount
cmp "$B" "$E" || fail "backing file after unmount differs from the expected image (rw writes in, cow writes out)"
ok "after unmount the backing file holds exactly the rw writes and none of the cow writes"

# --- bad view configs: exit 2, FILE:LINE:, nothing mounted
view_bad_config "3 4" "missing backing file" <<EOF
[regionfs]
size = 64M
[view:x]
file = $W/no-such-file
offset = 0
access = ro
EOF
grep -qF "$W/no-such-file" "$W/bad.err" || fail "missing backing file not named: $(cat "$W/bad.err")"
ok "view of a missing file: exit 2, FILE:LINE:, path named"
view_bad_config "3 4 5 6 7" "ro window past EOF" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = 60M
length = 8M
access = ro
EOF
view_bad_config "3 4 5 6 7" "cow window past EOF" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = 64M
length = 1
access = cow
EOF
assert_eq $((64 * MiB)) "$(stat -c %s "$B")" "backing file size after refused ro/cow views past EOF"
ok "ro and cow windows past the end of the file: exit 2, FILE:LINE:, file not grown"
view_bad_config 7 "access = bogus" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = 0
length = 4K
access = bogus
EOF
view_bad_config 5 "offset = 20000000T" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = 20000000T
length = 4K
access = rw
EOF
view_bad_config 6 "offset + length overflow" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = 5000000T
length = 5000000T
access = rw
EOF
view_bad_config 5 "negative offset" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = -4096
access = rw
EOF
view_bad_config 4 "relative file path" <<EOF
[regionfs]
size = 64M
[view:x]
file = words
access = ro
EOF
view_bad_config 3 "view without file" <<EOF
[regionfs]
size = 64M
[view:x]
offset = 0
access = ro
EOF
view_bad_config 7 "unknown key in a view" <<EOF
[regionfs]
size = 64M
[view:x]
file = $B
offset = 0
access = ro
colour = blue
EOF
assert_eq $((64 * MiB)) "$(stat -c %s "$B")" "backing file size after the refused configs"
ok "access = bogus, offset 20000000T, offset+length overflow, negative offset, relative path, no file, unknown key: exit 2, FILE:LINE:"
