#!/usr/bin/env bash
# Live upgrade (-o restart): `regionfs --upgrade MOUNTPOINT` hands the mount
# to the binary installed now, which serves on with no client error. The
# daemon runs from a copy "installed" in the work directory; an upgrade
# installs another build there as a package would (a new file renamed over
# the old), here REGIONFS_NEXT, this source built with another version.
#
#   1. Refused, nothing changed, with why: a mount without -o restart; an
#      installed binary that reads another state format; none installed;
#      a config view of a file since gone; a new binary that fails to take
#      the mount over, or crashes doing it (the one before takes it back).
#      Budgets (each its own tmpfs instance), the config's and those set
#      while mounted, are handed on, upgrade after upgrade; so are cow
#      views' private pages.
#   2. What survives: the tree identical (names, numbers, modes, owners,
#      times, links, xattrs, ACLs, flags, bytes); a region held open, mapped
#      and removed works on; metrics and stats name the new version.
#   3. Under load (RFS_UPGRADE_SECONDS, default 30): upgrades back and forth
#      between the two builds while restart_load.sh's clients run: no
#      client error, every byte and name verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fio_lib.sh"
. "$(dirname "$0")/restart_load.sh"

if [[ " ${RFS_MOUNT_OPTS:-} " == *" io_uring "* ]]; then
	skip "-o restart with -o io_uring is refused (t_restart checks why)"
fi
command -v setfacl >/dev/null || skip "setfacl not installed (scripts/deps.sh test)"
NEXT=${REGIONFS_NEXT:-$RFS_ROOT/build-next/regionfs}
[[ -x "$NEXT" ]] || fail "$NEXT not built (make integration builds it)"
W=$RFS_WORK
v_now=$("$REGIONFS" --version | awk 'NR == 1 { print $2 }')
v_next=$("$NEXT" --version | awk 'NR == 1 { print $2 }')
[[ "$v_now" != "$v_next" ]] || fail "$NEXT has the same version as $REGIONFS ($v_now)"

mkdir "$W/bin"
install_bin() { cp "$1" "$W/bin/.new" && mv -f "$W/bin/.new" "$W/bin/regionfs"; }
metric() { awk -v m="$1" '$1 == m { print $2 }' "$MNT/.regionfs/metrics"; }
version() { sed -n 's/^regionfs_info{version="\(.*\)"} 1$/\1/p' "$MNT/.regionfs/metrics"; }

# upgrade_refused WHY: --upgrade fails, says WHY, and nothing changed.
upgrade_refused() {
	local pid before
	pid=$(metric regionfs_server_pid)
	before=$(snapshot)
	if "$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1; then
		fail "--upgrade succeeded: $(cat "$W/up.out")"
	fi
	grep -q "refused, nothing changed: .*$1" "$W/up.out" || fail "--upgrade said: $(cat "$W/up.out")"
	grep -q "(last upgrade refused: .*$1.*)$" "$MNT/.regionfs/stats" ||
		fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
	assert_eq "$pid" "$(metric regionfs_server_pid)" "the serving process after a refusal"
	assert_eq "$v_now" "$(version)" "the version after a refusal"
	same_tree "$before" "after a refused upgrade"
}

# --- 1. refused, nothing changed -----------------------------------------------

rfs_mount -o size=64M
"$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1 && fail "--upgrade of a mount without -o restart"
grep -q "mounted without -o restart" "$W/up.out" || fail "--upgrade said: $(cat "$W/up.out")"
rfs_unmount
"$REGIONFS" --upgrade "$W/bin" >"$W/up.out" 2>&1 && fail "--upgrade of a directory that is no mount"
grep -q "is it a regionfs mount" "$W/up.out" || fail "--upgrade said: $(cat "$W/up.out")"
ok "--upgrade of a mount without -o restart, and of no mount: refused, with why"

install_bin "$REGIONFS"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=64M
head -c 1M /dev/urandom >"$W/data"
cp "$W/data" "$MNT/kept"
# What a build that reads another state format answers.
printf '#!/bin/sh\necho "regionfs 9.9 reads state format 999, not $2: unmount and mount again"\nexit 1\n' \
	>"$W/other"
chmod +x "$W/other"
install_bin "$W/other"
upgrade_refused "regionfs 9.9 reads state format 999, not [0-9]*"
rm "$W/bin/regionfs"
upgrade_refused "cannot run $W/bin/regionfs: No such file or directory"
cmp "$W/data" "$MNT/kept" || fail "bytes after refused upgrades"
assert_eq 2 "$(metric regionfs_upgrades_refused_total)" "regionfs_upgrades_refused_total"
rfs_unmount
ok "an installed binary of another state format, and none installed: refused, the same process serving the same tree"

# A new binary that passes the check but fails to take the mount over: the
# binary before takes it back (RFS_TEST_FAIL_TAKEOVER fails it after the
# declared state is made again, as a failure of its own would).
install_bin "$REGIONFS"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=64M
cp "$W/data" "$MNT/kept"
before=$(snapshot)
# A wrapper of the next build that passes the check, then fails the takeover
# as RFS_TEST_FAIL_TAKEOVER=$2 says.
failing_bin() {
	printf '#!/bin/sh\n[ "$1" = --check-state ] || export RFS_TEST_FAIL_TAKEOVER=%s\nexec "%s" "$@"\n' \
		"$2" "$NEXT" >"$W/$1"
	chmod +x "$W/$1"
	install_bin "$W/$1"
}
# An upgrade to the installed failing build refused, the failure (WHY) said,
# and the binary before serving the same tree and bytes (WHEN: which case).
fell_back() {
	"$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1 && fail "--upgrade $2 succeeded"
	grep -q "refused, nothing changed: regionfs $v_next $1; the binary before serves on" \
		"$W/up.out" || fail "--upgrade said: $(cat "$W/up.out")"
	assert_eq "$v_now" "$(version)" "the version after $2"
	same_tree "$before" "after $2"
	cmp "$W/data" "$MNT/kept" || fail "bytes after $2"
}
failing_bin failing 1
fell_back "could not take the mount over (RFS_TEST_FAIL_TAKEOVER is set)" "a failed upgrade"
assert_eq 0 "$(metric regionfs_upgrades_total)" "regionfs_upgrades_total after the fall-back"
assert_eq 1 "$(metric regionfs_server_restarts_total)" "restarts after the fall-back"
# One that crashes (SIGSEGV) while taking the mount over: the same.
failing_bin crashing crash
fell_back "crashed taking the mount over (signal 11)" "a crashed upgrade"
assert_eq 2 "$(metric regionfs_upgrades_refused_total)" "regionfs_upgrades_refused_total after the crash"
grep -q "live upgrade refused, this binary took the mount back: regionfs $v_next crashed taking the mount over (signal 11)" \
	"$RFS_LOG" || fail "the log does not say the binary before took the mount back"
install_bin "$NEXT"
"$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1 || fail "--upgrade after the fall-back: $(cat "$W/up.out")"
assert_eq "$v_next" "$(version)" "the version after an upgrade following a fall-back"
rfs_unmount
ok "a new binary that cannot take the mount over, or crashes doing it: the one before takes it back (the same tree, the failure said), and a later upgrade works"

truncate -s 1M "$W/gone.backing"
printf '[view:gone]\nfile = %s\n' "$W/gone.backing" >"$W/gone.ini"
install_bin "$REGIONFS"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=64M -c "$W/gone.ini"
install_bin "$NEXT"
rm "$W/gone.backing"
upgrade_refused "the config's view gone: $W/gone.backing: No such file or directory"
rfs_unmount
ok "a config view whose file is gone (the new program opens it again): refused, with why"

# A config budget is a tmpfs instance of its own: handed on too.
printf '[dir:budgeted]\nsize = 16M\n[region:budgeted/declared]\nsize = 1M\n' >"$W/budget.ini"
install_bin "$REGIONFS"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=64M -c "$W/budget.ini"
head -c 4M /dev/urandom >"$W/four"
cp "$W/four" "$MNT/budgeted/four"
printf 'in the budget' | dd of="$MNT/budgeted/declared" conv=notrunc status=none
printf 'dir "set while mounted" size=2M\n' >"$MNT/.regionfs/control"
printf 'dir "budgeted/nested" size=1M\n' >"$MNT/.regionfs/control"
echo "a region in a budget set while mounted" >"$MNT/set while mounted/r"
echo "nested bytes" >"$MNT/budgeted/nested/r"
budget_dfs() { df -B1 --output=size,used "$MNT/budgeted" "$MNT/set while mounted" "$MNT/budgeted/nested" | tail -n +2; }
df_was=$(budget_dfs)
before=$(snapshot)
install_bin "$NEXT"
"$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1 || fail "--upgrade with budgets: $(cat "$W/up.out")"
same_tree "$before" "after upgrading a mount with budgets"
assert_eq "$df_was" "$(budget_dfs)" "df of the budgets"
dd if=/dev/zero of="$MNT/budgeted/big" bs=1M count=16 status=none 2>"$W/dd.err" &&
	fail "16 MiB written into a 16 MiB budget already holding 5 MiB"
grep -q "No space left on device" "$W/dd.err" || fail "dd past the budget: $(cat "$W/dd.err")"
rm "$MNT/budgeted/big"
dd if=/dev/zero of="$MNT/set while mounted/big" bs=1M count=2 status=none 2>"$W/dd.err" &&
	fail "2 MiB written into a 2 MiB budget set while mounted, already holding a region"
grep -q "No space left on device" "$W/dd.err" || fail "dd past the budget: $(cat "$W/dd.err")"
rm "$MNT/set while mounted/big"
cmp "$W/four" "$MNT/budgeted/four" || fail "a budget's region after the upgrade"
# And back, with one more set after the first upgrade.
printf 'dir after size=1M\n' >"$MNT/.regionfs/control"
echo "after bytes" >"$MNT/after/r"
before=$(snapshot)
install_bin "$REGIONFS"
"$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1 || fail "--upgrade back with budgets: $(cat "$W/up.out")"
same_tree "$before" "after upgrading back"
assert_eq "$df_was" "$(budget_dfs)" "df of the budgets after two upgrades"
assert_eq "after bytes" "$(cat "$MNT/after/r")" "a region in a budget set between the upgrades"
grep -q '^# restart: on: .*, 2 live upgrades$' "$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
rfs_unmount
ok "budgets, the config's and those set while mounted (nested too): their tmpfs instances handed on by two upgrades (the regions in them byte for byte, df the same, ENOSPC past them)"

# Cow views' private pages are files of the store: the config's (made again by
# the new program, its shadow file kept) and a view command's (adopted by the
# replay); a region declared after the cow view keeps its own file.
head -c 1M /dev/urandom >"$W/cowA"
head -c 1M /dev/urandom >"$W/cowB"
cp "$W/cowA" "$W/cowA.orig"
cp "$W/cowB" "$W/cowB.orig"
cat >"$W/cow.ini" <<EOF2
[regionfs]
allowed_roots = $W
[view:cfgcow]
file = $W/cowA
offset = 100
length = 500000
access = cow
[region:after]
size = 8K
EOF2
install_bin "$REGIONFS"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=64M -c "$W/cow.ini"
printf 'view madecow file=%s offset=4096 length=300000 access=cow\n' "$W/cowB" >"$MNT/.regionfs/control"
head -c 9000 /dev/urandom >"$W/pc"
dd if="$W/pc" of="$MNT/cfgcow" bs=1M seek=1000 oflag=seek_bytes conv=notrunc status=none
dd if="$W/pc" of="$MNT/madecow" bs=1M seek=200000 oflag=seek_bytes conv=notrunc status=none
printf 'declared after' | dd of="$MNT/after" conv=notrunc status=none
cp "$MNT/cfgcow" "$W/cfgcow.want"
cp "$MNT/madecow" "$W/madecow.want"
cmp -s "$W/cfgcow.want" <(dd if="$W/cowA" bs=1M skip=100 count=500000 iflag=skip_bytes,count_bytes status=none) &&
	fail "cfgcow shows no private bytes"
private() { awk -v k="regionfs_mapping_private_bytes{name=\"$1\"," 'index($1, k) == 1 { print $2 }' "$MNT/.regionfs/metrics"; }
pa=$(private cfgcow)
pb=$(private madecow)
((pa > 0 && pb > 0)) || fail "private bytes before the upgrade: $pa, $pb"
install_bin "$NEXT"
"$REGIONFS" --upgrade "$MNT" >"$W/up.out" 2>&1 || fail "--upgrade with cow views: $(cat "$W/up.out")"
assert_eq "$v_next" "$(version)" "the version after upgrading a mount with cow views"
echo 3 >/proc/sys/vm/drop_caches
cmp "$MNT/cfgcow" "$W/cfgcow.want" || fail "cfgcow after the upgrade"
cmp "$MNT/madecow" "$W/madecow.want" || fail "madecow after the upgrade"
cmp "$W/cowA" "$W/cowA.orig" || fail "cowA changed by the upgrade"
cmp "$W/cowB" "$W/cowB.orig" || fail "cowB changed by the upgrade"
assert_eq "$pa" "$(private cfgcow)" "cfgcow's private bytes after the upgrade"
assert_eq "$pb" "$(private madecow)" "madecow's private bytes after the upgrade"
assert_eq "declared after" "$(head -c 14 "$MNT/after")" "the region declared after the cow view"
rfs_ctl "commit madecow"
cmp "$W/madecow.want" <(dd if="$W/cowB" bs=1M skip=4096 count=300000 iflag=skip_bytes,count_bytes status=none) ||
	fail "cowB after commit"
rfs_unmount
ok "cow views' private pages across --upgrade (a config view, a view command's): the same bytes and counts, the backing files unchanged until a commit writes them"

# --- 2. what survives ----------------------------------------------------------

install_bin "$REGIONFS"
printf '[region:declared]\nsize = 1M\nmode = 0640\n[region:ipc/ring]\nsize = 64K\n' >"$W/decl.ini"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=256M -c "$W/decl.ini"
tree_build
printf 'written into a declared region' | dd of="$MNT/declared" conv=notrunc status=none
truncate -s 3M "$MNT/declared" # grown past its declared size: kept so
chmod 0600 "$MNT/ipc/ring"
ok "a tree: declared regions written and grown, directories, a region and its hard link, a symlink, a fifo, modes, owners, times, xattrs, a default ACL, chattr +i, renames"

holder_start upgraded
before=$(snapshot)
old=$(metric regionfs_server_pid)
install_bin "$NEXT"
"$W/bin/regionfs" --upgrade "$MNT" >"$W/up.out" 2>&1 || fail "--upgrade: $(cat "$W/up.out")"
grep -q "upgraded from regionfs $v_now to regionfs $v_next (serving process $old, then [0-9]*)" \
	"$W/up.out" || fail "--upgrade said: $(cat "$W/up.out")"
same_tree "$before" "after the upgrade"
ok "after --upgrade to $v_next: the same tree, byte for byte ($(echo "$before" | wc -l) lines of ls, stat, md5sum, getfattr, getfacl, lsattr)"

holder_finish upgraded "the upgrade"
ok "a region held open, mapped and removed while held: fstat, pread, pwrite, mapped stores and ftruncate across the upgrade"

assert_eq "$v_next" "$(version)" "regionfs_info's version"
assert_eq "$RFS_PID" "$(metric regionfs_supervisor_pid)" "the supervisor keeps its pid"
assert_eq 1 "$(metric regionfs_upgrades_total)" "regionfs_upgrades_total"
grep -q "^# restart: on: supervisor $RFS_PID keeps the mount, serving process [0-9]*, 1 restarts (the last in [0-9.]* ms), 1 live upgrades$" \
	"$MNT/.regionfs/stats" || fail "stats: $(tail -n 1 "$MNT/.regionfs/stats")"
grep -q "live upgrade: regionfs $v_next took the mount over" "$RFS_LOG" ||
	fail "the log does not say the upgrade happened"
mkdir "$MNT/new dir"
echo new >"$MNT/new dir/file"
rm -r "$MNT/dir with spaces"
[[ "$(cat "$MNT/new dir/file")" == new && ! -e "$MNT/dir with spaces" ]] ||
	fail "changes after the upgrade"
rfs_unmount
ok "metrics and stats show $v_next, the same supervisor pid, 1 live upgrade; the log says it; the mount serves changes and unmounts cleanly"

# --- 3. under load ---------------------------------------------------------------

seconds=${RFS_UPGRADE_SECONDS:-30}
install_bin "$REGIONFS"
load_config "$W/load.ini"
REGIONFS=$W/bin/regionfs rfs_mount -o restart,size=512M -c "$W/load.ini"
load_start
ups=0
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
	sleep "0.$((RANDOM % 500 + 300))"
	if ((ups % 2 == 0)); then
		install_bin "$NEXT"
		want=$v_next
	else
		install_bin "$REGIONFS"
		want=$v_now
	fi
	"$W/bin/regionfs" --upgrade "$MNT" >"$W/up.out" 2>&1 ||
		fail "upgrade $((ups + 1)) under load: $(cat "$W/up.out")"
	ups=$((ups + 1))
	assert_eq "$want" "$(version)" "the version after upgrade $ups"
done
load_finish "while the mount was upgraded $ups times"
assert_eq "$ups" "$(metric regionfs_upgrades_total)" "regionfs_upgrades_total"
last=$(metric regionfs_last_restart_seconds)
rfs_unmount
ok "under load, $seconds s: $ups live upgrades between $v_now and $v_next (the last served again in ${last} s), no client error: $LOAD_DONE"
