#!/usr/bin/env bash
# The command line: every bad one exits 2 with its first real problem (options
# before the mountpoint) and mounts nothing; a mountpoint that is missing or
# not a directory is refused; --version starts with regionfs's own line and
# labels libfuse's; --help lists each option once.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
DIR=$W/mnt # a good mountpoint
FILE=$W/plain
MISSING=$W/no/such/dir
mkdir "$DIR"
printf 'data' >"$FILE"

# refused WHAT MOUNTPOINT ARGS...: "regionfs -f ARGS" exits 2, mounts nothing.
refused() {
	local what=$1 m=$2
	shift 2
	rfs_refused_run "$what" "$m" "$REGIONFS" -f "$@"
}

# says WHAT PATTERN: the refusal's stderr matches PATTERN (grep -E).
says() {
	grep -qE -- "$2" "$W/bad.err" || fail "$1: stderr lacks /$2/: $(cat "$W/bad.err")"
}

refused "unknown option" "$DIR" --bogus "$DIR"
says "unknown option" "--bogus"
ok "--bogus: exit 2, nothing mounted ($(head -1 "$W/bad.err"))"

refused "unknown -o option" "$DIR" -o bogusopt "$DIR"
says "unknown -o option" "bogusopt"
ok "-o bogusopt: exit 2, nothing mounted ($(head -1 "$W/bad.err"))"

refused "bad size, missing mountpoint" "$MISSING" -o size=abc "$MISSING"
says "bad size, missing mountpoint" "size=abc"
grep -q -- "$MISSING" "$W/bad.err" && fail "bad size, missing mountpoint: reported the mountpoint first: $(cat "$W/bad.err")"
ok "-o size=abc with a missing mountpoint: the bad size is reported ($(head -1 "$W/bad.err"))"

refused "unknown option, missing mountpoint" "$MISSING" -o bogusopt "$MISSING"
says "unknown option, missing mountpoint" "bogusopt"
ok "-o bogusopt with a missing mountpoint: the option is reported"

refused "missing mountpoint" "$MISSING" "$MISSING"
says "missing mountpoint" "$MISSING.*(does not exist|No such file)"
ok "a missing mountpoint: exit 2 ($(head -1 "$W/bad.err"))"

refused "no mountpoint" "$DIR"
says "no mountpoint" "usage|mountpoint"
ok "no mountpoint given: exit 2 ($(head -1 "$W/bad.err"))"

refused "regular file as mountpoint" "$FILE" "$FILE"
says "regular file as mountpoint" "$FILE.*not a directory"
assert_content "$FILE" data
ok "a regular file as mountpoint: exit 2, nothing mounted, file intact ($(head -1 "$W/bad.err"))"

ln -s "$FILE" "$W/link"
refused "symlink to a file as mountpoint" "$FILE" "$W/link"
says "symlink to a file as mountpoint" "not a directory"
ok "a symlink to a regular file as mountpoint: exit 2"

refused "device as mountpoint" /dev/null /dev/null
says "device as mountpoint" "/dev/null.*not a directory"
ok "/dev/null as mountpoint: exit 2"

# Options come before the mountpoint, left to right after that: a bad size
# with a good mountpoint, and the config file's error.
refused "bad size" "$DIR" -o size=abc "$DIR"
says "bad size" "size=abc"
printf '[regionfs]\nsize = lots\n' >"$W/bad.ini"
refused "bad config, file mountpoint" "$FILE" -c "$W/bad.ini" "$FILE"
says "bad config, file mountpoint" "bad.ini:2"
ok "a bad size or config is reported before a bad mountpoint"

# --version: regionfs's line first, then libfuse's, labelled; on a pipe too.
"$REGIONFS" --version >"$W/version" 2>&1 || fail "--version failed: $(cat "$W/version")"
mapfile -t v <"$W/version"
[[ "${v[0]:-}" =~ ^regionfs\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version: first line '${v[0]:-}', want 'regionfs X.Y.Z' (all: $(xargs <"$W/version"))"
[[ "${v[1]:-}" =~ ^libfuse\ [0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || fail "--version: second line '${v[1]:-}', want 'libfuse X.Y.Z'"
grep -q fusermount "$W/version" && fail "--version prints fusermount's line: $(xargs <"$W/version")"
"$REGIONFS" -V >"$W/version2" 2>&1 || fail "-V failed"
cmp -s "$W/version" "$W/version2" || fail "-V differs from --version"
ok "--version and -V: '${v[0]}' then '${v[1]}'"

# --help: each option once.
"$REGIONFS" --help >"$W/help" 2>&1 || fail "--help failed: $(head -3 "$W/help")"
for opt in -h -V -f -d -s; do
	n=$(grep -cE -- "^ +$opt([ ,]|$)" "$W/help" || true)
	assert_eq 1 "$n" "lines of --help listing $opt"
done
for opt in allow_other owner_only size; do
	n=$(grep -cE -- "^ +-o $opt([ =]|$)" "$W/help" || true)
	assert_eq 1 "$n" "lines of --help listing -o $opt"
done
ok "--help lists -h, -V, -f, -d, -s, -o allow_other, -o owner_only and -o size once each"

# A good command line still mounts (the checks above refuse for their reason).
rfs_mount -o size=4M
printf 'x' >"$MNT/f"
assert_size "$MNT/f" 1
rfs_unmount
ok "a good command line mounts"
