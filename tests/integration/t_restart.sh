#!/usr/bin/env bash
# -o restart: the serving process may die (kill -9) at any instant; the
# supervisor starts another, which rebuilds the namespace from the journal
# and takes over the opens, and the kernel resends what the dead one had
# read. No client sees an error.
#
#   1. What survives: every name, number, mode, owner, time, link, xattr,
#      ACL, inode flag and byte; a file held open and mapped (also removed
#      while held) works on through the restart and goes with its user;
#      views made while mounted; cow views' private pages (a config view
#      and one made by a control command), then committed and discarded.
#   2. A crash loop (RFS_RESTART_SECONDS, default 60): the serving process
#      killed every 200-500 ms while dd+cmp, Python mmap, a namespace model,
#      two SQLite writers, fio --verify=crc32c on a region and on a view,
#      ls -R and flock run: no client error, every byte and name verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fio_lib.sh"
. "$(dirname "$0")/restart_load.sh"

if [[ " ${RFS_MOUNT_OPTS:-} " == *" io_uring "* ]]; then
	mkdir -p "$RFS_WORK/bad-mnt"
	rfs_refused_run "-o restart,io_uring" "$RFS_WORK/bad-mnt" "$REGIONFS" -f -o restart,io_uring \
		"$RFS_WORK/bad-mnt"
	grep -q "the rings die with the serving process" "$RFS_WORK/bad.err" ||
		fail "-o restart,io_uring: $(cat "$RFS_WORK/bad.err")"
	skip "-o restart with -o io_uring is refused, with why (checked)"
fi
command -v setfacl >/dev/null || skip "setfacl not installed (scripts/deps.sh test)"

# The serving process: the supervisor's child.
server() { pgrep -n -P "$RFS_PID" -x regionfs || true; } # the newest: one killed may linger

# Kill the serving process; wait for its successor to answer.
restart_server() {
	local old new i
	old=$(server)
	[[ -n "$old" ]] || fail "no serving process under supervisor $RFS_PID"
	kill -9 "$old"
	for ((i = 0; i < 200; i++)); do
		new=$(server)
		[[ -n "$new" && "$new" != "$old" ]] && stat "$MNT" >/dev/null && return 0
		sleep 0.05
	done
	fail "no serving process after killing $old"
}

# --- 1. what survives ---------------------------------------------------------

W=$RFS_WORK
rfs_mount -o restart,size=256M
grep -q '^# restart: on: supervisor ' "$MNT/.regionfs/stats" ||
	fail "stats does not say restart is on: $(tail -n 1 "$MNT/.regionfs/stats")"
tree_build
ok "a tree: directories, a 3 MiB region and its hard link, a symlink, a fifo, modes, owners, times, xattrs, a default ACL, chattr +i, renames"

holder_start restarted
used_held=$(df_used)
before=$(snapshot)
restart_server
same_tree "$before" "after the restart"
ok "after kill -9 of the serving process: the same tree, byte for byte ($(echo "$before" | wc -l) lines of ls, stat, md5sum, getfattr, getfacl, lsattr)"

holder_finish restarted "the restart"
wait_until 10 test "$(df_used)" -lt "$used_held" ||
	fail "the removed region's bytes stayed after its holder closed it ($(df_used) >= $used_held)"
ok "a region held open and mapped, removed while held: fstat, pread, pwrite, mapped stores and ftruncate across the restart; its bytes go with its holder"

restarts=$(awk '$1 == "regionfs_server_restarts_total" { print $2 }' "$MNT/.regionfs/metrics")
pid=$(awk '$1 == "regionfs_server_pid" { print $2 }' "$MNT/.regionfs/metrics")
assert_eq 1 "$restarts" "regionfs_server_restarts_total"
assert_eq "$(server)" "$pid" "regionfs_server_pid"
grep -q "^# restart: on: supervisor $RFS_PID keeps the mount, serving process $pid, 1 restarts (the last in [0-9.]* ms)$" \
	"$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
grep -q "serving process [0-9]* killed by signal 9 (Killed); starting another" "$RFS_LOG" ||
	fail "the log does not say why the serving process was restarted"
ok "metrics: regionfs_server_restarts_total 1, regionfs_server_pid $pid; stats and the log say why"

# New names after the restart do not collide with the old ones.
mkdir "$MNT/new dir"
ino_new=$(stat -c %i "$MNT/new dir")
ino_max=$(echo "$before" | sed -n 's/.* ino=\([0-9]*\) .*/\1/p' | sort -n | tail -n 1)
((ino_new > ino_max)) || fail "a new directory took number $ino_new, not past $ino_max"
rm -r "$MNT/dir with spaces"
[[ ! -e "$MNT/dir with spaces" ]] || fail "rm -r after the restart"
ok "after it: new names take new numbers, rm -r works"
rfs_unmount

# --- 1a. views made while mounted: made again from their declarations

truncate -s 1M "$W/made.backing"
printf '[regionfs]\nallowed_roots = %s\n' "$W" >"$W/views.ini"
rfs_mount -o restart,size=64M -c "$W/views.ini"
printf 'view made file=%s offset=4096 length=65536\n' "$W/made.backing" >"$MNT/.regionfs/control"
head -c 70000 /dev/urandom >"$MNT/win.src"
printf 'view "a window" region=win.src offset=100 length=1000 access=ro\n' >"$MNT/.regionfs/control"
echo "through the view" | dd of="$MNT/made" conv=notrunc status=none
echo "sealed bytes" >"$MNT/sealed"
printf 'seal sealed write,shrink\n' >"$MNT/.regionfs/control"
printf 'region "declared sealed" size=8192 seals=grow\n' >"$MNT/.regionfs/control"
restart_server
expect_errno EPERM 'open(M + "/sealed", "w")'
expect_errno EPERM 'os.truncate(M + "/declared sealed", 16384)'
assert_eq "sealed bytes" "$(cat "$MNT/sealed")" "the sealed region"
grep -q '^sealed region 13 .* shrink,write$' "$MNT/.regionfs/stats" ||
	fail "stats: $(grep '^sealed ' "$MNT/.regionfs/stats")"
assert_eq "through the view" "$(head -c 16 "$MNT/made"; echo)" "the view after the restart"
assert_eq "$(tail -c +101 "$MNT/win.src" | head -c 1000 | md5sum)" "$(md5sum <"$MNT/a window")" \
	"the window of a region after the restart"
assert_eq 65536 "$(stat -c %s "$MNT/made")" "the view's size"
echo "again" | dd of="$MNT/made" bs=1 seek=100 conv=notrunc status=none
printf 'flush made\n' >"$MNT/.regionfs/control"
assert_eq "again" "$(dd if="$W/made.backing" bs=1 skip=4196 count=5 status=none)" \
	"a write through the view after the restart, in its backing file"
grep -q '^# restart: on: ' "$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
ok "views made by control commands (of a file, a window of a region) are made again by the restart: same bytes, writes reach the backing file; seals added by seal and region commands hold after it (EPERM); restart stays on"
rfs_unmount

# --- 1c. cow views' private pages outlive the serving process

# A config cow view (made in the supervisor's image before serving) and one
# made by a control command (made again by the replay, its shadow file
# adopted): private bytes by dd and by a mapped store, kept through two kills;
# then commit writes one's into its file and discard drops the other's.
PAGE=$(getconf PAGESIZE)
for f in A B; do
	head -c $((1 << 20)) /dev/urandom >"$W/cow$f.backing"
	cp "$W/cow$f.backing" "$W/cow$f.orig"
done
cat >"$W/cow.ini" <<EOF2
[regionfs]
allowed_roots = $W

[view:cfgcow]
file = $W/cowA.backing
offset = 4097
length = 524288
access = cow
EOF2
rfs_mount -o restart,size=64M -c "$W/cow.ini"
rfs_ctl "view madecow file=$W/cowB.backing offset=8192 length=600000 access=cow"
# window FILE OFF LEN: the bytes a view of FILE at OFF, LEN long shows unwritten.
window() { dd if="$1" bs=1M skip="$2" count="$3" iflag=skip_bytes,count_bytes status=none; }
# put FILE OFF < BYTES: in place, one process.
put() { dd of="$1" bs=1M seek="$2" oflag=seek_bytes conv=notrunc status=none || fail "dd to $1 at $2"; }
window "$W/cowA.orig" 4097 524288 >"$W/expA"
window "$W/cowB.orig" 8192 600000 >"$W/expB"
head -c 10000 /dev/urandom >"$W/p1"
head -c 5000 /dev/urandom >"$W/p2"
put "$MNT/cfgcow" 5000 <"$W/p1"
put "$W/expA" 5000 <"$W/p1"
put "$MNT/madecow" 70000 <"$W/p2"
put "$W/expB" 70000 <"$W/p2"
python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 600000)
m[300000:300010] = b"MMAP-STORE"
m.flush()
m.close()
os.close(fd)' "$MNT/madecow" || fail "the mapped store into madecow"
printf 'MMAP-STORE' | put "$W/expB" 300000
# private NAME: the view's private bytes, as metrics says.
private() { awk -v k="regionfs_mapping_private_bytes{name=\"$1\"," 'index($1, k) == 1 { print $2 }' "$MNT/.regionfs/metrics"; }
# The pages each write touched: cfgcow's window starts 1 byte into a page.
pA=$(((((5000 + 1 + 10000 - 1) / PAGE) - (5000 + 1) / PAGE + 1) * PAGE))
pB=$((((70000 + 5000 - 1) / PAGE - 70000 / PAGE + 1 + 1) * PAGE))
assert_eq "$pA" "$(private cfgcow)" "cfgcow's private bytes"
assert_eq "$pB" "$(private madecow)" "madecow's private bytes"
grep -q '^# restart: on: ' "$MNT/.regionfs/stats" ||
	fail "stats after writes into cow views: $(tail -n 1 "$MNT/.regionfs/stats")"
assert_eq 1 "$(awk '$1 == "regionfs_restart_protected" { print $2 }' "$MNT/.regionfs/metrics")" \
	"regionfs_restart_protected after writes into cow views"
ok "writes into a config cow view and a control-made one (dd, a mapped store): private $pA and $pB bytes; restart protection stays on"

# same_cow WHEN: both views and both backing files as they must be.
same_cow() {
	echo 3 >/proc/sys/vm/drop_caches # read through the daemon, not the cache
	cmp "$MNT/cfgcow" "$W/expA" || fail "cfgcow $1"
	cmp "$MNT/madecow" "$W/expB" || fail "madecow $1"
	cmp "$W/cowA.backing" "$W/cowA.orig" || fail "cowA.backing changed $1"
	cmp "$W/cowB.backing" "$W/cowB.orig" || fail "cowB.backing changed $1"
	assert_eq "$pA" "$(private cfgcow)" "cfgcow's private bytes $1"
	assert_eq "$pB" "$(private madecow)" "madecow's private bytes $1"
	grep -q '^# restart: on: ' "$MNT/.regionfs/stats" || fail "stats $1: $(tail -n 1 "$MNT/.regionfs/stats")"
}
restart_server
same_cow "after a kill"
restart_server
same_cow "after a second kill"
ok "after kill -9, twice: both cow views read back their private bytes, the backing files are unchanged, metrics count the same private bytes, restart stays on"

rfs_ctl "commit cfgcow"
rfs_ctl "discard madecow"
cp "$W/cowA.orig" "$W/expAfile"
put "$W/expAfile" $((4097 + 5000)) <"$W/p1"
cmp "$W/cowA.backing" "$W/expAfile" || fail "cowA.backing after commit"
cmp "$W/cowB.backing" "$W/cowB.orig" || fail "cowB.backing changed by a discard"
echo 3 >/proc/sys/vm/drop_caches
cmp "$MNT/cfgcow" "$W/expA" || fail "cfgcow after commit"
cmp "$MNT/madecow" <(window "$W/cowB.orig" 8192 600000) || fail "madecow after discard"
assert_eq 0 "$(private cfgcow)" "cfgcow's private bytes after commit"
assert_eq 0 "$(private madecow)" "madecow's private bytes after discard"
restart_server
assert_eq 0 "$(private cfgcow)" "cfgcow's private bytes after commit and a kill"
assert_eq 0 "$(private madecow)" "madecow's private bytes after discard and a kill"
cmp "$MNT/madecow" <(window "$W/cowB.orig" 8192 600000) || fail "madecow after discard and a kill"
ok "then commit cfgcow: its bytes in the backing file; discard madecow: the backing file's bytes again; private 0, also after another kill"
rfs_unmount

# Under huge pages a private page may be part of a huge one: not kept, and said so.
rfs_mount -o restart,size=64M,huge=always -c "$W/cow.ini"
grep -q '^# restart: on: ' "$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
exec 8>>"$MNT/cfgcow"
exec 8>&-
assert_eq "# restart: lost: a cow view was opened for writing under huge=always or within_size: huge pages hide its private pages; if the serving process dies, the mount ends" \
	"$(tail -n 1 "$MNT/.regionfs/stats")" "stats' last line after a cow view opened for writing under huge=always"
rfs_unmount
ok "under huge=always, opening a cow view for writing loses restart protection, and stats says why"

# --- 1b. killed after the change, before its reply: the resend is not done twice

# The test hook (lib/journal.c): the serving process kills itself right after
# recording a create (1), link (2), remove (3), rename (4) or setxattr (6),
# once each.
RFS_TEST_KILL_AFTER_RECORD=1,2,3,4,6 rfs_mount -o restart,size=64M
mkdir "$MNT/a b" || fail "mkdir, killed after it was made: $?"
[[ -d "$MNT/a b" ]] || fail "mkdir: no directory"
echo data >"$MNT/a b/f"
ln "$MNT/a b/f" "$MNT/a b/g" || fail "ln, killed after the link was made"
setfattr -n user.k -v v "$MNT/a b/f" || fail "setfattr, killed after it was set"
assert_eq v "$(getfattr --only-values -n user.k "$MNT/a b/f" 2>/dev/null)" "the xattr"
mv "$MNT/a b/g" "$MNT/a b/h" || fail "mv, killed after the rename"
[[ -e "$MNT/a b/h" && ! -e "$MNT/a b/g" ]] || fail "mv: g and h after the rename"
rm "$MNT/a b/h" || fail "rm, killed after the remove"
[[ ! -e "$MNT/a b/h" ]] || fail "rm: h is still there"
assert_eq 1 "$(stat -c %h "$MNT/a b/f")" "f's links after ln and rm"
assert_eq data "$(cat "$MNT/a b/f")" "f"
assert_eq 5 "$(awk '$1 == "regionfs_server_restarts_total" { print $2 }' "$MNT/.regionfs/metrics")" \
	"restarts: one per change"
ok "the serving process killed after each of mkdir, ln, setfattr, mv, rm was made, before its reply: each answered as done (no EEXIST, ENOENT), done once"
rfs_unmount

# --- 1c. killed while its notice thread waits in the kernel on a client

# A client's lookup the daemon holds (the test hook RFS_TEST_SLOW_LOOKUP)
# keeps its directory locked; a control command's new name there has the
# notice thread drop the kernel's entry, which waits for that lock. Killed
# then, the serving process cannot end until its successor answers the
# lookup: the supervisor starts one once that thread is all that is left.
RFS_TEST_SLOW_LOOKUP=slow rfs_mount -o restart,size=64M
mkdir "$MNT/d"
(
	rc=0
	stat "$MNT/d/slow" >/dev/null 2>"$W/slow.err" || rc=$?
	echo $rc >"$W/slow.rc"
) &
looker=$!
sleep 0.5
printf 'region d/new size=4096\n' >"$MNT/.regionfs/control"
old=$(server)
waiting=""
for ((i = 0; i < 40 && !waiting; i++)); do
	grep -l '^State:.*D (disk sleep)' /proc/"$old"/task/*/status >/dev/null 2>&1 && waiting=1
	sleep 0.05
done
[[ -n "$waiting" ]] || fail "no thread of the serving process waits in the kernel: the case is not set up"
kill -9 "$old"
wait_until 15 bash -c "[[ -s '$W/slow.rc' ]]" || fail "the held lookup never ended after the kill"
wait "$looker"
assert_eq 1 "$(cat "$W/slow.rc")" "stat of a name that is not there"
grep -q "No such file or directory" "$W/slow.err" || fail "the held lookup: $(cat "$W/slow.err")"
assert_eq 4096 "$(stat -c %s "$MNT/d/new")" "the region the control command made"
assert_eq 1 "$(awk '$1 == "regionfs_server_restarts_total" { print $2 }' "$MNT/.regionfs/metrics")" \
	"restarts"
grep -q "serving process $old ended but for its notice thread, which waits in the kernel on a client" \
	"$RFS_LOG" || fail "the log does not say why the successor started before $old ended"
wait_until 10 bash -c "! kill -0 $old 2>/dev/null" || fail "the killed process $old never ended"
ok "killed while its notice thread waited in the kernel on a client's lookup: the successor answers it (ENOENT, no hang), the killed process then ends"
rfs_unmount

# --- 2. the crash loop --------------------------------------------------------

seconds=${RFS_RESTART_SECONDS:-60}
load_config "$W/restart.ini"
rfs_mount -o restart,size=512M -c "$W/restart.ini"
load_start
kills=0
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
	sleep "0.$((RANDOM % 300 + 200))"
	pid=$(server)
	[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
done
load_finish "while the serving process was killed $kills times"
restarts=$(awk '$1 == "regionfs_server_restarts_total" { print $2 }' "$MNT/.regionfs/metrics")
assert_eq "$kills" "$restarts" "regionfs_server_restarts_total after $kills kills"
ok "crash loop, $seconds s: $kills kills, no client error: $LOAD_DONE"
rfs_unmount

# --- 3. reloads are kept; what a restart cannot rebuild says so, and ends the mount cleanly

cat >"$W/lost.ini" <<EOF2
[region:a]
size = 4096
EOF2
rfs_mount -o restart,size=64M -c "$W/lost.ini"
printf '[region:a]\nsize = 4096\n[region:b]\nsize = 8192\n' >"$W/lost.ini"
kill -HUP "$RFS_PID" # the supervisor passes it on: the serving process reloads
wait_until 10 test -e "$MNT/b" || fail "SIGHUP to the supervisor did not reload the config"
restart_server
assert_eq 8192 "$(stat -c %s "$MNT/b")" "region b of the reloaded config after the restart"
# The config in force is the reloaded one: the next reload's changes are from it.
printf '[region:a]\nsize = 4096\n[region:c]\nsize = 4096\n' >"$W/lost.ini"
printf 'reload\n' >"$MNT/.regionfs/control"
[[ -e "$MNT/c" && ! -e "$MNT/b" ]] || fail "the reload after the restart: $(ls "$MNT")"
grep -q '^# restart: on: ' "$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
ok "a reload (SIGHUP to the supervisor, passed on) is kept: its regions, and the config in force, whose next reload removes what it dropped"

# Budgets set while mounted: each a tmpfs instance the supervisor keeps.
ctl() { printf '%s\n' "$1" >"$MNT/.regionfs/control" || fail "control: $1: $(cat "$MNT/.regionfs/control")"; }
budget_df() { df -B1 --output=size,used "$MNT/$1" | tail -n 1; }
ctl 'dir "a budget" size=1M'
head -c 300000 /dev/urandom >"$W/in-budget"
cp "$W/in-budget" "$MNT/a budget/r"
ctl 'dir "a budget/inner" size=256K'
ctl 'dir grown size=1M'
ctl 'dir grown size=3M'
ctl 'dir taken size=1M'
ctl 'dir taken size=0'
grep -q '^# restart: on: ' "$MNT/.regionfs/stats" || fail "stats after budgets: $(tail -n 1 "$MNT/.regionfs/stats")"
df_budget=$(budget_df "a budget") df_grown=$(budget_df grown) df_taken=$(budget_df taken)
df_root=$(budget_df .)
restart_server
assert_eq "$df_budget" "$(budget_df "a budget")" "df of a budget set while mounted, after the restart"
assert_eq "$df_grown" "$(budget_df grown)" "df of a budget grown while mounted"
assert_eq "$df_taken" "$(budget_df taken)" "df of a directory whose budget was taken away"
assert_eq "$df_root" "$(budget_df .)" "df of the mount (the budgets carved from it)"
cmp "$W/in-budget" "$MNT/a budget/r" || fail "the budget's region after the restart"
dd if=/dev/zero of="$MNT/a budget/big" bs=1M count=1 status=none 2>"$W/dd.err" &&
	fail "1 MiB written into a 1 MiB budget already holding 300 kB"
grep -q "No space left on device" "$W/dd.err" || fail "dd past the budget: $(cat "$W/dd.err")"
rm "$MNT/a budget/big"
grep -q '^grown dir 3145728 ' "$MNT/.regionfs/stats" || fail "stats: $(grep '^grown ' "$MNT/.regionfs/stats")"
grep -q '^"a budget/inner" dir 262144 ' "$MNT/.regionfs/stats" ||
	fail "stats: $(grep inner "$MNT/.regionfs/stats")"
# Made after the restart: kept across the next one too.
ctl 'dir later size=2M'
echo "later bytes" >"$MNT/later/r"
restart_server
assert_eq "later bytes" "$(cat "$MNT/later/r")" "a region in a budget made after a restart"
cmp "$W/in-budget" "$MNT/a budget/r" || fail "the budget's region after a second restart"
grep -q '^# restart: on: ' "$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
ok "budgets set, nested, grown and taken away while mounted are kept by two restarts: their regions byte for byte, df of each the same, ENOSPC past them, stats"

# What no journal record holds: a reloaded config larger than a record.
{
	printf '[region:a]\nsize = 4096\n'
	for ((i = 0; i < 1500; i++)); do printf '; a comment line of about sixty bytes, to pad the file %d\n' $i; done
} >"$W/lost.ini"
ctl reload
assert_eq "# restart: lost: the config reloaded is too large for the journal; if the serving process dies, the mount ends" \
	"$(tail -n 1 "$MNT/.regionfs/stats")" "stats' last line after a large reload"
assert_eq 0 "$(awk '$1 == "regionfs_restart_protected" { print $2 }' "$MNT/.regionfs/metrics")" \
	"regionfs_restart_protected after a large reload"
kill -9 "$(server)"
st=0
wait_until 10 bash -c "! kill -0 $RFS_PID 2>/dev/null" || fail "the supervisor did not end"
wait "$RFS_PID" || st=$?
RFS_PID=""
assert_eq 1 "$st" "the supervisor's exit status"
! _rfs_mounted "$MNT" || fail "$MNT is still mounted"
grep -q "cannot serve again, unmounting: the journal does not hold every change: the config reloaded is too large for the journal" \
	"$RFS_LOG" || fail "the log does not say why the mount ended"
rmdir "$MNT"
ok "what the journal cannot hold (a reloaded config over a record's 80 KiB) loses restart protection: stats and metrics say so; the next death ends the mount, unmounted, the log says why"
