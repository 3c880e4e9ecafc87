#!/usr/bin/env bash
# Concurrency stress: N processes x M threads (stress_ops.py) for a bounded
# time mix reads, writes, truncates, renames, links, unlinks, creates,
# mkdir/rmdir, mmap stores and control commands (region/remove/flush,
# stats, metrics) on regions and a rw view. Races may fail with ENOENT,
# EEXIST and the like; EIO, a wrong byte in a thread's own file or view slice,
# a crash or a hang fail the test. A watchdog fails it if the operation count
# stops growing, or one operation lasts, for 10 s; it first prints the
# daemon's kernel and gdb stacks.
#
# Short form: 3 x 4 for 15 s; RFS_SOAK=1: 4 x 4 for 5 minutes. RFS_STRESS_SECONDS,
# RFS_STRESS_PROCS and RFS_STRESS_THREADS override. RFS_STRESS_FREEZE=1
# stops the daemon (SIGSTOP) after 3 s to show that the watchdog fires.
# Under SANITIZE=thread the harness fails on any ThreadSanitizer report.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

W=$RFS_WORK
if [[ -n "${RFS_SOAK:-}" ]]; then
	secs=${RFS_STRESS_SECONDS:-300} procs=${RFS_STRESS_PROCS:-4}
else
	secs=${RFS_STRESS_SECONDS:-15} procs=${RFS_STRESS_PROCS:-3}
fi
threads=${RFS_STRESS_THREADS:-4}
stall_limit=10
seed=${RFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}

B=$W/back
head -c $((16 * MiB)) /dev/urandom >"$B"
voff=$((MiB + 100))
cat >"$W/stress.ini" <<EOF
[regionfs]
size = 512M

[view:v]
file = $B
offset = $voff
length = 8M
access = rw
EOF
rfs_mount -c "$W/stress.ini"
mkdir -p "$MNT/priv" "$MNT"/pool/d{0..3}

# dump_stacks: what every thread of the daemon is doing, from the kernel and gdb.
dump_stacks() {
	local t
	echo "# --- kernel stacks of the daemon (pid $RFS_PID) ---"
	for t in /proc/"$RFS_PID"/task/*; do
		echo "# task ${t##*/} ($(cat "$t/comm" 2>/dev/null)) state $(awk '/^State/ {print $2}' "$t/status" 2>/dev/null) wchan $(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/#   /' "$t/stack" 2>/dev/null || true
	done
	if command -v gdb >/dev/null; then
		echo "# --- gdb backtraces of the daemon ---"
		timeout 60 gdb -p "$RFS_PID" -batch -nx -ex 'set pagination off' \
			-ex 'thread apply all bt' 2>&1 | grep -vE '^\[(New|Thread debugging)' |
			sed 's/^/# /' | head -n 400 || true
	fi
	echo "# --- kernel stacks of the stress processes ---"
	for p in "${pids[@]}"; do
		for t in /proc/"$p"/task/*; do
			echo "# pid $p task ${t##*/} wchan $(cat "$t/wchan" 2>/dev/null)"
			sed 's/^/#   /' "$t/stack" 2>/dev/null || true
		done
	done
}

pids=()
for ((i = 0; i < procs; i++)); do
	python3 "$RFS_TESTDIR/stress_ops.py" --mnt "$MNT" --id "$i" --threads "$threads" \
		--seconds "$secs" --progress "$W/progress.$i" --view v --backing "$B" \
		--offset "$voff" --slice $((256 * KiB)) --seed "$seed" \
		>"$W/stress.$i.out" 2>"$W/stress.$i.err" &
	pids+=($!)
done
echo "# $procs processes x $threads threads for $secs s (seed $seed)"

# The watchdog: the sum of the processes' operation counts must grow, and no
# operation may last, for more than $stall_limit s.
start=$SECONDS
last_total=-1 last_change=$SECONDS frozen=0
while :; do
	running=0
	for p in "${pids[@]}"; do
		! kill -0 "$p" 2>/dev/null || running=1
	done
	((running)) || break
	if [[ -n "${RFS_STRESS_FREEZE:-}" ]] && ((!frozen && SECONDS - start >= 3)); then
		echo "# RFS_STRESS_FREEZE: stopping the daemon"
		kill -STOP "$RFS_PID"
		frozen=1
	fi
	# (not rfs_alive: its stat of the mount point would hang on a hung daemon)
	if ! kill -0 "$RFS_PID" 2>/dev/null || ! _rfs_mounted "$MNT"; then
		fail "the daemon died during the stress run (pid $RFS_PID)"
	fi
	total=0 stall=0
	for ((i = 0; i < procs; i++)); do
		[[ -s "$W/progress.$i" ]] || continue
		read -r n s <"$W/progress.$i" || continue
		total=$((total + n))
		s=${s%.*}
		((s <= stall)) || stall=$s
	done
	if ((total != last_total)); then
		last_total=$total last_change=$SECONDS
	fi
	if ((SECONDS - last_change >= stall_limit || stall >= stall_limit)); then
		echo "# HANG: $total operations, none for $((SECONDS - last_change)) s; longest operation in flight ${stall} s"
		dump_stacks
		((!frozen)) || kill -CONT "$RFS_PID"
		for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
		fail "no progress for $stall_limit s (see the stacks above; per-process output in $W)"
	fi
	sleep 1
done
((!frozen)) || fail "RFS_STRESS_FREEZE: the daemon was stopped but the watchdog did not fire"

total=0 bad=0
for ((i = 0; i < procs; i++)); do
	st=0
	wait "${pids[i]}" || st=$?
	sed 's/^/# /' "$W/stress.$i.out"
	if ((st != 0)); then
		bad=1
		echo "# process $i exited with status $st:" >&2
		sed 's/^/#   /' "$W/stress.$i.err" >&2
	fi
	read -r n _ <"$W/progress.$i" || n=0
	total=$((total + n))
done
((bad == 0)) || fail "a stress process failed (seed $seed)"
ok "$procs processes x $threads threads: $total operations in $((SECONDS - start)) s, no unexpected error, own data intact"

rfs_alive || fail "daemon gone after the stress run"
grep -q '^v view ' "$MNT/.regionfs/stats" || fail "the view is missing from stats after the run"
grep -E '^regionfs_(requests_total|faults_total|flush_errors_total)' "$MNT/.regionfs/metrics" |
	sed 's/^/# /' | head -n 40
faults=$(awk '/^regionfs_faults_total/ {print $2}' "$MNT/.regionfs/metrics")
flerr=$(awk '/^regionfs_flush_errors_total/ {print $2}' "$MNT/.regionfs/metrics")
assert_eq 0 "${faults:-0}" "regionfs_faults_total after the run"
assert_eq 0 "${flerr:-0}" "regionfs_flush_errors_total after the run"
echo "file" >"$MNT/after" && assert_content "$MNT/after" "file
"
ok "daemon alive and serving after the run; no contained faults, no flush errors"
