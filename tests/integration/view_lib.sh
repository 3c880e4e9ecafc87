# shellcheck shell=bash
# Helpers for the view tests (t_view_*.sh). Source after lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/view_lib.sh"
#
# view_extra_mount DIR registers a mount (tmpfs, loop) that the EXIT trap
# unmounts after regionfs has been stopped (the daemon holds files open on it).

KiB=1024
MiB=$((1024 * KiB))
GiB=$((1024 * MiB))
TiB=$((1024 * GiB))
export KiB MiB GiB TiB

_view_mounts=()

# view_extra_mount DIR: unmount DIR at exit, after the daemon is gone.
view_extra_mount() { _view_mounts+=("$1"); }

_view_cleanup() {
	local rc=$? p i
	set +e
	# Stop regionfs first, the way lib.sh does, so the extra mounts are not busy.
	if [[ -n "$RFS_PID" ]]; then
		for p in $(jobs -p); do
			[[ "$p" == "$RFS_PID" ]] || kill "$p" 2>/dev/null
		done
		if ! _rfs_stop; then
			echo "not ok - $RFS_TEST: daemon did not shut down cleanly" >&2
			((rc != 0 && rc != 77)) || rc=1
		fi
	fi
	for ((i = ${#_view_mounts[@]} - 1; i >= 0; i--)); do
		if mountpoint -q "${_view_mounts[i]}"; then
			umount "${_view_mounts[i]}" 2>/dev/null || umount -l "${_view_mounts[i]}"
		fi
	done
	(exit "$rc")
	_rfs_cleanup
}
trap _view_cleanup EXIT

# view_words FILE BYTES: a file whose every 8-byte little-endian word holds
# its own offset.
view_words() {
	python3 - "$1" "$2" <<'EOF'
import array, sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    step = 1 << 20
    for base in range(0, size, step):
        a = array.array("Q", range(base, min(base + step, size), 8))
        if sys.byteorder != "little":
            a.byteswap()
        f.write(a.tobytes())
EOF
}

# view_window FILE OFFSET LENGTH: print bytes [OFFSET, OFFSET+LENGTH) of FILE.
view_window() {
	dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" bs=1M status=none
}

# view_put FILE OFFSET < DATA: write stdin into FILE at byte OFFSET, no truncation.
view_put() {
	dd of="$1" oflag=seek_bytes seek="$2" bs=64K conv=notrunc status=none
}

# view_sum FILE: sha256 of FILE.
view_sum() { sha256sum "$1" | cut -d' ' -f1; }

# view_same FILE OFFSET EXPECTED_FILE WHAT: FILE holds EXPECTED_FILE at OFFSET.
view_same() {
	local out n
	n=$(stat -c %s "$3")
	out=$(cmp "$3" <(view_window "$1" "$2" "$n") 2>&1) ||
		fail "$4: $1 at offset $2 differs from $3: $out"
}


# view_bad_config LINES WHAT, config text on stdin: refused (exit 2), with
# CONFIG:LINE: on stderr for one of the space-separated LINES.
_view_nbad=0
view_bad_config() {
	local lines=$1 what=$2 cfg l
	_view_nbad=$((_view_nbad + 1))
	cfg=$RFS_WORK/bad$_view_nbad.ini
	cat >"$cfg"
	rfs_refused "$cfg" "$what"
	for l in $lines; do
		grep -qF "$cfg:$l:" "$RFS_WORK/bad.err" && return 0
	done
	fail "$what: stderr lacks '$cfg:{${lines// /,}}:': $(cat "$RFS_WORK/bad.err")"
}

# view_reap_killed: the daemon was killed on purpose (kill -9). Check that it
# did die of SIGKILL, remove its dead mount and tell lib.sh it is gone, so the
# EXIT trap does not count the signal as a failure.
view_reap_killed() {
	local st=0 i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$RFS_PID" 2>/dev/null || break
		sleep 0.05
	done
	# (braces: keep bash's "Killed" job notice out of the output)
	{ wait "$RFS_PID"; } 2>/dev/null || st=$?
	assert_eq 137 "$st" "exit status of the killed daemon"
	if _rfs_mounted "$MNT"; then
		fusermount3 -u "$MNT" 2>>"$RFS_WORK/umount.err" ||
			umount -l "$MNT" 2>>"$RFS_WORK/umount.err" ||
			fail "cannot unmount the dead mount $MNT: $(cat "$RFS_WORK/umount.err")"
	fi
	! _rfs_mounted "$MNT" || fail "$MNT still mounted after fusermount3 -u of a dead daemon"
	rmdir "$MNT" || fail "rmdir $MNT after unmounting the dead daemon"
	RFS_PID=""
}
