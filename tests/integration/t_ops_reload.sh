#!/usr/bin/env bash
# Config reload, by SIGHUP and by the control command "reload": new views
# and regions appear, removed ones disappear, changed views are replaced
# (open files keep the old window), changed regions are resized in place;
# a broken config changes nothing and is logged.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
DATA=$W/data
mkdir "$DATA"
head -c 1M /dev/urandom >"$DATA/a.data"
CFG=$W/regionfs.ini
BASE_SIZE=64K

# window OFFSET LENGTH: write bytes [OFFSET, OFFSET+LENGTH) of a.data to $W/win.OFFSET.LENGTH.
window() {
	dd if="$DATA/a.data" of="$W/win.$1.$2" bs=1 skip="$1" count="$2" iflag=skip_bytes,count_bytes status=none
	echo "$W/win.$1.$2"
}
# write_cfg V1_OFFSET [EXTRA SECTION TEXT]: the base config, plus extra text.
write_cfg() {
	cat >"$CFG.new" <<EOF
[regionfs]
size = 32M
allowed_roots = $DATA

[region:base]
size = $BASE_SIZE

[view:v1]
file = $DATA/a.data
offset = $1
length = 65536
access = ro
EOF
	[[ -z "${2:-}" ]] || printf '\n%s\n' "$2" >>"$CFG.new"
	mv "$CFG.new" "$CFG"
}
LATE="[view:late]
file = $DATA/a.data
offset = 1000
length = 5000
access = ro"
# log_count PATTERN: lines of the daemon log matching PATTERN.
log_count() { grep -c -- "$1" "$RFS_LOG" || true; }
# log_grew PATTERN N: more than N lines of the daemon log match PATTERN.
log_grew() { (($(log_count "$1") > $2)); }
# names: the namespace below the root, without .regionfs.
names() { find "$MNT" -mindepth 1 -path "$MNT/.regionfs" -prune -o -type f -printf '%P %s %m\n' | sort; }
# stats_rows: stats without the columns that move with use (resident, last_flush).
stats_rows() { cut -d' ' -f1-8 "$MNT/.regionfs/stats"; }
# hup_and_wait WHAT: send SIGHUP, wait until the daemon logs the outcome WHAT
# ("reloaded" or "reload failed"); the other outcome fails the test.
hup_and_wait() {
	local good bad n0 b0
	if [[ "$1" == reloaded ]]; then good="reloaded $CFG" bad="reload failed"; else good="reload failed" bad="reloaded $CFG"; fi
	n0=$(log_count "$good")
	b0=$(log_count "$bad")
	kill -HUP "$RFS_PID"
	wait_until 2 log_grew "$good" "$n0" || fail "no '$good' in the daemon log 2 s after SIGHUP"
	(($(log_count "$bad") == b0)) || fail "daemon logged '$bad' after SIGHUP, want '$good'"
}

write_cfg 0
rfs_mount -c "$CFG"
cmp "$(window 0 65536)" "$MNT/v1" || fail "v1 differs from a.data [0, 65536)"
assert_size "$MNT/base" 65536

# --- SIGHUP adds [view:late]
[[ ! -e "$MNT/late" ]] || fail "late exists before it is configured"
write_cfg 0 "$LATE"
start=${EPOCHREALTIME/./}
kill -HUP "$RFS_PID"
wait_until 2 test -e "$MNT/late" || fail "MNT/late did not appear within 2 s of SIGHUP (log: $(tail -3 "$RFS_LOG"))"
took=$(((${EPOCHREALTIME/./} - start) / 1000))
assert_size "$MNT/late" 5000
cmp "$(window 1000 5000)" "$MNT/late" || fail "late differs from a.data [1000, 6000)"
assert_eq "late view 5000 $DATA/a.data 1000 ro 0 0" "$(awk '$1 == "late"' "$MNT/.regionfs/stats" | cut -d' ' -f1-8)" "stats of late"
wait_until 2 log_grew "reloaded $CFG" 0 || fail "daemon did not log 'reloaded $CFG'"
ok "[view:late] appended + SIGHUP: MNT/late appears ($took ms) with a.data [1000, 6000), in stats"

# --- broken configs on SIGHUP change nothing
before_names=$(names)
before_stats=$(stats_rows)
cp "$CFG" "$W/good.ini"
check_unchanged() {
	assert_eq "$before_names" "$(names)" "namespace after $1"
	assert_eq "$before_stats" "$(stats_rows)" "stats after $1"
	cmp "$W/win.1000.5000" "$MNT/late" || fail "late changed after $1"
	cmp "$W/win.0.65536" "$MNT/v1" || fail "v1 changed after $1"
	rfs_alive || fail "daemon gone after $1"
}
BASE_SIZE=128K
write_cfg 4096 "[view:new2]
file = $DATA/a.data
colour = blue"
[[ -e "$MNT/new2" ]] && fail "new2 exists before the reload"
BASE_SIZE=64K
hup_and_wait "reload failed"
grep -q "reload failed.*$CFG:[0-9]\+: .*colour" "$RFS_LOG" ||
	fail "the reload error does not name FILE:LINE and the key: $(grep 'reload failed' "$RFS_LOG" | tail -1)"
check_unchanged "a config with an unknown key"
[[ ! -e "$MNT/new2" ]] || fail "new2 appeared from a broken config"
ok "unknown key + SIGHUP: nothing changes (late, v1, base as they were), the error is logged: $(grep 'reload failed' "$RFS_LOG" | tail -1 | cut -c1-120)"
write_cfg 0 "[view:new3]
file = $DATA/no-such.data"
hup_and_wait "reload failed"
check_unchanged "a config whose new view cannot be opened (late dropped from it)"
[[ ! -e "$MNT/new3" ]] || fail "new3 appeared"
printf '[regionfs\nsize = 1M\n' >"$CFG"
hup_and_wait "reload failed"
check_unchanged "a config with a syntax error"
ok "a view that cannot be opened, a syntax error + SIGHUP: nothing changes, late survives"

# --- reload through control removes late
write_cfg 0
echo reload >"$MNT/.regionfs/control" || fail "echo reload > control failed: $(cat "$MNT/.regionfs/control")"
assert_eq "ok: reload" "$(cat "$MNT/.regionfs/control")" "control after reload"
expect_errno ENOENT "os.stat(M + '/late')"
[[ -z "$(awk '$1 == "late"' "$MNT/.regionfs/stats")" ]] || fail "stats still lists late"
assert_eq "base 65536
v1 65536" "$(names | cut -d' ' -f1-2)" "namespace after removing late"
ok "late removed from the config + 'reload' on control: late is gone (ENOENT, not in stats)"

# --- a broken config through control: the write fails and nothing changes
cp "$CFG" "$W/good.ini"
before_names=$(names)
printf '[regionfs]\nsize = lots\n' >"$CFG"
expect_errno EINVAL,ENOENT,EIO "
fd = os.open(M + '/.regionfs/control', os.O_WRONLY)
os.write(fd, b'reload\n')"
res=$(cat "$MNT/.regionfs/control")
[[ "$res" == "error: reload: "*"$CFG:2: "* ]] || fail "control after a failed reload: '$res'"
assert_eq "$before_names" "$(names)" "namespace after a failed reload via control"
cp "$W/good.ini" "$CFG"
ok "'reload' of a broken config fails the write, control says why ($res)"

# --- a changed view is replaced; an fd opened before keeps the old window
old=$(window 0 65536)
new=$(window 4096 65536)
exec 3<"$MNT/v1"
head -c 100 <&3 >/dev/null # read some of it through the old mapping now
ino0=$(stat -c %i "$MNT/v1")
echo "hello region" >"$MNT/base"
BASE_SIZE=128K
write_cfg 4096
hup_and_wait reloaded
cmp "$new" "$MNT/v1" || fail "a new open of v1 after the offset changed does not read a.data [4096, 4096+65536)"
assert_eq "v1 view 65536 $DATA/a.data 4096 ro" "$(awk '$1 == "v1"' "$MNT/.regionfs/stats" | cut -d' ' -f1-6)" "stats of the replaced v1"
python3 -c 'import os, sys; sys.stdout.buffer.write(os.pread(3, 65536, 0))' >"$W/old-fd" || fail "pread on the old fd failed"
cmp "$old" "$W/old-fd" || fail "an fd opened before the reload does not read the old window a.data [0, 65536)"
exec 3<&-
echo "# v1 inode $ino0 -> $(stat -c %i "$MNT/v1")"
ok "v1 offset 0 -> 4096 + SIGHUP: new opens read the new window, an old fd the old one"
assert_size "$MNT/base" $((128 * 1024))
assert_eq "hello region" "$(head -1 "$MNT/base")" "base contents after resize by reload"
ok "base size 64K -> 128K + SIGHUP: resized in place, contents kept"

# --- SIGHUP adds and drops regions too
write_cfg 4096 "[region:late/r]
size = 8K
mode = 0640"
hup_and_wait reloaded
assert_eq "regular file 8192 640" "$(stat -c '%F %s %a' "$MNT/late/r")" "late/r after SIGHUP"
write_cfg 4096
hup_and_wait reloaded
expect_errno ENOENT "os.stat(M + '/late/r')"
ok "a [region:late/r] added and removed by SIGHUP appears and disappears"
rfs_alive || fail "daemon not alive at the end"
