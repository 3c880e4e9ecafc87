#!/usr/bin/env bash
# Crash durability under fio: 2 fio jobs write random 4 KiB blocks with crc32c
# verify headers and --fsync=1 into two adjacent rw views (unaligned offsets of
# one backing file, so they share the backing page at their boundary); the
# DAEMON (not fio) is killed with SIGKILL mid-run. fio's writes then fail
# (ECONNABORTED / ENOTCONN; ECANCELED over io_uring) and each job saves its verify state
# (--verify_state_save: local-<job>-<thread>-verify.state in fio's working dir,
# $FIO_DIR) - the blocks whose write() had returned. After the dead mount is
# reaped, a new daemon mounts the same config and fio --verify_only
# --verify_state_load=1 must find every one of those blocks, exactly as many
# bytes as the writer completed; fio must exit 0.
#
# Each round uses its own --randseed (fio checks each block's seed in its
# header, so a block left over from an earlier round fails) and starts from
# a zeroed window. The backing file lives on ext4 in a loop image when one can
# be mounted (as in t_view_crash.sh), else in $RFS_WORK.
#
# Not covered, on purpose:
# - regions: they live in the daemon's memory and die with it, so there is
#   nothing to verify after a kill -9.
# - the mmap engine: fio counts a block as written when its memcpy into the
#   mapping returns, before the msync that sends it to the daemon, so the
#   last block may rightly be lost.
# - -o writeback: write() returns once the kernel caches the data; fio counts
#   the block before its fsync, so again the last one may rightly be lost.
#
# Short form: 3 crashes; RFS_SOAK=1: 30 crashes, bigger windows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"
. "$(dirname "$0")/fio_lib.sh"

rfs_require
fio_require
W=$RFS_WORK
start=$SECONDS

if ((FIO_SOAK)); then
	CRASHES=30
	VS=$((64 * MiB))
	KILL_MS=(0 5000) # once both jobs have written, kill after a delay in this range
else
	CRASHES=3
	VS=$((32 * MiB))
	KILL_MS=(0 2000)
fi

D=$W/disk
mkdir "$D"
if command -v mkfs.ext4 >/dev/null && truncate -s $((2 * VS + 64 * MiB)) "$W/disk.img" &&
	mkfs.ext4 -q -F -b 4096 "$W/disk.img" >/dev/null 2>&1 &&
	mount -o loop "$W/disk.img" "$D" 2>/dev/null; then
	view_extra_mount "$D"
	where="ext4 on a loop device"
else
	where="$(stat -f -c %T "$W") in $W (no loop mount)"
fi

B=$D/back
base=$((MiB + 4095))
tail=$((64 * KiB + 5))
head -c "$base" /dev/urandom >"$W/head"
head -c "$tail" /dev/urandom >"$W/tail"
cat "$W/head" >"$B"
truncate -s $((base + 2 * VS)) "$B"
cat "$W/tail" >>"$B"
sync "$B"
cfg=$W/crash.ini
for j in 0 1; do
	cat >>"$cfg" <<-EOF
		[view:c$j]
		file = $B
		offset = $((base + j * VS))
		length = $VS
		access = rw
	EOF
done

# opts SEED: the fio options of a round, shared by writer and verifier; names:
# the two jobs, one per view. Options after the first --name belong to that
# job only, so the names come last on each command line.
# --allow_file_create=0: a missing view is an error (fio would otherwise lay
# out a fresh file and "verify" that).
opts() {
	echo --rw=randwrite --bs=4k --verify=crc32c --randseed="$1" \
		--ioengine=psync --size="$VS" --fallocate=none --allow_file_create=0
}
names() { echo --name=c0 --filename="$MNT/c0" --name=c1 --filename="$MNT/c1"; }

# fio_blocks FILE OFFSET LENGTH: how many 4 KiB blocks of that window start
# with fio's verify header magic (0xacca): blocks some write reached.
fio_blocks() {
	python3 - "$@" <<'PY'
import sys
path, off, length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = 0
with open(path, "rb") as f:
    f.seek(off)
    while length > 0:
        chunk = f.read(min(length, 1 << 20))
        if not chunk:
            break
        n += sum(1 for i in range(0, len(chunk), 4096) if chunk[i:i + 2] == b"\xca\xac")
        length -= len(chunk)
print(n)
PY
}

# An errno of a write cut off by the daemon's death: ECONNABORTED, ENOTCONN;
# over io_uring (run.sh RFS_TRANSPORT=io_uring) a request still in a ring is
# ended by the kernel's ring teardown with ECANCELED.
cut_off() {
	[[ $1 == 103 || $1 == 107 ]] ||
		[[ $1 == 125 && " ${RFS_MOUNT_OPTS:-} " == *" io_uring "* ]]
}

# started: both jobs have a block in their window.
started() { (($(fio_blocks "$B" "$base" "$VS") > 0 && $(fio_blocks "$B" $((base + VS)) "$VS") > 0)); }

total_blocks=0
total_bytes=0
for ((round = 1; round <= CRASHES; round++)); do
	seed=$((round * 7919 + $$))
	# A zeroed window each round: no block of an earlier round can pass.
	dd if=/dev/zero of="$B" bs=1M count=$((2 * VS / MiB)) seek="$base" \
		oflag=seek_bytes conv=notrunc status=none
	sync "$B"
	rm -f "$FIO_DIR"/*verify.state
	rfs_mount -c "$cfg"

	# shellcheck disable=SC2207
	o=($(opts "$seed"))
	# shellcheck disable=SC2207
	n=($(names))
	fio_run "w$round" "${o[@]}" --fsync=1 --do_verify=0 --verify_state_save=1 "${n[@]}" &
	fio_pid=$!
	wait_until 20 started || fail "round $round: fio wrote nothing in 20 s: $(fio_report "w$round")"
	delay=$((KILL_MS[0] + RANDOM * (KILL_MS[1] - KILL_MS[0]) / 32767))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -0 "$fio_pid" 2>/dev/null || fail "round $round: fio finished before the kill $delay ms after its first writes (raise VS)"
	kill -KILL "$RFS_PID"
	# (braces: keep bash's "Killed" notice for the daemon out of the output)
	{ wait "$fio_pid"; } 2>/dev/null || true
	view_reap_killed
	# fio_run ran in a subshell: read its status from the JSON, not FIO_RC.
	errs=$(fio_job_errors "w$round") || fail "round $round: writer: $(fio_report "w$round")"
	for e in $errs; do
		cut_off "$e" || fail "round $round: writer job error $e, want ECONNABORTED/ENOTCONN (or ECANCELED over io_uring): $(fio_report "w$round")"
	done
	read -r -a acked <<<"$(fio_job_bytes "w$round" write)"
	for j in 0 1; do
		compgen -G "$FIO_DIR/local-c$j-*-verify.state" >/dev/null ||
			fail "round $round: fio left no verify state for job c$j: $(ls "$FIO_DIR")"
	done
	((acked[0] > 0 && acked[1] > 0)) || fail "round $round: a job wrote nothing before the kill (${acked[*]})"

	# Independently of fio: the zeroed windows now hold the acknowledged
	# blocks, plus at most the one write per job the kill cut off.
	for j in 0 1; do
		nb=$(fio_blocks "$B" $((base + j * VS)) "$VS")
		((nb >= acked[j] / 4096 && nb <= acked[j] / 4096 + 1)) ||
			fail "round $round: view c$j's window holds $nb fio blocks, fio completed $((acked[j] / 4096))"
	done
	cmp -n "$base" "$B" "$W/head" || fail "round $round: bytes before the views changed"
	cmp -i $((base + 2 * VS)):0 "$B" "$W/tail" || fail "round $round: bytes after the views changed"

	rfs_mount -c "$cfg"
	# shellcheck disable=SC2207
	n=($(names)) # (the new mount has a new $MNT)
	fio_run "v$round" "${o[@]}" --verify_only --verify_state_load=1 --invalidate=1 "${n[@]}"
	fio_verified "v$round" $((acked[0] + acked[1])) "round $round: --verify_only --verify_state_load=1 after kill -9 ${delay} ms into the writes"
	read -r -a got <<<"$(fio_job_bytes "v$round" read)"
	assert_eq "${acked[*]}" "${got[*]}" "round $round: bytes verified per job (= bytes the writer completed)"
	rfs_unmount
	total_bytes=$((total_bytes + acked[0] + acked[1]))
	total_blocks=$((total_blocks + (acked[0] + acked[1]) / 4096))
	ok "crash $round: kill -9 $delay ms into the writes, fio cut off ($errs); remount: all $(((acked[0] + acked[1]) / 4096)) acknowledged blocks verified ($where)"
done

echo "# t_fio_crash: $CRASHES crashes survived, $total_blocks blocks ($(fio_mib "$total_bytes")) verified in $((SECONDS - start)) s$( ((FIO_SOAK)) && echo ' (soak)')"
