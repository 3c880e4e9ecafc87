#!/usr/bin/env bash
# Directory budgets: [dir:NAME] size = N (and "dir NAME size=N") cap the
# bytes of the regions below a directory, nested budgets included (carved
# from the budget above). Two tenants fill their budgets at once, each stops
# at its own with ENOSPC, and everything either accepted reads back; df in
# each shows its budget (also through a bind mount, as a container sees it);
# a mapped store past a budget is SIGBUS with the kernel, ENOSPC at msync
# with the daemon; a region cannot leave its budget by rename (EXDEV, mv
# copies); stats, stats.json and metrics show size and use; control and
# reload change budgets or say why not.
. "$(dirname "$0")/lib.sh"

rfs_require
command -v setpriv >/dev/null || skip "setpriv missing"
W=$RFS_WORK
MiB=$((1 << 20))
cat >"$W/rfs.ini" <<EOF
[regionfs]
size = 96M

[dir:t1]
size = 8M
uid = 60001
mode = 0755

[dir:t2]
size = 12M
uid = 60002
mode = 0755
EOF
rfs_mount -c "$W/rfs.ini"
served=$(rfs_served_by)
statfs() { python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print(s.f_blocks*s.f_frsize, (s.f_blocks-s.f_bavail)*s.f_frsize)' "$1"; }

# --- df inside each budget, and at the root (the budgets are carved from the cap)
assert_eq "$((8 * MiB)) 0" "$(statfs "$MNT/t1")" "statfs of t1 (size, used)"
assert_eq "$((12 * MiB)) 0" "$(statfs "$MNT/t2")" "statfs of t2"
assert_eq "$((96 * MiB)) $((20 * MiB))" "$(statfs "$MNT")" "statfs of the root"
df -B1 "$MNT/t1" | grep -q " $((8 * MiB)) " || fail "df t1: $(df -B1 "$MNT/t1")"
ok "df in t1 and t2 shows their budgets (8M, 12M); at the root 96M with 20M carved out"

# --- two tenants fill their budgets at the same time
chmod 0711 "$W"
mkdir -m 01777 "$W/pub"
cat >"$W/pub/fill.py" <<'EOF'
import errno, hashlib, os, sys
d, tag = sys.argv[1], sys.argv[2]
total, i, chunk = 0, 0, bytes([ord(tag)]) * 65536
sums = []
while True:
    path = os.path.join(d, "f%d" % i)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    h, n = hashlib.sha256(), 0
    try:
        while n < (1 << 20):
            w = os.write(fd, chunk)
            h.update(chunk[:w]); n += w; total += w
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        sums.append((path, n, h.hexdigest()))
        os.close(fd)
        break
    os.close(fd)
    sums.append((path, n, h.hexdigest()))
    i += 1
with open(sys.argv[3], "w") as out:
    print(total, file=out)
    for p, n, s in sums:
        print(p, n, s, file=out)
EOF
setpriv --reuid=60001 --regid=60001 --clear-groups python3 "$W/pub/fill.py" "$MNT/t1" a "$W/pub/t1.out" &
p1=$!
setpriv --reuid=60002 --regid=60002 --clear-groups python3 "$W/pub/fill.py" "$MNT/t2" b "$W/pub/t2.out" &
p2=$!
wait "$p1" || fail "tenant 1's writer failed"
wait "$p2" || fail "tenant 2's writer failed"
got1=$(head -1 "$W/pub/t1.out")
got2=$(head -1 "$W/pub/t2.out")
((got1 <= 8 * MiB && got1 >= 8 * MiB - 64 * 1024)) || fail "tenant 1 wrote $got1 bytes into an 8M budget"
((got2 <= 12 * MiB && got2 >= 12 * MiB - 64 * 1024)) || fail "tenant 2 wrote $got2 bytes into a 12M budget"
# Nothing accepted is lost: every byte reads back, from the store itself.
sync
echo 3 >/proc/sys/vm/drop_caches
for out in "$W/pub/t1.out" "$W/pub/t2.out"; do
	tail -n +2 "$out" | while read -r path n sum; do
		assert_size "$path" "$n"
		assert_eq "$sum" "$(sha256sum <"$path" | cut -d' ' -f1)" "sha256 of $path"
	done
done
# The rest of the mount is not theirs to fill.
head -c $((16 * MiB)) /dev/urandom >"$W/outside"
cp "$W/outside" "$MNT/outside"
cmp "$W/outside" "$MNT/outside" || fail "a 16M region outside the budgets"
ok "two users filling t1 and t2 at once stop at 8M and 12M ($got1, $got2 bytes; ENOSPC); all read back; 16M fit outside ($served)"

# --- a mapped store into a hole past the budget
truncate -s 1M "$MNT/t1/hole"
st=0
(python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 1 << 20)
for off in range(0, 1 << 20, 4096):
    m[off] = 1
try:
    m.flush()
except OSError as e:
    sys.exit(3 if e.errno == 28 else 4)
' "$MNT/t1/hole"
	exit $?) 2>"$W/mmap.err" || st=$?
if [[ $served == kernel ]]; then
	((st == 135)) || fail "mapped stores past t1's budget: status $st, not SIGBUS"
	how="SIGBUS"
else
	((st == 3)) || fail "mapped stores past t1's budget (daemon path): status $st, not ENOSPC at msync"
	how="ENOSPC at msync"
fi
rm "$MNT/t1/hole"
ok "1 MiB of mapped stores into a full budget: $how"

# --- regions stay in their budget: rename is EXDEV, mv copies when there is room
expect_errno EXDEV "os.rename(M + '/t1/f0', M + '/t2/f0')"
expect_errno EXDEV "os.link(M + '/t1/f0', M + '/moved')"
# A budget moves with its directory, carved from where it lands: not into a full one.
expect_errno ENOSPC "os.rename(M + '/t1', M + '/t2/t1')"
mv "$MNT/t1/f1" "$MNT/t2/new" 2>"$W/mv.err" && fail "mv into the full t2 succeeded"
grep -q "No space left" "$W/mv.err" || fail "mv into a full budget: $(cat "$W/mv.err")"
[[ -f $MNT/t1/f1 ]] || fail "a failed mv lost the source"
rm -f "$MNT/t2/f1" "$MNT/t2/f2" "$MNT/t2/new"
sum=$(sha256sum <"$MNT/t1/f0")
mv "$MNT/t1/f0" "$MNT/t2/from-t1"
assert_eq "$sum" "$(sha256sum <"$MNT/t2/from-t1")" "t1/f0 copied into t2 by mv"
[[ ! -e $MNT/t1/f0 ]] || fail "mv left t1/f0"
mkdir "$MNT/t1/sub"
ln -s target "$MNT/t1/sub/link"
mv "$MNT/t1/sub" "$MNT/t2/sub" || fail "a directory with no region moved out of t1"
mv "$MNT/t2/from-t1" "$MNT/t2/sub/f" || fail "inside one budget a region moves"
ok "rename and link of a region across budgets EXDEV, of a budget into a full one ENOSPC; mv copies (ENOSPC when full, source kept); directories without regions move"

# --- control: new budgets, nesting, resizing, and refusals with reasons
rfs_ctl 'dir "team a" size=4M'
assert_eq "$((4 * MiB)) 0" "$(statfs "$MNT/team a")" "statfs of 'team a'"
rfs_ctl 'dir "team a/inner" size=1M'
assert_eq "$((4 * MiB)) $((1 * MiB))" "$(statfs "$MNT/team a")" "statfs of 'team a' with a 1M budget inside"
head -c $((3 * MiB)) /dev/zero >"$MNT/team a/x"
expect_errno ENOSPC "fd = os.open(M + '/team a/y', os.O_WRONLY | os.O_CREAT); os.write(fd, b'z' * 4096)"
head -c $MiB /dev/zero >"$MNT/team a/inner/x" || fail "the inner budget's own 1M"
row=$(grep '^"team a" ' "$MNT/.regionfs/stats")
assert_eq "\"team a\" dir $((4 * MiB)) - - - - - $((4 * MiB)) - persist - - -" "$row" "stats row of 'team a'"
grep -qx "regionfs_budget_bytes{dir=\"t1\"} $((8 * MiB))" "$MNT/.regionfs/metrics" || fail "metrics: no budget of t1"
grep -qx "regionfs_budget_used_bytes{dir=\"team a/inner\"} $MiB" "$MNT/.regionfs/metrics" || fail "metrics: use of team a/inner"
py "
import json
d = {x['name']: x for x in json.load(open(M + '/.regionfs/stats.json'))['dirs']}
assert d['t2']['budget'] == 12 << 20, d['t2']
assert d['team a/inner']['budget_used'] == 1 << 20, d
"
rfs_ctl_refused EBUSY "dir t1 size=1M" "dir t1: regions below it keep their bytes where they are (a budget is given before a directory's regions, and shrinks or goes only as far as they let it)"
rfs_ctl_refused ENOSPC "dir big size=1T" "dir big: the budget does not fit in the free room of the budget (or cap) above it"
mkdir "$MNT/full"
echo data >"$MNT/full/f"
rfs_ctl_refused EBUSY "dir full size=1M" "dir full: regions below it keep their bytes where they are (a budget is given before a directory's regions, and shrinks or goes only as far as they let it)"
rfs_ctl_refused EBUSY 'dir "team a" size=0' "dir \"team a\": regions below it keep their bytes where they are (a budget is given before a directory's regions, and shrinks or goes only as far as they let it)"
rfs_ctl "dir t1 size=16M"
assert_eq "$((16 * MiB))" "$(statfs "$MNT/t1" | cut -d' ' -f1)" "t1 grown to 16M"
head -c $((4 * MiB)) /dev/zero >"$MNT/t1/more" || fail "t1's new room"
ok "control: budgets made (a name with a space, nested), grown; shrink, removal, a budget over the cap or over regions refused with reasons; stats, metrics, stats.json"

# --- a container's view: a bind mount of a budgeted directory
mkdir -p "$W/container"
mount --bind "$MNT/t2" "$W/container"
size=$(statfs "$W/container" | cut -d' ' -f1)
umount "$W/container"
assert_eq "$((12 * MiB))" "$size" "statfs through a bind mount of t2"
ok "a bind mount of t2 reports t2's budget (12M)"

# --- reload: the config changes a budget; a budget still in use stays
sed -i 's/^size = 12M$/size = 20M/' "$W/rfs.ini"
rfs_ctl "reload"
assert_eq "$((20 * MiB))" "$(statfs "$MNT/t2" | cut -d' ' -f1)" "t2 after reload"
# The section goes: its budget goes with it once nothing keeps bytes there.
rm -rf "${MNT:?}/t2/"*
python3 - "$W/rfs.ini" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
open(sys.argv[1], "w").write(re.sub(r"\[dir:t2\][^\[]*", "", t))
EOF
rfs_ctl "reload"
assert_eq "$((96 * MiB))" "$(statfs "$MNT/t2" | cut -d' ' -f1)" "t2 after its section went"
ok "reload grows t2 to 20M, and a dropped section takes its empty budget away"

rm -rf "${MNT:?}/t1" "${MNT:?}/team a" "$MNT/outside"
wait_until 5 bash -c "[[ \$(python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print((s.f_blocks-s.f_bfree)*s.f_frsize)' '$MNT') -lt $((2 * MiB)) ]]" ||
	fail "the mount's use after removing everything: $(statfs "$MNT")"
ok "removing budgeted directories gives their room back to the mount"

# ================================================================ budgets by owner
rfs_unmount
cat >"$W/owners.ini" <<EOF
[regionfs]
size = 96M
user_size = 4M

[user:60002]
size = 6M

[group:60010]
size = 5M

[dir:shared]
mode = 1777
EOF
rfs_mount -c "$W/owners.ini"
as() { local u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups "$@"; }
mkdir -m 1777 "$MNT/shared/u1" "$MNT/shared/u2"
as 60001 60001 python3 "$W/pub/fill.py" "$MNT/shared/u1" a "$W/pub/o1.out" &
p1=$!
as 60002 60002 python3 "$W/pub/fill.py" "$MNT/shared/u2" b "$W/pub/o2.out" &
p2=$!
wait "$p1" || fail "user 60001's writer failed"
wait "$p2" || fail "user 60002's writer failed"
got1=$(head -1 "$W/pub/o1.out")
got2=$(head -1 "$W/pub/o2.out")
((got1 <= 4 * MiB && got1 >= 4 * MiB - 64 * 1024)) || fail "user 60001 (user_size 4M) wrote $got1 bytes"
((got2 <= 6 * MiB && got2 >= 6 * MiB - 64 * 1024)) || fail "user 60002 ([user:60002] 6M) wrote $got2 bytes"
echo 3 >/proc/sys/vm/drop_caches
for out in "$W/pub/o1.out" "$W/pub/o2.out"; do
	tail -n +2 "$out" | while read -r path n sum; do
		assert_size "$path" "$n"
		assert_eq "$sum" "$(sha256sum <"$path" | cut -d' ' -f1)" "sha256 of $path"
	done
done
# Root is not held to user_size.
head -c $((8 * MiB)) /dev/zero >"$MNT/shared/root.bin" || fail "root's 8M past user_size"
ok "user_size 4M and [user:60002] 6M: two users filling at once stop at $got1 and $got2 bytes (ENOSPC), all read back; root passes"

# A group's budget holds whoever in it owns the bytes.
as 60003 60010 python3 "$W/pub/fill.py" "$MNT/shared" g "$W/pub/g.out"
gotg=$(head -1 "$W/pub/g.out")
((gotg <= 4 * MiB)) || fail "user 60003 of group 60010 wrote $gotg bytes past its own 4M"
py "os.close(os.open(M + '/shared/grp', os.O_WRONLY | os.O_CREAT)); os.chown(M + '/shared/grp', 0, 60010)"
py "
fd = os.open(M + '/shared/grp', os.O_WRONLY)
n = os.write(fd, b'g' * (2 << 20))
assert n <= (5 << 20) - $gotg, n
try:
    os.write(fd, b'g' * (1 << 20))
    raise SystemExit('a write past group 60010 budget succeeded')
except OSError as e:
    assert e.errno == errno.ENOSPC, e
"
ok "[group:60010] 5M: root's writes to a file of group 60010 stop at what is left of it"

# chown into a full budget: ENOSPC, nothing changed.
expect_errno ENOSPC "os.chown(M + '/shared/root.bin', 60001, -1)"
assert_eq "0" "$(stat -c %u "$MNT/shared/root.bin")" "owner after a refused chown"
# Their writers are served by the daemon, which counts; root's by the kernel.
exec 7>>"$MNT/shared/u1/f0"
exec 8>>"$MNT/shared/root.bin"
as 60001 60001 sh -c "exec 9>>'$MNT/shared/u1/f1'; cat '$MNT/.regionfs/holders' >'$W/pub/holders'"
exec 7>&- 8>&-
if [[ $served == kernel ]]; then
	grep -q "^shared/u1/f1 .* 60001 w daemon$" "$W/pub/holders" || fail "a limited user's writer is not daemon-served: $(cat "$W/pub/holders")"
	grep -q "^shared/root.bin .* 0 w kernel$" "$W/pub/holders" || fail "root's writer is not kernel-served: $(cat "$W/pub/holders")"
fi
# A mapped store past the budget: ENOSPC at msync (the daemon serves it).
truncate -s 1M "$MNT/shared/u1/f0"
st=0
(as 60001 60001 python3 -c '
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.ftruncate(fd, 2 << 20)
m = mmap.mmap(fd, 2 << 20)
for off in range(1 << 20, 2 << 20, 4096):
    m[off] = 1
try:
    m.flush()
except OSError as e:
    sys.exit(3 if e.errno == 28 else 4)
' "$MNT/shared/u1/f1"
	exit $?) 2>"$W/mmap2.err" || st=$?
((st == 3)) || fail "mapped stores past a user's budget: status $st, not ENOSPC at msync"
ok "chown into a full budget ENOSPC (owner kept); limited users' writers daemon-served; mapped stores past the budget ENOSPC at msync"

# stats, metrics, stats.json; each user sees only their own row.
grep -q "^user:60001 user $((4 * MiB)) - - - - - [0-9]* - - - - -$" "$MNT/.regionfs/stats" || fail "stats: no row for user 60001"
grep -q '^regionfs_owner_budget_bytes{kind="group",id="60010",name="[^"]*"} '$((5 * MiB))'$' "$MNT/.regionfs/metrics" ||
	fail "metrics: no budget of group 60010"
rows=$(as 60002 60002 grep -c '^user:' "$MNT/.regionfs/stats")
assert_eq "1" "$rows" "user rows user 60002 sees"
as 60002 60002 grep -q '^user:60002 ' "$MNT/.regionfs/stats" || fail "user 60002 does not see its own budget"
py "
import json
o = {(x['kind'], x['id']): x for x in json.load(open(M + '/.regionfs/stats.json'))['owners']}
assert o[('user', 60002)]['budget'] == 6 << 20, o
assert o[('user', 60002)]['used'] >= (6 << 20) - 65536, o
"
ok "stats rows, metrics and stats.json show each budget by owner; a user sees only its own"

# reload: a larger user_size lets them write on; counted anew.
sed -i 's/^user_size = 4M$/user_size = 8M/' "$W/owners.ini"
rfs_ctl "reload"
as 60001 60001 sh -c "head -c $((2 * MiB)) /dev/zero >'$MNT/shared/u1/after'" || fail "user 60001 after user_size went to 8M"
as 60001 60001 sh -c "head -c $((4 * MiB)) /dev/zero >'$MNT/shared/u1/over'" 2>/dev/null && fail "user 60001 wrote past 8M"
rm -rf "${MNT:?}/shared/"*
ok "reload to user_size 8M: room for 2M more, not for 6M"
