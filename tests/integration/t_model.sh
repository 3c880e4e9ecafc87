#!/usr/bin/env bash
# Model-checked random operations (tests/model/rfs_model.py) on a region and,
# at the same time, on a rw view whose window starts at an unaligned offset
# of its backing file and spans several of its 2 MiB chunks: reads, writes,
# truncates (EPERM for the view), mmap loads and stores, fsyncs (then the
# view's backing file is compared directly), close/reopen with the page cache
# dropped. Short form: 20,000 operations each; RFS_SOAK=1: 1,000,000 each.
# RFS_OPS overrides the count, RFS_SEED the seed of the region run (the view
# uses RFS_SEED + 1); a failure prints the command that replays it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

MODEL=$RFS_ROOT/tests/model/rfs_model.py
W=$RFS_WORK
if [[ -n "${RFS_SOAK:-}" ]]; then
	ops=${RFS_OPS:-1000000}
	progress=60
elif [[ ${SANITIZE:-} == thread ]]; then
	ops=${RFS_OPS:-2000} # ThreadSanitizer slows the daemon ~10x: fit the time limit
	progress=0
else
	ops=${RFS_OPS:-20000}
	progress=0
fi
seed=${RFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

# The backing file: every 8-byte word holds its offset (the same bytes on
# every run, so a seed replays). The window: 8 MiB + 777 bytes from an offset
# 3 pages + 100 bytes past a chunk boundary, so it touches 5 chunks.
B=$W/back
view_words "$B" $((16 * MiB))
voff=$((2 * MiB + 3 * 4096 + 100))
vlen=$((8 * MiB + 777))
cat >"$W/model.ini" <<EOF
[regionfs]
size = 64M

[view:v]
file = $B
offset = $voff
length = $vlen
access = rw
EOF
rfs_mount -c "$W/model.ini"
assert_size "$MNT/v" "$vlen"

start=$SECONDS
python3 "$MODEL" --path "$MNT/r" --kind region --ops "$ops" --seed "$seed" \
	--max-size $((8 * MiB)) --progress "$progress" >"$W/region.out" 2>&1 &
rpid=$!
python3 "$MODEL" --path "$MNT/v" --kind view --backing "$B" --offset "$voff" \
	--ops "$ops" --seed $((seed + 1)) --progress "$progress" >"$W/view.out" 2>&1 &
vpid=$!
rst=0 vst=0
wait "$rpid" || rst=$?
wait "$vpid" || vst=$?
sed 's/^/# region: /' "$W/region.out"
sed 's/^/# view: /' "$W/view.out"
((rst == 0)) || fail "model check of a region failed (seed $seed): $(tail -n 40 "$W/region.out")"
ok "$ops model-checked operations on a region (seed $seed)"
((vst == 0)) || fail "model check of a view failed (seed $((seed + 1))): $(tail -n 40 "$W/view.out")"
ok "$ops model-checked operations on a view at offset $voff, length $vlen (seed $((seed + 1)))"
rfs_alive || fail "daemon gone after the model runs"
echo "# t_model: $((2 * ops)) operations in total, $((SECONDS - start)) s"
