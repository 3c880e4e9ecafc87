#!/usr/bin/env bash
# regionfs benchmark: the same fio job on a file in a fresh tmpfs, on a region
# and on a view (backing file on that tmpfs), back to back, repeated, with
# medians and ratios to tmpfs. See tests/bench/README.md.
#
#   tests/bench/bench.sh            (what `make bench` runs)
#
# Environment knobs:
#   RUNTIME=5      seconds per job run (decimals allowed)
#   REPEAT=3       runs of each job on each target; the table shows medians
#   SIZE=1G        file size for the fio jobs (K/M/G suffixes, binary)
#   QUICK=1        smoke: SIZE=64M RUNTIME=0.5 REPEAT=1, 5 of the 26 jobs, no
#                  package installs (explicit RUNTIME/REPEAT/SIZE still win)
#   JOBS=REGEX     run only job ids matching REGEX (grep -E), e.g.
#                  JOBS='direct:' or JOBS='randread-4K:nj1'. Ids are
#                  MODE:NAME:njN, MODE in warm|direct|mmap|small
#   TARGETS="tmpfs region region-daemon view region-wb region-uring"  which
#                  targets (tmpfs is the ratio baseline; region is served by
#                  the kernel (passthrough) where it can be; region-daemon is
#                  a region of a second mount with -o passthrough=off, the
#                  fallback data path; region-wb one of a third with
#                  -o writeback, run for the warm write jobs only;
#                  region-uring one of a fourth with -o io_uring,passthrough=off,
#                  for the jobs whose requests reach the daemon, with
#                  fuse.enable_uring switched on for the run when root, else
#                  skipped)
#   SMALL_FILES=1024   files in the small-file case (QUICK: 64)
#   REGIONFS=path  daemon binary (default: build/regionfs of this repo)
#   RFS_OPTS="-o clone_fd"  extra daemon options, to try a lever
#   OUT=dir        output directory (default tests/bench/out)
#   RESTART_KILLS=10  kills per mount in the restart table (restart.py; QUICK: 3)
#   CHART=0        skip the PNG chart
#
# Exit status: 0 when every job ran cleanly; 1 when any job failed (fio error,
# short read, timeout, daemon died) -- the table is still written, with FAIL
# rows; 2 for a setup problem.

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)

QUICK=${QUICK:-0}
[[ "$QUICK" == 0 ]] && QUICK=""
if [[ -n "$QUICK" ]]; then
	RUNTIME=${RUNTIME:-0.5}
	REPEAT=${REPEAT:-1}
	SIZE=${SIZE:-64M}
	SMALL_FILES=${SMALL_FILES:-64}
fi
RUNTIME=${RUNTIME:-5}
REPEAT=${REPEAT:-3}
SIZE=${SIZE:-1G}
SMALL_FILES=${SMALL_FILES:-1024}
TARGETS=${TARGETS:-tmpfs region region-daemon view region-wb region-uring}
JOBS=${JOBS:-}
REGIONFS=${REGIONFS:-$ROOT/build/regionfs}
RFS_OPTS=${RFS_OPTS:-}
OUT=${OUT:-$BENCH_DIR/out}
CHART=${CHART:-1}

die() {
	echo "bench: $*" >&2
	exit 2
}
log() { echo "bench: $*" >&2; }

# ------------------------------------------------------------------ checks

[[ -x "$REGIONFS" ]] || die "no daemon at $REGIONFS (run make first)"
SIZE_B=$(numfmt --from=iec "$SIZE" 2>/dev/null) || die "bad SIZE '$SIZE'"
((SIZE_B >= 4 * 1048576)) || die "SIZE must be at least 4M"
SIZE_B=$((SIZE_B / 1048576 * 1048576))
RUNTIME_MS=$(awk -v r="$RUNTIME" 'BEGIN { printf "%d", r * 1000 }')
((RUNTIME_MS >= 100)) || die "bad RUNTIME '$RUNTIME'"
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "bad REPEAT '$REPEAT'"
[[ "$SMALL_FILES" =~ ^[1-9][0-9]*$ ]] || die "bad SMALL_FILES '$SMALL_FILES'"
IS_ROOT=""
[[ $(id -u) == 0 ]] && IS_ROOT=1

apt_install() { # best effort, root only, never in QUICK mode
	[[ -n "$IS_ROOT" && -z "$QUICK" ]] && command -v apt-get >/dev/null || return 1
	log "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
		{ apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "$@" >&2; }
}
if ! command -v fio >/dev/null; then
	if [[ -n "$IS_ROOT" ]] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fio >&2 ||
			{ apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends fio >&2; } || true
	fi
	command -v fio >/dev/null || die "fio is missing (apt-get install fio)"
fi
command -v fusermount3 >/dev/null || die "fusermount3 is missing (apt-get install fuse3)"
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || PYTHON=/usr/bin/python3
CC=${CC:-cc}

# ------------------------------------------------------------------ setup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/regionfs-bench.XXXXXX")
TMPFS=$WORK/tmpfs
MNT=$WORK/mnt
MNT_WB=$WORK/mnt-wb
MNT_DAEMON=$WORK/mnt-daemon
MNT_URING=$WORK/mnt-uring
RFS_PID=""
WB_PID=""
DAEMON_PID=""
URING_PID=""
URING_PARAM=/sys/module/fuse/parameters/enable_uring
URING_OLD="" # the parameter's value before this run, to restore
TMPFS_MOUNTED=""
RFS_LOG=$WORK/regionfs.log

stop_daemon() { # PID MNT: unmount, wait, and kill if it must
	local pid=$1 mnt=$2 i
	[[ -n "$pid" ]] || return 0
	if mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null ||
			{ sleep 1; fusermount3 -u "$mnt" 2>/dev/null; } ||
			fusermount3 -uz "$mnt" 2>/dev/null
	fi
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "daemon $pid still running after unmount: SIGTERM"
		kill "$pid" 2>/dev/null
		sleep 1
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	local rc=$?
	set +e
	stop_daemon "$RFS_PID" "$MNT"
	stop_daemon "$WB_PID" "$MNT_WB"
	stop_daemon "$DAEMON_PID" "$MNT_DAEMON"
	stop_daemon "$URING_PID" "$MNT_URING"
	[[ -z "$URING_OLD" ]] || echo "$URING_OLD" >"$URING_PARAM"
	if [[ -n "$TMPFS_MOUNTED" ]]; then
		umount "$TMPFS" 2>/dev/null || umount -l "$TMPFS" 2>/dev/null
	fi
	rm -rf "$WORK" 2>/dev/null
	[[ -n "${TMPFS_SHM:-}" ]] && rm -rf "$TMPFS_SHM"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$MNT" "$MNT_WB" "$MNT_DAEMON" "$MNT_URING" "$TMPFS" "$OUT"
rm -rf "$OUT/json" "$OUT/chart.png" "$OUT/table.txt" "$OUT/results.csv" "$OUT/raw.tsv"
mkdir -p "$OUT/json"

# A fresh tmpfs for the baseline file and the views' backing files: mounted
# here when root, else a private directory on /dev/shm.
TMPFS_SIZE=$((2 * SIZE_B + SMALL_FILES * 8192 + 256 * 1048576))
if [[ -n "$IS_ROOT" ]] && mount -t tmpfs -o "size=$TMPFS_SIZE,mode=0700" tmpfs "$TMPFS" 2>/dev/null; then
	TMPFS_MOUNTED=1
else
	TMPFS_SHM=$(mktemp -d /dev/shm/regionfs-bench.XXXXXX)
	rmdir "$TMPFS"
	ln -s "$TMPFS_SHM" "$TMPFS"
	log "not root (or mount failed): baseline on $TMPFS_SHM"
fi
mkdir -p "$TMPFS/small" "$TMPFS/backing"
: >"$TMPFS/backing/view.data"
truncate -s $((SMALL_FILES * 4096)) "$TMPFS/backing/small.data"

# Config: one big rw view, and one 4 KiB view per small file, all of them
# windows of backing files on the tmpfs.
CONF=$WORK/bench.ini
{
	echo "[regionfs]"
	echo "size = $((SIZE_B + SMALL_FILES * 4096 + 64 * 1048576))"
	echo "[view:bench.view]"
	echo "file = $TMPFS/backing/view.data"
	echo "offset = 0"
	echo "length = $SIZE_B"
	echo "access = rw"
	for ((i = 0; i < SMALL_FILES; i++)); do
		printf '[view:smallview/f%05d]\nfile = %s\noffset = %d\nlength = 4096\naccess = rw\n' \
			"$i" "$TMPFS/backing/small.data" $((i * 4096))
	done
} >"$CONF"

start_daemon() { # MNT ARGS...: mount regionfs there; its pid in STARTED
	local mnt=$1 pid i
	shift
	# shellcheck disable=SC2086
	"$REGIONFS" -f "$@" $RFS_OPTS "$mnt" </dev/null >/dev/null 2>>"$RFS_LOG" &
	pid=$!
	STARTED=$pid
	for i in $(seq 100); do
		mountpoint -q "$mnt" && break
		kill -0 "$pid" 2>/dev/null || { cat "$RFS_LOG" >&2; die "daemon exited at mount"; }
		sleep 0.05
	done
	mountpoint -q "$mnt" || die "mount did not appear at $mnt"
}
start_daemon "$MNT" -c "$CONF"
RFS_PID=$STARTED
mkdir "$MNT/smallregion"
if [[ " $TARGETS " == *" region-daemon "* ]]; then
	start_daemon "$MNT_DAEMON" -o passthrough=off,size=$((SIZE_B + SMALL_FILES * 4096 + 64 * 1048576))
	DAEMON_PID=$STARTED
	mkdir "$MNT_DAEMON/smallregion"
fi
if [[ " $TARGETS " == *" region-wb "* ]]; then
	start_daemon "$MNT_WB" -o writeback,size=$((SIZE_B + 64 * 1048576))
	WB_PID=$STARTED
fi
if [[ " $TARGETS " == *" region-uring "* ]]; then
	if [[ -n "$IS_ROOT" && -w "$URING_PARAM" ]] && URING_OLD=$(cat "$URING_PARAM") &&
		echo Y >"$URING_PARAM" 2>/dev/null; then
		start_daemon "$MNT_URING" -o io_uring,passthrough=off,size=$((SIZE_B + SMALL_FILES * 4096 + 64 * 1048576))
		URING_PID=$STARTED
		mkdir "$MNT_URING/smallregion"
	else
		log "region-uring skipped: $URING_PARAM is not writable (root and Linux 6.14+ needed)"
		TARGETS=$(sed 's/ *region-uring//' <<<"$TARGETS")
	fi
fi

SMALLFILE=$WORK/smallfile
$CC -O2 -std=gnu11 -o "$SMALLFILE" "$BENCH_DIR/smallfile.c" || die "cannot build smallfile.c"

file_of() { # TARGET -> the big file of that target
	case $1 in
	tmpfs) echo "$TMPFS/bench.data" ;;
	region) echo "$MNT/bench.region" ;;
	view) echo "$MNT/bench.view" ;;
	region-daemon) echo "$MNT_DAEMON/bench.region" ;;
	region-wb) echo "$MNT_WB/bench.region" ;;
	region-uring) echo "$MNT_URING/bench.region" ;;
	esac
}
smalldir_of() {
	case $1 in
	tmpfs) echo "$TMPFS/small" ;;
	region) echo "$MNT/smallregion" ;;
	view) echo "$MNT/smallview" ;;
	region-daemon) echo "$MNT_DAEMON/smallregion" ;;
	region-uring) echo "$MNT_URING/smallregion" ;;
	esac
}
pid_of() { # TARGET -> the daemon serving it (none for tmpfs)
	case $1 in
	tmpfs) ;;
	region-daemon) echo "$DAEMON_PID" ;;
	region-wb) echo "$WB_PID" ;;
	region-uring) echo "$URING_PID" ;;
	*) echo "$RFS_PID" ;;
	esac
}
# Writeback only changes buffered writes, and io_uring requests that reach
# the daemon: the other jobs skip those targets.
runs_on() { # JOB TARGET
	case $2 in
	region-wb) [[ $1 == warm:seqwrite-1M:* || $1 == warm:randwrite-4K:* ]] ;;
	region-uring) [[ $1 == direct:* || $1 == small:* || $1 == warm:seqwrite-1M:* ||
		$1 == warm:randwrite-4K:* ]] ;;
	esac
}

proc_ticks() { # PID: utime+stime of the daemon, in clock ticks
	local s
	[[ -n "$1" ]] || return 0
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}
proc_rss() { # PID: VmRSS and RssAnon in KiB
	local st
	[[ -n "$1" ]] || { echo "0 0"; return; }
	st=$(cat "/proc/$1/status" 2>/dev/null) || { echo "0 0"; return; }
	awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r + 0, a + 0 }' <<<"$st"
}
daemon_alive() {
	kill -0 "$RFS_PID" 2>/dev/null && mountpoint -q "$MNT" &&
		{ [[ -z "$WB_PID" ]] || { kill -0 "$WB_PID" 2>/dev/null && mountpoint -q "$MNT_WB"; }; } &&
		{ [[ -z "$DAEMON_PID" ]] || { kill -0 "$DAEMON_PID" 2>/dev/null && mountpoint -q "$MNT_DAEMON"; }; } &&
		{ [[ -z "$URING_PID" ]] || { kill -0 "$URING_PID" 2>/dev/null && mountpoint -q "$MNT_URING"; }; }
}

FIO_COMMON=(--ioengine=psync --size="$SIZE_B" --fallocate=none
	--group_reporting --randrepeat=0 --norandommap)
FIO_TIMEOUT=$((RUNTIME_MS * 3 / 1000 + 120))

# Lay out each target's big file: one sequential buffered write of SIZE.
for t in $TARGETS; do
	f=$(file_of "$t")
	log "layout $t: $f ($SIZE)"
	timeout 600 fio --name=layout --filename="$f" "${FIO_COMMON[@]}" --rw=write --bs=1M \
		--invalidate=0 --output-format=terse >/dev/null ||
		die "layout of $f failed"
	d=$(smalldir_of "$t")
	[[ -z "$d" ]] || "$SMALLFILE" create "$d" "$SMALL_FILES" || die "small files in $d failed"
done

# ------------------------------------------------------------------ jobs
# id MODE:NAME:njN ; the fio arguments follow from MODE and NAME.

ALL_JOBS=()
for mode in warm direct mmap; do
	for name in seqread-1M seqwrite-1M randread-4K randwrite-4K; do
		for nj in 1 2; do
			ALL_JOBS+=("$mode:$name:nj$nj")
		done
	done
done
ALL_JOBS+=(small:open-read-close-4K:nj1 small:open-read-close-4K:nj2)
if [[ -n "$QUICK" && -z "$JOBS" ]]; then
	JOBS='^(warm:seqread-1M:nj1|warm:randwrite-4K:nj1|direct:randread-4K:nj2|mmap:randread-4K:nj1|small:open-read-close-4K:nj1)$'
fi
SEL=()
for j in "${ALL_JOBS[@]}"; do
	[[ -z "$JOBS" ]] || grep -Eq -- "$JOBS" <<<"$j" || continue
	SEL+=("$j")
done
((${#SEL[@]})) || die "JOBS='$JOBS' matches no job (ids look like warm:randread-4K:nj1)"

RAW=$OUT/raw.tsv
{
	printf 'job\tmode\tname\tnumjobs\ttarget\trepeat\tstatus\tresult\tcpu_ticks\trss_kb\trss_anon_kb\tclk_tck\n'
} >"$RAW"
CLK_TCK=$(getconf CLK_TCK)
FAILED=0
ABORTED=""
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date +%s)

run_one() { # JOB TARGET REPEAT -> appends a row to RAW
	local job=$1 t=$2 r=$3 mode name nj rw bs f res st=ok t0 t1 rss args=()
	IFS=: read -r mode name nj <<<"$job"
	nj=${nj#nj}
	res=$OUT/json/${job//:/_}.$t.$r.json
	f=$(file_of "$t")
	case $name in
	seqread-1M) rw=read bs=1M ;;
	seqwrite-1M) rw=write bs=1M ;;
	randread-4K) rw=randread bs=4k ;;
	randwrite-4K) rw=randwrite bs=4k ;;
	esac
	case $mode in
	warm) args=(--invalidate=0) ;;
	direct) args=(--direct=1) ;;
	mmap) args=(--invalidate=0 --ioengine=mmap) ;;
	esac
	if [[ $mode == warm || $mode == mmap ]]; then
		# Warm: the file was written at layout; read it once, buffered.
		timeout 600 fio --name=prewarm --filename="$f" "${FIO_COMMON[@]}" --rw=read \
			--bs=1M --invalidate=0 --output-format=terse >/dev/null 2>&1 || st=fail
	fi
	t0=$(proc_ticks "$(pid_of "$t")")
	if [[ $st == ok ]]; then
		if [[ $mode == small ]]; then
			timeout $FIO_TIMEOUT "$SMALLFILE" run "$(smalldir_of "$t")" "$SMALL_FILES" "$nj" \
				"$RUNTIME" >"$res" 2>"$res.err" || st=fail
		else
			timeout $FIO_TIMEOUT fio --name="${job//:/_}" --filename="$f" "${FIO_COMMON[@]}" \
				--rw=$rw --bs=$bs --numjobs="$nj" --time_based --runtime="${RUNTIME_MS}ms" \
				"${args[@]}" --output-format=json --output="$res" 2>"$res.err" || st=fail
		fi
	fi
	t1=$(proc_ticks "$(pid_of "$t")")
	rss=$(proc_rss "$(pid_of "$t")")
	if [[ $st != ok ]]; then
		log "FAIL $job on $t (repeat $r): $(tail -c 400 "$res.err" 2>/dev/null | tr '\n' ' ')"
		FAILED=1
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$job" "$mode" "$name" "$nj" "$t" \
		"$r" "$st" "json/$(basename "$res")" "$([[ -n $t0 && -n $t1 ]] && echo $((t1 - t0)))" "${rss% *}" "${rss#* }" "$CLK_TCK" >>"$RAW"
}

log "${#SEL[@]} jobs x targets ($TARGETS) x $REPEAT repeats x ${RUNTIME}s, SIZE=$SIZE"
n=0
for job in "${SEL[@]}"; do
	n=$((n + 1))
	for ((r = 1; r <= REPEAT; r++)); do
		for t in $TARGETS; do
			runs_on "$job" "$t" || continue
			run_one "$job" "$t" "$r"
			if ! daemon_alive; then
				ABORTED="the daemon died or the mount vanished during $job on $t (repeat $r)"
				log "$ABORTED"
				tail -20 "$RFS_LOG" >&2
				FAILED=1
				break 3
			fi
		done
	done
	log "[$n/${#SEL[@]}] $job done ($(($(date +%s) - START))s)"
done

# ------------------------------------------------------------------ report

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel: $(uname -r); $(fio --version); libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?')"
	echo "regionfs: $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo '?') $RFS_OPTS"
	echo "settings: SIZE=$SIZE RUNTIME=${RUNTIME}s REPEAT=$REPEAT SMALL_FILES=$SMALL_FILES${QUICK:+ QUICK}${JOBS:+ JOBS=$JOBS}"
	echo "load average: $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (other work on the machine skews results)"
	[[ -z "$ABORTED" ]] || echo "ABORTED: $ABORTED; later jobs did not run"
	echo "regions: $(sed -n 's/^# regions: //p' "$MNT/.regionfs/stats" 2>/dev/null)"
	echo "daemon at end: $(awk '/^(VmRSS|VmHWM|RssAnon|RssShmem|Threads):/ { printf "%s %s%s  ", $1, $2, ($3 ? " " $3 : "") }' "/proc/$RFS_PID/status" 2>/dev/null)"
	[[ -z "$URING_PID" ]] || echo "region-uring: $(awk '$1 == "regionfs_io_uring_requests_total" { print $2 }' \
		"$MNT_URING/.regionfs/metrics" 2>/dev/null) requests served through io_uring rings"
} >"$OUT/meta.txt"

"$PYTHON" "$BENCH_DIR/report.py" "$OUT" || { log "report.py failed"; FAILED=1; }

if [[ "$CHART" != 0 && -f "$OUT/chart.gp" ]]; then
	command -v gnuplot >/dev/null || apt_install gnuplot-nox || true
	if command -v gnuplot >/dev/null; then
		(cd "$OUT" && gnuplot chart.gp) || log "gnuplot failed (chart skipped)"
	else
		log "gnuplot not installed: chart skipped"
	fi
fi

# Restart time under -o restart (README, Restart), on mounts of its own.
log "restart: kill -9 of the serving process under -o restart"
# shellcheck disable=SC2046
RESTART_KILLS=${RESTART_KILLS:-$([[ -n "$QUICK" ]] && echo 3 || echo 10)} \
	"$PYTHON" "$BENCH_DIR/restart.py" "$REGIONFS" "$OUT" $([[ -n "$QUICK" ]] && echo "10 1000" || echo "10 100000") >&2 ||
	{
		log "restart bench: a client saw an error"
		FAILED=1
	}

if grep -qiE 'ASAN|runtime error|SIGSEGV' "$RFS_LOG"; then
	log "daemon log shows a fault:"
	cat "$RFS_LOG" >&2
	FAILED=1
fi
cp "$RFS_LOG" "$OUT/regionfs.log"
log "results in $OUT (table.txt, results.csv, raw.tsv$([[ -f $OUT/chart.png ]] && echo ", chart.png")) in $(($(date +%s) - START))s"
exit "$FAILED"
