#!/usr/bin/env bash
# Config file: predeclared regions exist at mount; bad configs are refused
# with "file:line: reason" and exit status 2; --help and --version.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
KiB=1024
MiB=1048576

# --- --help and --version
st=0
"$REGIONFS" --help >"$W/help" 2>&1 || st=$?
assert_eq 0 "$st" "exit status of --help (output: $(head -c 300 "$W/help"))"
grep -qi usage "$W/help" || fail "--help prints no usage: $(head -c 300 "$W/help")"
st=0
"$REGIONFS" --version >"$W/version" 2>&1 || st=$?
assert_eq 0 "$st" "exit status of --version"
grep -qE '[0-9]+\.[0-9]+' "$W/version" || fail "--version prints no version: $(cat "$W/version")"
ok "--help prints usage and --version a version, both exit 0"

# --- a good config
cfg=$W/good.ini
cat >"$cfg" <<'EOF'
; sample
[regionfs]
size = 64M

[region:telemetry]
size = 1M
mode = 0640

[region:ipc/ring]
size = 256K
mode = 0660
prealloc = yes

[region:owned]
size = 4096
uid = 1234
gid = 5678
EOF
rfs_mount -c "$cfg"
assert_eq "regular file $MiB 640" "$(stat -c '%F %s %a' "$MNT/telemetry")" "telemetry: type size mode"
[[ -d "$MNT/ipc" ]] || fail "ipc/ring did not create directory ipc"
assert_eq "regular file $((256 * KiB)) 660" "$(stat -c '%F %s %a' "$MNT/ipc/ring")" "ipc/ring: type size mode"
assert_eq "4096 1234:5678" "$(stat -c '%s %u:%g' "$MNT/owned")" "owned: size uid:gid"
assert_eq "ipc owned telemetry" "$(find "$MNT" -mindepth 1 -maxdepth 1 ! -name .regionfs -printf '%f\n' | sort | xargs)" "root listing"
assert_eq ring "$(ls "$MNT/ipc")" "ipc listing"
ok "predeclared regions exist with size, mode, uid/gid; ipc/ring in a directory"
assert_eq $((64 * MiB)) "$(df_size)" "statfs total from [regionfs] size"
(($(df_used) >= 256 * KiB)) || fail "prealloc = yes region not accounted: df used $(df_used)"
assert_zeros "$MNT/ipc/ring" 0 $((256 * KiB))
assert_zeros "$MNT/telemetry" 0 "$MiB"
head -c $((256 * KiB)) /dev/urandom >"$W/ring"
dd if="$W/ring" of="$MNT/ipc/ring" conv=notrunc status=none
cmp "$W/ring" "$MNT/ipc/ring" || fail "data written to ipc/ring differs"
assert_size "$MNT/ipc/ring" $((256 * KiB))
ok "statfs total is the config size; regions start zeroed, are writable; prealloc is accounted"
rfs_unmount

rfs_mount -o config="$cfg"
assert_eq "$MiB 640" "$(stat -c '%s %a' "$MNT/telemetry")" "telemetry via -o config="
assert_eq $((64 * MiB)) "$(df_size)" "statfs total via -o config="
rfs_unmount
rfs_mount -c "$cfg" -o size=32M
assert_eq $((32 * MiB)) "$(df_size)" "-o size=32M over config size 64M"
rfs_unmount
ok "-o config=FILE works; -o size overrides the config's size"

# --- bad configs

# bad_config LINE WHAT, config text on stdin: refused, with CONFIG:LINE: on stderr.
nbad=0
bad_config() {
	local line=$1 what=$2 cfg
	nbad=$((nbad + 1))
	cfg=$W/bad$nbad.ini
	cat >"$cfg"
	rfs_refused "$cfg" "$what"
	grep -qF "$cfg:$line:" "$W/bad.err" ||
		fail "$what: stderr lacks '$cfg:$line:': $(cat "$W/bad.err")"
}

bad_config 3 "unknown key" <<'EOF'
[regionfs]
size = 64M
colour = blue
EOF
ok "unknown key: exit 2, FILE:3: on stderr, nothing mounted"
bad_config 6 "bad size 12Q" <<'EOF'
; comment
[regionfs]
size = 64M

[region:x]
size = 12Q
EOF
ok "bad size 12Q: exit 2, FILE:6:, nothing mounted"
bad_config 3 "bad region name a/../b" <<'EOF'
[regionfs]
size = 64M
[region:a/../b]
size = 1M
EOF
ok "bad region name a/../b: exit 2, FILE:3: (the section line), nothing mounted"
bad_config 4 "unknown section" <<'EOF'
[regionfs]
size = 64M

[bogus]
x = 1
EOF
ok "unknown section: exit 2, FILE:4: (the section line), nothing mounted"
bad_config 2 "reserved region name" <<'EOF'
[regionfs]
[region:.regionfs]
size = 1M
EOF
bad_config 3 "bad mode" <<'EOF'
[region:m]
size = 1M
mode = 0999
EOF
bad_config 3 "bad prealloc" <<'EOF'
[region:p]
size = 1M
prealloc = maybe
EOF
bad_config 2 "bad global size" <<'EOF'
[regionfs]
size = lots
EOF
ok "reserved name .regionfs, mode 0999, prealloc = maybe, size = lots: exit 2 with line"

rfs_refused "$W/no-such.ini" "missing config file"
grep -qF "$W/no-such.ini" "$W/bad.err" || fail "missing config file not named: $(cat "$W/bad.err")"
ok "missing config file: exit 2, named on stderr"

# --- signals: SIGTERM and SIGINT unmount cleanly; the daemon exits 0
unmounted() { ! _rfs_mounted "$MNT"; }
for sig in TERM INT; do
	rfs_mount
	echo data >"$MNT/f"
	kill -"$sig" "$RFS_PID"
	wait_until 10 unmounted || fail "still mounted 10 s after SIG$sig"
	rfs_unmount
	ok "SIG$sig unmounts and the daemon exits 0"
done
