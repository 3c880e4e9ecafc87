# shellcheck shell=bash
# Shared harness for regionfs integration tests. Source it from a t_*.sh script:
#
#   . "$(dirname "$0")/lib.sh"
#   rfs_mount -o size=16M        # fresh regionfs on a temp dir: $MNT
#   ...; ok "what was checked"
#
# An EXIT trap always unmounts (fusermount3 -u, else umount -l, else SIGTERM),
# then asserts the daemon exited 0, was not killed by a signal and left no
# sanitizer report in its log ($RFS_LOG). Scratch files go in $RFS_WORK.
#
# Environment: REGIONFS (daemon binary; default build/regionfs of this repo),
# RFS_DEBUG=1 (pass -d to the daemon), RFS_KEEP=1 (keep $RFS_WORK); for a mount
# by another user (t_user_mount), RFS_MNT_OWNER (chown of the mountpoint) and
# RFS_CLIENT (command prefix for the harness's own reads of the mount).

set -euo pipefail

RFS_TESTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RFS_ROOT=$(cd "$RFS_TESTDIR/../.." && pwd)
REGIONFS=${REGIONFS:-$RFS_ROOT/build/regionfs}
RFS_TEST=$(basename "$0" .sh)
MNT=""
RFS_PID=""
RFS_LOG=""
RFS_WORK=""
_rfs_n=0
_rfs_mounts=0
export MNT

# ---------------------------------------------------------------- reporting

ok() {
	_rfs_n=$((_rfs_n + 1))
	echo "ok $_rfs_n - $*"
}

fail() {
	echo "not ok $((_rfs_n + 1)) - $RFS_TEST: $*" >&2
	exit 1
}

skip() {
	echo "# SKIP $RFS_TEST: $*"
	exit 77
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	[[ "$1" == "$2" ]] ||
		fail "${3:-value}: expected '$1', got '$2'"
}

# assert_size FILE BYTES
assert_size() {
	local got
	got=$(stat -c %s "$1") || fail "stat $1 failed"
	assert_eq "$2" "$got" "size of $1"
}

# assert_zeros FILE OFFSET LENGTH: those bytes exist and are all zero.
assert_zeros() {
	local out
	out=$(cmp -i "$2:0" -n "$3" "$1" /dev/zero 2>&1) ||
		fail "$1: bytes [$2, $2+$3) not all zero: $out"
}

# assert_content FILE STRING: the whole file is exactly STRING.
assert_content() {
	local out
	out=$(cmp "$1" <(printf '%s' "$2") 2>&1) ||
		fail "$1: content differs from '$2': $out (got: $(head -c 64 "$1" | od -An -c | head -2 | tr -s ' '))"
}

# Python prelude for expect_errno and py: imports, M (the mount point) and
# renameat2(old, new, flags) through ctypes.
_RFS_PY='import ctypes, errno, fcntl, mmap, os, struct, sys
M = os.environ["MNT"]
_libc = ctypes.CDLL(None, use_errno=True)
def renameat2(old, new, flags):
    if _libc.renameat2(-100, old.encode(), -100, new.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old)
'

# expect_errno NAME[,NAME...] PYTHON_CODE
# Runs PYTHON_CODE (statements, with the prelude) and requires that it raise
# OSError with one of the errno names.
expect_errno() {
	local out
	out=$(python3 -c "$_RFS_PY"'
want = sys.argv[1].split(",")
try:
    exec(sys.argv[2])
except OSError as e:
    name = errno.errorcode.get(e.errno, str(e.errno))
    if name in want:
        sys.exit(0)
    print("expected %s, got %s (%s)" % (" or ".join(want), name, e))
    sys.exit(1)
print("expected %s, but it succeeded" % " or ".join(want))
sys.exit(1)' "$1" "$2" 2>&1) || fail "$2: $out"
}

# py CODE: run python statements (with the prelude), failing on any error.
py() {
	local out
	out=$(python3 -c "$_RFS_PY
$1" 2>&1) || fail "python failed: $1: $out"
	[[ -z "$out" ]] || printf '%s\n' "$out"
}

# df_used / df_size: bytes used / total as statfs reports them.
df_used() { python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print((s.f_blocks-s.f_bfree)*s.f_frsize)' "$MNT"; }
df_size() { python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print(s.f_blocks*s.f_frsize)' "$MNT"; }

# wait_until SECONDS COMMAND...: poll COMMAND every 0.02 s, for at most SECONDS.
wait_until() {
	local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@"; do
		((${EPOCHREALTIME/./} < deadline)) || return 1
		sleep 0.02
	done
}

# ---------------------------------------------------------------- against tmpfs

# on_tmpfs VAR COMMAND...: run "COMMAND... DIR" with DIR a fresh tmpfs (mode
# 0755, 4 MiB), its output in VAR; fails if the command does. The tmpfs is
# unmounted (after chattr -ia over it) whatever happened.
on_tmpfs() {
	local -n _out=$1
	local t st=0
	shift
	t=$(mktemp -d)
	chmod 755 "$t"
	mount -t tmpfs -o size=4M,mode=755 none "$t" || { rmdir "$t"; fail "cannot mount a tmpfs to compare with"; }
	_out=$("$@" "$t" 2>&1) || st=$?
	chattr -R -ia "$t" 2>/dev/null || true
	umount "$t"
	rmdir "$t"
	((st == 0)) || fail "on tmpfs, $*: exit $st: $_out"
}

# same_as_tmpfs WANT GOT WHAT: fail, showing the difference, unless GOT is WANT.
same_as_tmpfs() {
	[[ "$1" == "$2" ]] && return 0
	diff <(echo "$1") <(echo "$2") | sed 's/^/# /' >&2
	fail "$3: differs from tmpfs (< tmpfs, > regionfs)"
}

# path_opts PATH: the mount options that serve regions by PATH: kernel (the
# default), daemon (-o passthrough=off) or memfd (-o store=memfd).
path_opts() {
	case $1 in
	kernel) ;;
	daemon) echo "-o passthrough=off" ;;
	memfd) echo "-o store=memfd" ;;
	*) fail "path_opts: no data path $1" ;;
	esac
}

# ---------------------------------------------------------------- mounting

rfs_require() {
	[[ -e /dev/fuse ]] || skip "/dev/fuse missing"
	[[ -r /dev/fuse && -w /dev/fuse ]] || skip "/dev/fuse not accessible"
	command -v fusermount3 >/dev/null || skip "fusermount3 missing"
	command -v python3 >/dev/null || skip "python3 missing"
	[[ -x "$REGIONFS" ]] || fail "daemon $REGIONFS not built (run make)"
}

# rfs_as_nobody: set up a mount by uid 65534 (skips where it cannot be):
# NOBODY (the setpriv prefix), nobody CMD... (run as uid 65534), U (a
# directory every user may reach, wherever the tree lies: a 0700 clone) with
# its copy of the daemon and U/scratch owned by uid 65534, and
# $RFS_WORK/as-nobody, the daemon run as uid 65534: mount with
#   REGIONFS=$RFS_WORK/as-nobody RFS_MNT_OWNER=65534:65534 rfs_mount ...
# /dev/fuse is 0666 on Debian (udev); where it is not, it is opened for the
# test and put back at exit.
rfs_as_nobody() {
	rfs_require
	[[ $(id -u) == 0 ]] || skip "needs root (sets up a mount by uid 65534)"
	command -v setpriv >/dev/null || skip "setpriv missing (util-linux)"
	NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${NOBODY[@]}" python3 -c '' 2>/dev/null || skip "uid 65534 cannot run python3"
	U=$(mktemp -d)
	chmod 755 "$U"
	FUSE_MODE=$(stat -c %a /dev/fuse)
	trap 'rc=$?; set +e; chmod "$FUSE_MODE" /dev/fuse; rm -rf "$U"; (exit $rc); _rfs_cleanup' EXIT
	chmod o+rw /dev/fuse
	cp "$REGIONFS" "$U/regionfs"
	mkdir "$U/scratch"
	chown 65534:65534 "$U/scratch"
	cat >"$RFS_WORK/as-nobody" <<EOF
#!/bin/sh
exec ${NOBODY[*]} "$U/regionfs" "\$@"
EOF
	chmod 755 "$RFS_WORK/as-nobody"
	RFS_CLIENT="${NOBODY[*]}"
}
nobody() { "${NOBODY[@]}" "$@"; }

_rfs_mounted() { [[ -n "$1" ]] && awk -v m="$1" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# rfs_refused_run WHAT MOUNTPOINT COMMAND...: COMMAND (a regionfs in the
# foreground) must exit 2 without mounting anything on MOUNTPOINT; its stderr
# is left in $RFS_WORK/bad.err.
rfs_refused_run() {
	local what=$1 m=$2 pid st=0 i mounted=0 W=$RFS_WORK
	shift 2
	"$@" </dev/null >"$W/bad.out" 2>"$W/bad.err" &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		if _rfs_mounted "$m"; then
			mounted=1
			break
		fi
		sleep 0.05
	done
	if ((mounted)) || kill -0 "$pid" 2>/dev/null; then
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" || true
		fail "$what: accepted (mounted=$mounted): $* (stderr: $(cat "$W/bad.err"))"
	fi
	wait "$pid" || st=$?
	assert_eq 2 "$st" "$what: exit status of $* (stderr: $(cat "$W/bad.err"))"
	! _rfs_mounted "$m" || fail "$what: $m is mounted"
	[[ -s "$W/bad.err" ]] || fail "$what: no message on stderr"
}

# rfs_refused CONFIG WHAT: the daemon must exit 2 without mounting with this
# config; its stderr is left in $RFS_WORK/bad.err.
rfs_refused() {
	local m=$RFS_WORK/bad-mnt
	mkdir -p "$m"
	rfs_refused_run "$2" "$m" "$REGIONFS" -f -c "$1" "$m"
}

# rfs_alive: the daemon process runs and its mount answers.
rfs_alive() { [[ -n "$RFS_PID" ]] && kill -0 "$RFS_PID" 2>/dev/null && mountpoint -q "$MNT"; }

_rfs_sanitizer_report() {
	grep -E 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|WARNING: ThreadSanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$1" 2>/dev/null
}

_rfs_show_log() {
	[[ -s "$RFS_LOG" ]] || return 0
	echo "# --- daemon log $RFS_LOG (last 60 lines) ---" >&2
	tail -n 60 "$RFS_LOG" | sed 's/^/# /' >&2
}

# rfs_mnt_dir: a new empty directory to mount on, named for the run
# (run.sh's RFS_RUN), so run.sh finds the mounts its own tests left behind.
rfs_mnt_dir() { mktemp -d "${TMPDIR:-/tmp}/rfs-mnt.${RFS_RUN:-0}.XXXXXX"; }

# rfs_mount [DAEMON ARGS...]: start "$REGIONFS -f ARGS $MNT" on a new temp dir.
rfs_mount() {
	rfs_require
	[[ -z "$RFS_PID" ]] || fail "rfs_mount: already mounted on $MNT"
	_rfs_mounts=$((_rfs_mounts + 1))
	MNT=$(rfs_mnt_dir)
	# RFS_MNT_OWNER: for a daemon run as another user (t_user_mount).
	[[ -z "${RFS_MNT_OWNER:-}" ]] || chown "$RFS_MNT_OWNER" "$MNT"
	RFS_LOG=$RFS_WORK/daemon.$_rfs_mounts.log
	local dbg=()
	[[ -z "${RFS_DEBUG:-}" ]] || dbg=(-d)
	# Background jobs of a script start with SIGINT ignored, and libfuse then
	# leaves it ignored; give the daemon the default, as in a terminal.
	local launch=()
	! env --default-signal=INT true 2>/dev/null || launch=(env --default-signal=INT)
	# RFS_MOUNT_OPTS: daemon options for every mount (run.sh sets -o io_uring).
	# shellcheck disable=SC2086
	"${launch[@]}" "$REGIONFS" -f "${dbg[@]}" "$@" ${RFS_MOUNT_OPTS:-} "$MNT" </dev/null >>"$RFS_LOG" 2>&1 &
	RFS_PID=$!
	local i st=0
	for ((i = 0; i < 200; i++)); do
		_rfs_mounted "$MNT" && return 0
		if ! kill -0 "$RFS_PID" 2>/dev/null; then
			wait "$RFS_PID" || st=$?
			RFS_PID=""
			_rfs_show_log
			fail "daemon exited with status $st before mounting ($REGIONFS -f $* $MNT)"
		fi
		sleep 0.05
	done
	_rfs_show_log
	fail "$MNT not mounted after 10 s ($REGIONFS -f $* $MNT)"
}

# rfs_ctl CMD: one write() of CMD to the mount's control file; it must succeed
# and control say ok.
rfs_ctl() {
	printf '%s\n' "$1" >"$MNT/.regionfs/control" ||
		fail "control: '$1' refused: $(cat "$MNT/.regionfs/control")"
	assert_eq "ok: $1" "$(cat "$MNT/.regionfs/control")" "control after '$1'"
}

# rfs_ctl_refused ERRNO CMD REASON: write(CMD) fails with ERRNO, control gives REASON.
rfs_ctl_refused() {
	CTL_CMD="$2" expect_errno "$1" '
fd = os.open(M + "/.regionfs/control", os.O_WRONLY)
try:
    os.write(fd, os.environ["CTL_CMD"].encode() + b"\n")
finally:
    os.close(fd)'
	assert_eq "error: $2: $3" "$(cat "$MNT/.regionfs/control")" "control after refused '$2'"
}

# rfs_served_by: who serves the mount's regions' bytes, "kernel" (FUSE
# passthrough onto the store) or "daemon" (-o passthrough=off and fallbacks).
rfs_served_by() {
	sed -n 's/^regionfs_regions_info{.*served_by="\([a-z]*\)"} 1$/\1/p' "$MNT/.regionfs/metrics"
}

# _rfs_stop: unmount, reap the daemon, check how it ended. Prints a reason
# and returns 1 on any problem.
_rfs_stop() {
	local how="it had unmounted by itself" st=0 i bad=0 n
	cd / || true
	# Over io_uring (run.sh RFS_TRANSPORT=io_uring) the rings must have
	# served the test's requests, not /dev/fuse alone.
	if [[ " ${RFS_MOUNT_OPTS:-} " == *" io_uring "* ]] && rfs_alive; then
		# shellcheck disable=SC2086
		n=$(${RFS_CLIENT:-} awk '$1 == "regionfs_io_uring_requests_total" { print $2 }' \
			"$MNT/.regionfs/metrics" 2>/dev/null) || n=""
		if [[ -z "$n" || "$n" == 0 ]]; then
			echo "# -o io_uring: no request went through the rings (metrics: '${n}')" >&2
			bad=1
		fi
	fi
	if _rfs_mounted "$MNT"; then
		how="fusermount3 -u"
		if ! fusermount3 -u "$MNT" 2>>"$RFS_WORK/umount.err"; then
			sleep 0.5
			if ! fusermount3 -u "$MNT" 2>>"$RFS_WORK/umount.err"; then
				how="umount -l"
				umount -l "$MNT" 2>>"$RFS_WORK/umount.err" || how="nothing"
			fi
		fi
	fi
	for ((i = 0; i < 200; i++)); do
		kill -0 "$RFS_PID" 2>/dev/null || break
		if ((i == 100)); then
			how="$how, then SIGTERM"
			kill -TERM "$RFS_PID" 2>/dev/null || true
		fi
		sleep 0.05
	done
	if kill -0 "$RFS_PID" 2>/dev/null; then
		kill -KILL "$RFS_PID" 2>/dev/null || true
		echo "# daemon did not exit after unmount ($how); killed" >&2
		bad=1
	fi
	wait "$RFS_PID" || st=$?
	RFS_PID=""
	if _rfs_mounted "$MNT"; then
		umount -l "$MNT" 2>/dev/null || true
		echo "# $MNT was still mounted after the daemon ended" >&2
		bad=1
	fi
	if ((st > 128)); then
		echo "# daemon died of signal $((st - 128)) ($(kill -l $((st - 128)) 2>/dev/null || echo '?')) after $how" >&2
		bad=1
	elif ((st != 0)); then
		echo "# daemon exited with status $st after $how (want 0)" >&2
		bad=1
	fi
	if _rfs_sanitizer_report "$RFS_LOG" >&2; then
		echo "# sanitizer report in daemon log" >&2
		bad=1
	fi
	rmdir "$MNT" 2>/dev/null || true
	((bad == 0)) || { _rfs_show_log; return 1; }
}

# rfs_unmount: unmount now (for tests that remount); fails the test if the
# daemon did not exit cleanly.
rfs_unmount() {
	[[ -n "$RFS_PID" ]] || fail "rfs_unmount: not mounted"
	_rfs_stop || fail "daemon did not shut down cleanly"
}

_rfs_cleanup() {
	local rc=$? p
	set +e
	trap - EXIT
	# Helpers still running would keep the mount busy.
	for p in $(jobs -p); do
		[[ "$p" == "$RFS_PID" ]] || kill "$p" 2>/dev/null
	done
	if [[ -n "$RFS_PID" ]]; then
		if ! _rfs_stop; then
			echo "not ok - $RFS_TEST: daemon did not shut down cleanly" >&2
			((rc != 0 && rc != 77)) || rc=1
		elif ((rc != 0 && rc != 77)); then
			_rfs_show_log
		fi
	fi
	wait 2>/dev/null
	if [[ -n "${RFS_KEEP:-}" ]]; then
		echo "# kept $RFS_WORK" >&2
	else
		rm -rf "$RFS_WORK"
	fi
	exit "$rc"
}

RFS_WORK=$(mktemp -d "${TMPDIR:-/tmp}/rfs-work.XXXXXX")
trap _rfs_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
