#!/usr/bin/env bash
# Run the integration tests (every t_*.sh here, or those named on the command
# line) each under a timeout; print a pass/fail/skip summary; exit 1 if any failed.
#
#   tests/integration/run.sh [t_basic ...]
#
# Environment: REGIONFS (default build/regionfs of this repo), RFS_TIMEOUT
# (seconds per test, default 300); RFS_TRANSPORT=io_uring runs every mount
# with -o io_uring, the kernel's fuse.enable_uring switched on for the run
# (skipped where it cannot be); RFS_DATA_PATH=daemon runs every mount with
# -o passthrough=off; the tests also read RFS_DEBUG, RFS_KEEP,
# RFS_OPS, RFS_SEED.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export REGIONFS=${REGIONFS:-$root/build/regionfs}
# Debian's python3 starts in ~25 ms; a version manager's shim first on PATH
# can take ten times that per call, and the tests call python3 often.
[[ -x /usr/bin/python3 ]] && export PATH="/usr/bin:$PATH"
# Long forms (RFS_SOAK=1) run for minutes (a million model ops on a view: ~25).
limit=${RFS_TIMEOUT:-$([[ -n ${RFS_SOAK:-} ]] && echo 2400 || echo 300)}

if [[ ${RFS_TRANSPORT:-} == io_uring ]]; then
	param=/sys/module/fuse/parameters/enable_uring
	if ! [[ -w $param ]] || ! old=$(cat "$param") || ! echo Y >"$param" 2>/dev/null; then
		echo "integration over io_uring: skipped ($param not writable: needs root and Linux 6.14+)"
		exit 0
	fi
	trap 'echo "$old" >"$param"' EXIT
	export RFS_MOUNT_OPTS="-o io_uring"
	echo "=== transport: io_uring (fuse.enable_uring=Y for this run)"
fi

# RFS_DATA_PATH=daemon: regions served by the daemon, not by the kernel.
if [[ ${RFS_DATA_PATH:-} == daemon ]]; then
	export RFS_MOUNT_OPTS="${RFS_MOUNT_OPTS:-} -o passthrough=off"
	echo "=== data path: regions served by the daemon (-o passthrough=off)"
fi

tests=()
if (($#)); then
	for t in "$@"; do
		t=$(basename "$t" .sh)
		[[ -f "$here/$t.sh" ]] || { echo "run.sh: no test $t" >&2; exit 2; }
		tests+=("$here/$t.sh")
	done
else
	tests=("$here"/t_*.sh)
fi

# The regionfs mounts this run's tests have now (lib.sh's rfs_mnt_dir names
# them rfs-mnt.RUN.*; other runs on the machine have their own RUN). A test
# killed before its EXIT trap ran (timeout -k, a kill of the run) leaves its
# mount behind: found here, unmounted, counted as a failure.
export RFS_RUN=$$
test_mounts() {
	findmnt -rn -t fuse.regionfs -o TARGET | grep -E "^${TMPDIR:-/tmp}/rfs-mnt\.$RFS_RUN\." | sort ||
		true
}
mounts_before=$(test_mounts)

pass=() failed=() skipped=()
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	echo "=== $name"
	start=$SECONDS
	st=0
	timeout -k 10 "$limit" bash "$t" 2>&1 | sed -u 's/^/    /' || st=${PIPESTATUS[0]}
	took=$((SECONDS - start))
	left=$(comm -13 <(echo "$mounts_before") <(test_mounts))
	if [[ -n "$left" ]]; then
		echo "    not ok - $name left mounted: $(xargs <<<"$left") (unmounted now)"
		while read -r m; do umount -l "$m" && rmdir "$m"; done <<<"$left"
		((st != 0 && st != 77)) || st=1
	fi
	case $st in
	0) pass+=("$name"); echo "=== PASS $name (${took}s)" ;;
	77) skipped+=("$name"); echo "=== SKIP $name" ;;
	124 | 137) failed+=("$name"); echo "=== FAIL $name (timed out after ${limit}s)" ;;
	*) failed+=("$name"); echo "=== FAIL $name (status $st, ${took}s)" ;;
	esac
done

echo
echo "integration${RFS_MOUNT_OPTS:+ ($RFS_MOUNT_OPTS)}: ${#pass[@]} passed, ${#failed[@]} failed, ${#skipped[@]} skipped"
((${#skipped[@]} == 0)) || echo "  skipped: ${skipped[*]}"
((${#failed[@]} == 0)) || { echo "  FAILED: ${failed[*]}"; exit 1; }
