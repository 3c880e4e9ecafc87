#!/usr/bin/env bash
# A view of a 1 TiB sparse file: write and read back at 0, 500 GiB and
# 1 TiB - 4 KiB; stream 8 GiB through it with O_DIRECT (every request reaches
# the daemon) while the daemon's RSS stays under 256 MiB and the part of the
# file it has mapped stays bounded.
#
# Environment: RFS_HUGE_GIB (GiB to stream, default 8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
W=$RFS_WORK
stream_gib=${RFS_HUGE_GIB:-8}
avail=$(df -B1 --output=avail "$W" | tail -1)
((avail > (stream_gib + 4) * GiB)) ||
	skip "$W has $((avail / GiB)) GiB free, need $((stream_gib + 4)) GiB for a ${stream_gib} GiB stream"
H=$W/huge
truncate -s 1T "$H" || skip "cannot make a 1 TiB sparse file on $(stat -f -c %T "$W")"
# window_max bounds what the daemon maps of its backing files at once, and
# with it the file pages its RSS can hold; 128M keeps it well under 256 MiB.
cat >"$W/huge.ini" <<EOF
[regionfs]
window_max = 128M

[view:big]
file = $H
access = rw
EOF
rfs_mount -c "$W/huge.ini"
assert_size "$MNT/big" "$TiB"
ok "a rw view of a whole 1 TiB sparse file mounts, st_size 1 TiB"

offs=(0 $((500 * GiB)) $((TiB - 4096)))
for i in "${!offs[@]}"; do
	head -c 4096 /dev/urandom >"$W/pat$i"
	dd if="$W/pat$i" of="$MNT/big" bs=4096 count=1 oflag=seek_bytes seek="${offs[i]}" conv=notrunc status=none ||
		fail "dd write of 4 KiB at ${offs[i]}"
done
for i in "${!offs[@]}"; do
	view_same "$MNT/big" "${offs[i]}" "$W/pat$i" "read back through the view"
	view_same "$H" "${offs[i]}" "$W/pat$i" "backing file"
done
assert_zeros "$MNT/big" 4096 4096
assert_zeros "$MNT/big" $((500 * GiB - 4096)) 4096
assert_eq 0 "$(dd if="$MNT/big" bs=4096 iflag=skip_bytes skip="$TiB" count=1 status=none | wc -c)" "bytes read at 1 TiB"
expect_errno EFBIG,ENOSPC "os.pwrite(os.open(M + '/big', os.O_WRONLY), b'x', 1 << 40)"
assert_size "$H" "$TiB"
ok "distinct 4 KiB patterns at 0, 500 GiB, 1 TiB - 4 KiB read back (view and backing file); EOF and EFBIG at 1 TiB"

# --- stream through it, sampling the daemon's RSS and its mappings of the file
touch "$W/sampling"
python3 "$(dirname "$0")/view_sample.py" "$RFS_PID" "$H" "$W/sampling" "$W/max" 0.2 &
sampler=$!
count=$((stream_gib * 1024))
seek=$((100 * 1024)) # MiB: stream into [100 GiB, 100 GiB + stream)
t0=${EPOCHREALTIME/./}
dd if=/dev/zero of="$MNT/big" bs=1M count="$count" seek="$seek" oflag=direct conv=notrunc status=none ||
	fail "streaming $stream_gib GiB into the view with dd oflag=direct failed"
t1=${EPOCHREALTIME/./}
dd if="$MNT/big" of=/dev/null bs=1M count="$count" skip="$seek" iflag=direct status=none ||
	fail "streaming $stream_gib GiB out of the view with dd iflag=direct failed"
t2=${EPOCHREALTIME/./}
rm "$W/sampling"
wait "$sampler"
[[ -s "$W/max" ]] || fail "the memory sampler recorded nothing"
read -r max_rss max_vm max_map <"$W/max"
wr=$(((count * 1000000) / (t1 - t0 + 1)))
rd=$(((count * 1000000) / (t2 - t1 + 1)))
echo "# streamed $stream_gib GiB: write $wr MiB/s ($(((t1 - t0) / 1000)) ms), read $rd MiB/s ($(((t2 - t1) / 1000)) ms)"
echo "# daemon max VmRSS $((max_rss / 1024)) MiB, max mapped of the 1 TiB file $((max_map / 1024)) MiB, max VmSize $((max_vm / 1024)) MiB"
((max_rss > 0 && max_map > 0)) || fail "no memory sample taken (rss $max_rss, mapped $max_map)"
# ThreadSanitizer's shadow memory is RSS the daemon does not own; the mapped
# bound below still holds there.
if [[ ${SANITIZE:-} != thread ]]; then
	((max_rss < 256 * 1024)) || fail "daemon VmRSS reached $((max_rss / 1024)) MiB (limit 256 MiB)"
fi
((max_map < 256 * 1024)) ||
	fail "daemon had $((max_map / 1024)) MiB of the backing file mapped at once (want a bounded window set, < 256 MiB)"
ok "streamed $stream_gib GiB in and out (O_DIRECT): max RSS $((max_rss / 1024)) MiB < 256 MiB, at most $((max_map / 1024)) MiB of the file mapped"
blocks=$(stat -c %b "$H")
((blocks * 512 >= stream_gib * GiB)) || fail "backing file has only $((blocks * 512)) bytes allocated after the stream"
for i in "${!offs[@]}"; do
	view_same "$MNT/big" "${offs[i]}" "$W/pat$i" "pattern after the stream"
done
assert_zeros "$MNT/big" $((100 * GiB - 4096)) 4096
ok "after the stream: the data is allocated in the backing file, the patterns are intact"

rfs_unmount
for i in "${!offs[@]}"; do
	view_same "$H" "${offs[i]}" "$W/pat$i" "backing file after unmount"
done
rm -f "$H"
ok "after unmount the backing file holds the patterns; deleted"
