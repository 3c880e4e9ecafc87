#!/bin/sh
# Run libFuzzer targets for a fixed time each and fail on any finding.
#
# Usage: tests/fuzz/run.sh SECONDS build-fuzz/fuzz_NAME...
#        tests/fuzz/run.sh --check      (is clang's libFuzzer runtime there?)
#
# Each target fuzz_NAME runs for SECONDS (-max_total_time) on a copy of its
# seed corpus tests/fuzz/corpus/NAME/ in a temporary directory, with
# tests/fuzz/NAME.dict if there is one. New inputs never go into the repo.
# A crash, leak, sanitizer report, timeout (-timeout=10) or memory blow-up
# (-rss_limit_mb=2048) fails the run: the script prints the report, the
# input (hex and base64) and the path where the input is kept, and exits 1.
#
# Installs nothing. Without clang or its fuzzer runtime (Debian:
# libclang-rt-14-dev, or libclang-rt-dev for the default clang) it says so
# and exits 2.
#
# Environment: FUZZ_WORKDIR (default: mktemp -d) keeps work dirs there;
# FUZZ_ARGS adds libFuzzer options (e.g. "-jobs=2"); CC_FUZZ (default clang).
set -u

here=$(cd "$(dirname "$0")" && pwd)
cc=${CC_FUZZ:-clang}

# UBSan only reports by default; a finding must stop the run.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

have_runtime() {
	command -v "$cc" >/dev/null 2>&1 || {
		echo "fuzz: '$cc' not found: install clang (Debian: clang) to run the fuzz targets" >&2
		return 1
	}
	d=$(mktemp -d) || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
		>"$d/t.c"
	if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$d/t" "$d/t.c" >"$d/log" 2>&1; then
		echo "fuzz: $cc cannot link -fsanitize=fuzzer,address,undefined:" >&2
		sed 's/^/fuzz:   /' "$d/log" >&2
		echo "fuzz: the libFuzzer/sanitizer runtime is missing (Debian: libclang-rt-14-dev," \
			"or libclang-rt-dev for the default clang); NOT fuzzing" >&2
		rm -rf "$d"
		return 1
	fi
	rm -rf "$d"
	return 0
}

if [ "${1:-}" = --check ]; then
	have_runtime || exit 2
	exit 0
fi

if [ $# -lt 2 ] || ! [ "$1" -gt 0 ] 2>/dev/null; then
	echo "usage: $0 SECONDS build-fuzz/fuzz_NAME... | $0 --check" >&2
	exit 2
fi
secs=$1
shift

have_runtime || exit 2

base=${FUZZ_WORKDIR:-}
if [ -n "$base" ]; then
	mkdir -p "$base" || exit 2
else
	base=$(mktemp -d "${TMPDIR:-/tmp}/regionfs-fuzz.XXXXXX") || exit 2
fi

# Number of files in a directory.
count() {
	find "$1" -type f | wc -l
}

# Print a file as hex (at most 4 KiB) and base64.
show_input() {
	echo "fuzz:   input: $1 ($(wc -c <"$1") bytes)"
	echo "fuzz:   hex:"
	head -c 4096 "$1" | od -An -tx1 -v | sed 's/^/fuzz:     /'
	echo "fuzz:   base64 (decode with: base64 -d > input):"
	base64 "$1" | sed 's/^/fuzz:     /'
	echo "fuzz:   reproduce: $2 $1"
}

total=0
failed=
for bin in "$@"; do
	name=$(basename "$bin")
	short=${name#fuzz_}
	work="$base/$short"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin: not built (make $bin)"
		failed="$failed $name"
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	seeds="$here/corpus/$short"
	if [ -d "$seeds" ]; then
		cp -p "$seeds"/* "$work/corpus/" 2>/dev/null
	else
		echo "fuzz: $name: no seed corpus $seeds, starting empty"
	fi
	set -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/"
	[ -f "$here/$short.dict" ] && set -- "$@" -dict="$here/$short.dict"
	echo "fuzz: $name for ${secs}s ($(count "$work/corpus") seeds, work dir $work)"
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
	timeout -k 10 $((secs + 300)) "$bin" "$@" ${FUZZ_ARGS:-} "$work/corpus" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log" | tail -n 1)
	[ -n "$runs" ] || runs=0
	total=$((total + runs))
	corp=$(count "$work/corpus")
	if [ "$rc" -eq 0 ] && [ "$(count "$work/artifacts")" -eq 0 ]; then
		echo "fuzz: $name: OK, $runs executions in ${secs}s, corpus $corp inputs"
		rm -rf "$work"
		continue
	fi
	failed="$failed $name"
	echo "fuzz: $name: FAILED (exit $rc) after $runs executions"
	# The sanitizer or invariant report, without libFuzzer's progress lines.
	grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED|RELOAD)|^(0x[0-9a-f]{2},)+$' "$work/log" |
		sed -n '/ERROR\|WARNING\|runtime error\|invariant broken\|==[0-9]*==/,$p' |
		head -n 80 | sed 's/^/fuzz:   | /'
	found=0
	for a in "$work/artifacts"/*; do
		[ -f "$a" ] || continue
		found=1
		show_input "$a" "$bin"
	done
	[ "$found" = 1 ] || echo "fuzz:   no input saved; log: $work/log"
	echo "fuzz:   full log: $work/log (work dir kept)"
done

[ -n "${FUZZ_WORKDIR:-}" ] || rmdir "$base" 2>/dev/null
echo "fuzz: $total executions in all"
if [ -n "$failed" ]; then
	echo "fuzz: FAILED:$failed"
	exit 1
fi
exit 0
