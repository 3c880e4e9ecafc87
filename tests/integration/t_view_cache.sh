#!/usr/bin/env bash
# A view keeps the kernel page cache its own writes went through: the next
# open neither drops it nor reads the bytes back from the daemon (a write,
# then fincore: every page resident; a read: no byte from the daemon). A change made
# to the backing file outside the mount still shows at the next open, also
# when a write through the view came after it; a hole punched through the
# view keeps the rest of the cache.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
command -v fincore >/dev/null || skip "fincore (util-linux) missing"
W=$RFS_WORK
B=$W/backing
view_words "$B" $((8 * MiB))
head -c $((4 * MiB)) /dev/urandom >"$W/pat"

cat >"$W/views.ini" <<EOF
[regionfs]
size = 16M

[view:v]
file = $B
offset = 1M
length = 4M
access = rw
EOF
rfs_mount -c "$W/views.ini"
V=$MNT/v

# read_bytes: bytes the daemon returned to READ requests of files (not of metrics).
read_bytes() { awk '$1 == "regionfs_read_bytes_total" { print $2 }' "$MNT/.regionfs/metrics"; }
# resident FILE: bytes of FILE in the page cache, as fincore reports them (it opens FILE).
resident() { fincore --bytes --noheadings --output RES "$1" | tr -d ' '; }

# The write fills the view's cache (write-through); fincore's open is the
# open that used to drop it. Another process dropping caches meanwhile
# (drop_caches) would empty it too, so a miss is tried again, twice.
for attempt in 1 2 3; do
	view_put "$V" 0 <"$W/pat"
	got=$(resident "$V")
	[[ $got == $((4 * MiB)) ]] && break
done
assert_eq $((4 * MiB)) "$got" "bytes of the view in the page cache after a write through it, close and a new open"
r0=$(read_bytes)
cmp "$V" "$W/pat" || fail "the view does not read back what was written through it"
assert_eq "$r0" "$(read_bytes)" "bytes the daemon read for reading back 4 MiB just written through the view"
cmp <(view_window "$B" $((1 * MiB)) $((4 * MiB))) "$W/pat" || fail "backing file window after the write"
ok "a write through a view keeps its page cache across close and open (4 MiB resident, no byte read from the daemon to read it back)"

# --- a change from outside after our writes still shows
printf 'OUTSIDE-A' | view_put "$B" $((1 * MiB + 4096))
assert_eq OUTSIDE-A "$(view_window "$V" 4096 9)" "view opened after an outside change that followed a write through it"

# --- a change from outside before one of our writes still shows: the
# writer has the view open already, so only the write can notice it
cat "$V" >/dev/null
python3 - "$V" "$B" <<'EOF' || fail "outside write, then a write through a view opened before it"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
out = os.open(sys.argv[2], os.O_WRONLY)
os.pwrite(out, b"OUTSIDE-B", (1 << 20) + 8192)
os.close(out)
os.pwrite(fd, b"OURS-B", 3 << 20)
os.close(fd)
EOF
assert_eq OUTSIDE-B "$(view_window "$V" 8192 9)" "view opened after an outside change and then a write through it"
assert_eq OURS-B "$(view_window "$V" $((3 * MiB)) 6)" "the write through the view"
ok "a change made outside the mount shows at the next open, before or after writes through the view"

# --- a hole punched through the view drops only its range
for attempt in 1 2 3; do
	view_put "$V" 0 <"$W/pat"
	fallocate --punch-hole --keep-size --offset $((1 * MiB)) --length $((1 * MiB)) "$V" ||
		fail "fallocate --punch-hole through the view"
	got=$(resident "$V")
	[[ $got == $((3 * MiB)) ]] && break
done
assert_eq $((3 * MiB)) "$got" "bytes of the view in the page cache after punching 1 MiB of 4"
assert_eq 0 "$(view_window "$V" $((1 * MiB)) $((1 * MiB)) | tr -d '\0' | wc -c)" "non-zero bytes in the punched range"
tail -c $((2 * MiB)) "$W/pat" >"$W/pat.tail"
view_same "$V" $((2 * MiB)) "$W/pat.tail" "bytes after the punched range"
ok "a hole punched through a view keeps the rest of its page cache (3 MiB of 4 resident), reads zeros"
