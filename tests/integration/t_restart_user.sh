#!/usr/bin/env bash
# -o restart in a mount by a user without privileges (uid 65534): the
# supervisor keeps the tmpfs store it made in a user namespace, and a
# serving process killed with -9 is replaced with the user's files, opens
# and names intact; the user upgrades it live (regionfs --upgrade), then
# unmounts, and both processes exit 0.
#
# The setup (rfs_as_nobody) opens /dev/fuse to others where it is not.
. "$(dirname "$0")/lib.sh"

[[ " ${RFS_MOUNT_OPTS:-} " != *" io_uring "* ]] || skip "-o restart is refused with -o io_uring (t_restart)"
[[ ${SANITIZE:-} != thread ]] ||
	skip "under ThreadSanitizer a user's store is memfds, which -o restart refuses (t_restart)"
rfs_as_nobody
S=$U/scratch # the holder's signals, written by uid 65534
REGIONFS=$RFS_WORK/as-nobody RFS_MNT_OWNER=65534:65534 rfs_mount -o restart,size=16M

# setpriv execs the daemon in place: RFS_PID is the supervisor.
server() { pgrep -n -P "$RFS_PID" || true; }
old=$(server)
[[ -n "$old" ]] || fail "no serving process under the supervisor $RFS_PID"
nobody mkdir "$MNT/dir"
head -c 1M /dev/urandom >"$U/data"
chmod 644 "$U/data"
nobody cp "$U/data" "$MNT/dir/region"
# A budget set while mounted: a tmpfs instance made in the user's namespace.
printf 'dir budgeted size=2M\n' | nobody tee "$MNT/.regionfs/control" >/dev/null ||
	fail "dir budgeted size=2M: $(nobody cat "$MNT/.regionfs/control")"
nobody cp "$U/data" "$MNT/budgeted/region"
df_budget=$(nobody df -B1 --output=size,used "$MNT/budgeted" | tail -n 1)
nobody python3 - "$MNT" "$S" <<'EOF' &
import os, sys, time
M, U = sys.argv[1], sys.argv[2]
fd = os.open(M + "/dir/region", os.O_RDWR)
open(U + "/holding", "w").close()
while not os.path.exists(U + "/restarted"):
    time.sleep(0.02)
os.pwrite(fd, b"after", 0)
assert os.pread(fd, 5, 0) == b"after"
os.close(fd)
EOF
holder=$!
wait_until 10 test -e "$S/holding" || fail "the holder did not start"
kill -9 "$old"
wait_until 10 bash -c "new=\$(pgrep -n -P $RFS_PID); [[ -n \$new && \$new != $old ]]" ||
	fail "no serving process after killing $old"
touch "$S/restarted"
wait "$holder" || fail "the user's open file failed across the restart"
cmp <(printf after; tail -c +6 "$U/data") <(nobody cat "$MNT/dir/region") ||
	fail "the region after the restart"
nobody grep -q '^# restart: on: .* 1 restarts' "$MNT/.regionfs/stats" ||
	fail "stats: $(nobody tail -n 1 "$MNT/.regionfs/stats")"
nobody cmp "$U/data" "$MNT/budgeted/region" || fail "the budget's region after the restart"
assert_eq "$df_budget" "$(nobody df -B1 --output=size,used "$MNT/budgeted" | tail -n 1)" "df of the budget after the restart"
ok "uid 65534's mount with -o restart: kill -9 of the serving process; the user's names, bytes, open file and a budget set while mounted carry on (stores made in a user namespace, kept by the supervisor)"

# A live upgrade by the user, to this source built with another version.
NEXT=${REGIONFS_NEXT:-$RFS_ROOT/build-next/regionfs}
[[ -x "$NEXT" ]] || fail "$NEXT not built (make integration builds it)"
cp "$NEXT" "$U/regionfs.new"
mv -f "$U/regionfs.new" "$U/regionfs"
nobody "$U/regionfs" --upgrade "$MNT" >"$RFS_WORK/up.out" 2>&1 ||
	fail "--upgrade by uid 65534: $(cat "$RFS_WORK/up.out")"
want=$("$NEXT" --version | awk 'NR == 1 { print $2 }')
nobody grep -q "^regionfs_info{version=\"$want\"} 1$" "$MNT/.regionfs/metrics" ||
	fail "metrics after the upgrade: $(nobody grep regionfs_info "$MNT/.regionfs/metrics")"
cmp <(printf after; tail -c +6 "$U/data") <(nobody cat "$MNT/dir/region") ||
	fail "the region after the upgrade"
nobody cmp "$U/data" "$MNT/budgeted/region" || fail "the budget's region after the upgrade"
assert_eq "$df_budget" "$(nobody df -B1 --output=size,used "$MNT/budgeted" | tail -n 1)" "df of the budget after the upgrade"
ok "regionfs --upgrade by uid 65534 to $want: the stores made in a user namespace handed on (the budget's too), the user's bytes intact"

nobody fusermount3 -u "$MNT" || fail "fusermount3 -u by its user failed"
rfs_unmount
ok "fusermount3 -u by uid 65534; the supervisor exits 0"
