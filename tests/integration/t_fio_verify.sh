#!/usr/bin/env bash
# Data integrity under fio: 2 jobs write random blocks (512 B to 64 KiB in
# 512-byte steps, at 512-aligned offsets, so most straddle or split pages) with
# crc32c verify headers, psync and mmap
# engines, then read them back:
#
#   regions: write + verify (--do_verify=1) in one fio; then, after the page
#     cache is dropped, a separate fio process --verify_only --invalidate=1 --allow_file_create=0,
#     once with each engine (so mmap-written data is checked by read() and the
#     other way round).
#   views (adjacent windows at unaligned offsets of one backing file, so
#     neighbouring views share backing pages): the same, then unmount, drop
#     caches, remount with the same config and --verify_only again through the
#     views; and a check of the backing file itself: each window is copied out
#     of it and fio --verify_only reads the copy (fio's headers record each
#     block's file offset, so a window at offset N cannot be verified in place);
#     the bytes around the windows must be unchanged.
#
# Short form by default; RFS_SOAK=1 runs bigger files, several rounds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"
. "$(dirname "$0")/fio_lib.sh"

rfs_require
fio_require
W=$RFS_WORK
start=$SECONDS

if ((FIO_SOAK)); then
	RS=$((256 * MiB)) # region: bytes per job
	VS=$((128 * MiB)) # view: window per job
	ROUNDS=2
else
	RS=$((16 * MiB))
	VS=$((12 * MiB))
	ROUNDS=1
fi
ENGINES=(psync mmap)
dropped="page cache dropped"
fio_drop_caches || dropped="page cache NOT dropped (/proc/sys/vm/drop_caches not writable; --invalidate=1 only)"

# Options shared by every run of a job; only the engine and the phase differ.
# randseed makes the offsets, lengths and data of a round reproducible, so a
# later --verify_only replays exactly what was written. (Not --bs_unaligned:
# with it fio 3.33 lays a file out short, then a --verify_only run lays it out
# again, overwriting the data; it does so on tmpfs too.) Runs that must find
# their files say --allow_file_create=0: fio would otherwise lay out a missing
# file afresh and "verify" that.
common() {
	echo --rw=randwrite --bsrange=512-64k --verify=crc32c \
		--randseed="$1" --fallocate=none
}

# ----------------------------------------------------------------- regions

rfs_mount -o size=$((2 * ${#ENGINES[@]} * RS + 64 * MiB))
for ((round = 1; round <= ROUNDS; round++)); do
	for eng in "${ENGINES[@]}"; do
		t0=$SECONDS
		seed=$((1000 * round + ${#eng}))
		# shellcheck disable=SC2207
		args=($(common "$seed") --directory="$MNT" --name="r$eng" --numjobs=2 --size="$RS")
		fio_run "r$eng-w" "${args[@]}" --ioengine="$eng" --do_verify=1
		wrote=$(fio_bytes "r$eng-w" write)
		fio_verified "r$eng-w" "$wrote" "region, $eng: write + verify"
		# (random block sizes do not tile the file exactly)
		((wrote > 2 * RS * 9 / 10)) || fail "region, $eng: wrote only $wrote bytes"
		rfs_alive || fail "daemon died during the $eng write pass"
		for veng in "${ENGINES[@]}"; do
			fio_drop_caches || true
			fio_run "r$eng-v$veng" "${args[@]}" --ioengine="$veng" --verify_only --invalidate=1 --allow_file_create=0
			fio_verified "r$eng-v$veng" "$wrote" "region, written by $eng: separate --verify_only with $veng"
		done
		ok "round $round: regions, $eng, 2 jobs x $(fio_mib "$RS"): write+verify, then a separate fio (psync, mmap) after reopen, $dropped ($((SECONDS - t0)) s)"
		rm -f "$MNT/r$eng".*
	done
done
rfs_unmount

# ------------------------------------------------------------------- views

# Backing file on a real file system ($RFS_WORK): a head of random bytes, the
# views' windows back to back from an unaligned offset, a random tail.
B=$W/back
base=12345
nviews=$((2 * ${#ENGINES[@]}))
tail=$((MiB + 777))
head -c "$base" /dev/urandom >"$W/head"
head -c "$tail" /dev/urandom >"$W/tail"
cat "$W/head" >"$B"
truncate -s $((base + nviews * VS)) "$B"
cat "$W/tail" >>"$B"
cfg=$W/views.ini
: >"$cfg"
names=()
k=0
for eng in "${ENGINES[@]}"; do
	for j in 0 1; do
		names+=("v$eng$j")
		cat >>"$cfg" <<-EOF
			[view:v$eng$j]
			file = $B
			offset = $((base + k * VS))
			length = $VS
			access = rw
		EOF
		k=$((k + 1))
	done
done

# view_jobs ENGINE-OF-THE-VIEWS DIR: one fio job per view of that engine, on
# the files DIR/NAME (the views, or copies of their windows).
view_jobs() {
	local j
	for j in 0 1; do
		echo --name="v$1$j" --filename="$2/v$1$j"
	done
}

guards() {
	cmp -n "$base" "$B" "$W/head" || fail "bytes before the first view changed in $B"
	cmp -i $((base + nviews * VS)):0 "$B" "$W/tail" || fail "bytes after the last view changed in $B"
	assert_size "$B" $((base + nviews * VS + tail))
}

declare -A vwrote
for ((round = 1; round <= ROUNDS; round++)); do
	rfs_mount -c "$cfg"
	for eng in "${ENGINES[@]}"; do
		t0=$SECONDS
		seed=$((2000 * round + ${#eng}))
		# shellcheck disable=SC2207
		jobs_v=($(view_jobs "$eng" "$MNT"))
		# shellcheck disable=SC2207
		opts=($(common "$seed") --size="$VS")
		fio_run "v$eng-w" "${opts[@]}" --ioengine="$eng" --do_verify=1 --allow_file_create=0 "${jobs_v[@]}"
		wrote=$(fio_bytes "v$eng-w" write)
		vwrote[$eng]=$wrote
		fio_verified "v$eng-w" "$wrote" "views, $eng: write + verify"
		((wrote > 2 * VS * 9 / 10)) || fail "views, $eng: wrote only $wrote bytes"
		rfs_alive || fail "daemon died during the $eng write pass on views"
		for veng in "${ENGINES[@]}"; do
			fio_drop_caches || true
			fio_run "v$eng-v$veng" "${opts[@]}" --ioengine="$veng" --verify_only --invalidate=1 --allow_file_create=0 "${jobs_v[@]}"
			fio_verified "v$eng-v$veng" "$wrote" "views, written by $eng: separate --verify_only with $veng"
		done
		ok "round $round: views, $eng, 2 jobs x $(fio_mib "$VS") at unaligned offsets: write+verify, then a separate fio (psync, mmap) after reopen, $dropped ($((SECONDS - t0)) s)"
	done
	guards

	# Unmount (flushes every view), drop caches, remount: what the views serve
	# now comes from the backing file alone.
	t0=$SECONDS
	rfs_unmount
	fio_drop_caches || true
	guards
	rfs_mount -c "$cfg"
	for eng in "${ENGINES[@]}"; do
		seed=$((2000 * round + ${#eng}))
		# shellcheck disable=SC2207
		jobs_v=($(view_jobs "$eng" "$MNT"))
		# shellcheck disable=SC2207
		opts=($(common "$seed") --size="$VS")
		fio_run "v$eng-r" "${opts[@]}" --ioengine=psync --verify_only --invalidate=1 --allow_file_create=0 "${jobs_v[@]}"
		fio_verified "v$eng-r" "${vwrote[$eng]}" "views written by $eng, after unmount + remount: --verify_only"
	done
	rfs_unmount
	ok "round $round: views verified again after unmount, $dropped, remount ($((SECONDS - t0)) s)"

	# The backing file itself: copy each window out (at offset 0 of the copy)
	# and verify the copies.
	t0=$SECONDS
	mkdir -p "$W/copy"
	for eng in "${ENGINES[@]}"; do
		seed=$((2000 * round + ${#eng}))
		for j in 0 1; do
			k=0
			for n in "${names[@]}"; do
				[[ $n == "v$eng$j" ]] && break
				k=$((k + 1))
			done
			view_window "$B" $((base + k * VS)) "$VS" >"$W/copy/v$eng$j"
		done
		# shellcheck disable=SC2207
		jobs_c=($(view_jobs "$eng" "$W/copy"))
		# shellcheck disable=SC2207
		opts=($(common "$seed") --size="$VS")
		fio_run "v$eng-b" "${opts[@]}" --ioengine=psync --verify_only --allow_file_create=0 "${jobs_c[@]}"
		fio_verified "v$eng-b" "${vwrote[$eng]}" "windows of the backing file written through $eng views: --verify_only"
		rm -f "$W/copy/v$eng"?
	done
	guards
	ok "round $round: the backing file holds every view's blocks at its window; bytes outside the windows unchanged ($((SECONDS - t0)) s)"
done

echo "# t_fio_verify: $(fio_mib "$FIO_VERIFIED") verified ($FIO_VERIFIED bytes) in $((SECONDS - start)) s$( ((FIO_SOAK)) && echo ' (soak)')"
