#!/usr/bin/env bash
# Overlapping mappings of the same bytes with unsaved stores: each view (or
# a region and its window) has its own kernel page cache, written back a
# whole page at a time. A client's mmap store left dirty in one must not
# come back later over bytes another wrote in the same page: write(),
# msync and commit through the other keep both changes.
. "$(dirname "$0")/lib.sh"

W=$RFS_WORK
mkdir -p "$W/back"
cat >"$W/rfs.ini" <<EOF
[regionfs]
size = 64M
allowed_roots = $W/back
EOF
head -c 65536 /dev/zero >"$W/back/ov"
head -c 65536 /dev/zero >"$W/back/cc"
rfs_mount -c "$W/rfs.ini"

# hold_store PATH OFFSET: a process maps PATH, stores 'A' at OFFSET without
# msync and keeps the mapping (and its dirty page) until killed.
hold_store() {
	python3 -c '
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, os.fstat(fd).st_size)
m[int(sys.argv[2])] = 65
print("stored", flush=True)
time.sleep(60)' "$1" "$2" >"$W/hold.out" &
	HOLD=$!
	wait_until 10 grep -q stored "$W/hold.out" || fail "the holder did not store"
}
release() {
	kill "$HOLD" 2>/dev/null || true
	wait "$HOLD" 2>/dev/null || true
}
# at FILE OFFSET LEN: LEN bytes of FILE at OFFSET, as text.
at() { dd if="$1" bs=1 skip="$2" count="$3" status=none; }

# --- two views of one file: v1 the whole file, v2 from 4 KiB
rfs_ctl "view ov1 file=$W/back/ov length=64K"
rfs_ctl "view ov2 file=$W/back/ov offset=4K length=32K"
hold_store "$MNT/ov1" 8192
printf 'WRITTEN-BY-V2' | dd of="$MNT/ov2" bs=13 seek=4196 oflag=seek_bytes conv=notrunc status=none
assert_eq WRITTEN-BY-V2 "$(at "$MNT/ov2" 4196 13)" "v2's write read back through v2"
assert_eq WRITTEN-BY-V2 "$(at "$MNT/ov1" 8292 13)" "v2's write read through v1"
release
rfs_ctl "flush all"
assert_eq WRITTEN-BY-V2 "$(at "$W/back/ov" 8292 13)" "v2's write in the file"
assert_eq A "$(at "$W/back/ov" 8192 1)" "v1's mmap store in the file"
ok "views: a dirty mmap page of one view does not undo a write() through the other"

# --- a region and its window, both ways
rfs_ctl "region lw size=64K"
rfs_ctl "view lww region=lw offset=4K length=32K"
hold_store "$MNT/lw" 8192
printf 'WINDOW-WRITE' | dd of="$MNT/lww" bs=12 seek=4196 oflag=seek_bytes conv=notrunc status=none
assert_eq WINDOW-WRITE "$(at "$MNT/lw" 8292 12)" "window's write read through the region"
release
assert_eq WINDOW-WRITE "$(at "$MNT/lww" 4196 12)" "window's write after the region's write-back"
assert_eq A "$(at "$MNT/lw" 8192 1)" "region's mmap store"
hold_store "$MNT/lww" 8192
printf 'REGION-WRITE' | dd of="$MNT/lw" bs=12 seek=12488 oflag=seek_bytes conv=notrunc status=none
python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 32768)
m.flush()' "$MNT/lww"
release
assert_eq REGION-WRITE "$(at "$MNT/lw" 12488 12)" "region's write after the window's write-back"
assert_eq A "$(at "$MNT/lw" 12288 1)" "window's mmap store, in the region"
ok "region and window: a dirty page of either does not undo a write() through the other"

# --- commit of a cow view under a dirty rw mapping of the same bytes
rfs_ctl "view ccrw file=$W/back/cc length=64K"
rfs_ctl "view cccow file=$W/back/cc length=64K access=cow"
hold_store "$MNT/ccrw" 8192
printf 'COMMITTED' | dd of="$MNT/cccow" bs=9 seek=8292 oflag=seek_bytes conv=notrunc status=none
rfs_ctl "commit cccow"
release
rfs_ctl "flush all"
assert_eq COMMITTED "$(at "$W/back/cc" 8292 9)" "committed bytes in the file"
assert_eq A "$(at "$W/back/cc" 8192 1)" "the rw view's mmap store in the file"
ok "commit under a dirty rw mapping of the same page keeps both"
