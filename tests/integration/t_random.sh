#!/usr/bin/env bash
# Randomized read/write/truncate/mmap operations checked against a model
# (random_ops.py); two files at once, so requests interleave in the daemon.
# RFS_OPS sets the number of operations (default 3000), RFS_SEED the seed of
# the first run (the second uses RFS_SEED + 1).
. "$(dirname "$0")/lib.sh"

rfs_mount
seed=${RFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
ops=${RFS_OPS:-3000}
python3 "$RFS_TESTDIR/random_ops.py" "$MNT/rand-a" --ops "$ops" --seed "$seed" &
a=$!
python3 "$RFS_TESTDIR/random_ops.py" "$MNT/rand-b" --ops "$ops" --seed $((seed + 1)) &
b=$!
wait "$a" || fail "random_ops on rand-a failed (RFS_SEED=$seed)"
ok "$ops random operations on rand-a (seed $seed)"
wait "$b" || fail "random_ops on rand-b failed (seed $((seed + 1)))"
ok "$ops random operations on rand-b (seed $((seed + 1)))"
