#!/usr/bin/env bash
# -o restart: the serving process may die (kill -9) at any instant; the
# supervisor starts another, which rebuilds the namespace from the journal
# and takes over the opens, and the kernel resends what the dead one had
# read. No client sees an error.
#
#   1. What survives: every name, number, mode, owner, time, link, xattr,
#      ACL, inode flag and byte; a file held open and mapped (also removed
#      while held) works on through the restart and goes with its user.
#   2. A crash loop (RFS_RESTART_SECONDS, default 60): the serving process
#      killed every 200-500 ms while dd+cmp, Python mmap, a namespace model,
#      two SQLite writers, fio --verify=crc32c on a region and on a view,
#      ls -R and flock run: no client error, every byte and name verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fio_lib.sh"

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
server() { pgrep -P "$RFS_PID" -x regionfs | head -n 1; }

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

# Everything ls, stat, getfattr, getfacl and lsattr show of the tree, and its bytes.
snapshot() {
	(
		cd "$MNT" || exit 1
		find . -path ./.regionfs -prune -o \
			-printf '%p ino=%i mode=%m %u:%g size=%s nlink=%n m=%T@ c=%C@ type=%y -> %l\n' |
			sort
		find . -path ./.regionfs -prune -o -type f -print0 | sort -z | xargs -0 -r md5sum
		# What a tool cannot read shows as a difference, not as an exit.
		getfattr -R -d -m - --absolute-names . 2>&1 | sed '/^$/d' || true
		getfacl -R -p . 2>&1 || true
		find . -path ./.regionfs -prune -o \( -type f -o -type d \) -print0 | sort -z |
			xargs -0 -r lsattr -d 2>&1 || true
	)
}

# --- 1. what survives ---------------------------------------------------------

W=$RFS_WORK
rfs_mount -o restart,size=256M
grep -q '^# restart: on: supervisor ' "$MNT/.regionfs/stats" ||
	fail "stats does not say restart is on: $(tail -n 1 "$MNT/.regionfs/stats")"
mkdir -p "$MNT/dir with spaces/sub"
head -c 3M /dev/urandom >"$W/data"
cp "$W/data" "$MNT/dir with spaces/region"
ln "$MNT/dir with spaces/region" "$MNT/dir with spaces/sub/hard link"
ln -s "../region" "$MNT/dir with spaces/sub/symlink"
mkfifo "$MNT/fifo"
echo small >"$MNT/small"
chmod 2750 "$MNT/dir with spaces/sub"
chown 65534:65534 "$MNT/small"
touch -d "2001-02-03 04:05:06.789" "$MNT/small"
setfattr -n user.colour -v blue "$MNT/dir with spaces/region"
setfattr -n trusted.secret -v 42 "$MNT/small"
setfacl -d -m u:65534:rwx "$MNT/dir with spaces"
echo inherits >"$MNT/dir with spaces/acl file"
chattr +i "$MNT/small"
mv "$MNT/dir with spaces/acl file" "$MNT/dir with spaces/renamed"
rm "$MNT/fifo"
mkfifo "$MNT/fifo"
ok "a tree: directories, a 3 MiB region and its hard link, a symlink, a fifo, modes, owners, times, xattrs, a default ACL, chattr +i, renames"

# A holder: a region open and mapped, removed while held, used across the kill.
python3 - "$MNT" "$W" <<'EOF' &
import mmap, os, sys, time
M, W = sys.argv[1], sys.argv[2]
fd = os.open(M + "/held", os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 8 << 20)
m = mmap.mmap(fd, 8 << 20)
m[0:5] = b"first"
m.flush()  # on the daemon's data path, the store reaches the region now
os.unlink(M + "/held")
open(W + "/holding", "w").close()
while not os.path.exists(W + "/restarted"):
    time.sleep(0.02)
st = os.fstat(fd)
assert st.st_size == 8 << 20 and st.st_nlink == 0, (st.st_size, st.st_nlink)
assert m[0:5] == b"first", m[0:5]
os.pwrite(fd, b"after", 4096)
assert m[4096:4101] == b"after"
m[8192:8197] = b"store"
assert os.pread(fd, 5, 8192) == b"store"
os.ftruncate(fd, 9 << 20)
assert os.fstat(fd).st_size == 9 << 20
m.close()
os.close(fd)
open(W + "/held-ok", "w").close()
EOF
holder=$!
wait_until 10 test -e "$W/holding" || fail "holder did not start"
used_held=$(df_used)
before=$(snapshot)
restart_server
after=$(snapshot)
[[ "$before" == "$after" ]] || {
	diff <(echo "$before") <(echo "$after") | head -20 >&2
	fail "the tree differs after the restart"
}
ok "after kill -9 of the serving process: the same tree, byte for byte ($(echo "$before" | wc -l) lines of ls, stat, md5sum, getfattr, getfacl, lsattr)"

touch "$W/restarted"
wait "$holder" || fail "the holder failed across the restart"
[[ -e "$W/held-ok" ]] || fail "the holder did not finish"
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

# --- 2. the crash loop --------------------------------------------------------

seconds=${RFS_RESTART_SECONDS:-60}
fio_require
truncate -s 32M "$W/view.backing"
cat >"$W/restart.ini" <<EOF
[view:view]
file = $W/view.backing
[dir:chan]
lifetime = close
EOF
rfs_mount -o restart,size=512M -c "$W/restart.ini"
E=$W/errors
workers=()
: >"$E"
stop=$W/stop
mkdir "$MNT/stable"
for i in $(seq 50); do echo "$i" >"$MNT/stable/f$i"; done

# dd writes a file, cmp checks it.
(
	head -c 8M /dev/urandom >"$W/src"
	n=0
	while [[ ! -e $stop ]]; do
		n=$((n + 1))
		dd if="$W/src" of="$MNT/dd" bs=64k status=none 2>>"$E" || echo "dd round $n failed" >>"$E"
		cmp "$W/src" "$MNT/dd" 2>>"$E" || echo "cmp round $n differs" >>"$E"
	done
	echo "$n" >"$W/count.dd"
) &
workers+=($!)
# ls -lR over a tree nobody changes.
(
	n=0
	want=$(ls -lR "$MNT/stable")
	while [[ ! -e $stop ]]; do
		n=$((n + 1))
		[[ "$(ls -lR "$MNT/stable" 2>>"$E")" == "$want" ]] || echo "ls -lR round $n differs" >>"$E"
	done
	echo "$n" >"$W/count.ls"
) &
workers+=($!)
# flock: an exclusive lock taken and dropped.
(
	n=0
	while [[ ! -e $stop ]]; do
		n=$((n + 1))
		flock -x "$MNT/lock" -c true 2>>"$E" || echo "flock round $n" >>"$E"
	done
	echo "$n" >"$W/count.flock"
) &
workers+=($!)
# Python: mmap stores read back; a namespace model checked against the tree.
python3 - "$MNT" "$W" <<'EOF' 2>>"$E" &
import mmap, os, random, sys
M, W = sys.argv[1], sys.argv[2]
rng = random.Random(7)
fd = os.open(M + "/mapped", os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 4 << 20)
m = mmap.mmap(fd, 4 << 20)
root = M + "/model"
os.mkdir(root)
model = {}  # relative path -> "d" or the file's bytes
ops = stores = 0
while not os.path.exists(W + "/stop"):
    for _ in range(50):
        i = rng.randrange(4 << 17)
        v = rng.randbytes(8)
        m[i * 8:i * 8 + 8] = v
        if m[i * 8:i * 8 + 8] != v:
            sys.exit(f"mmap store {i} not read back")
        stores += 1
    names = [p for p in model]
    dirs = [""] + [p for p in names if model[p] == "d"]
    op = rng.randrange(5)
    parent = rng.choice(dirs)
    name = os.path.join(parent, f"n{rng.randrange(30)} x")
    if op == 0 and name not in model:
        os.mkdir(os.path.join(root, name)); model[name] = "d"
    elif op == 1 and name not in model:
        data = rng.randbytes(rng.randrange(1, 5000))
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
        model[name] = data
    elif op == 2 and names:
        src = rng.choice(names)
        dst = os.path.join(rng.choice([d for d in dirs if d != src and not d.startswith(src + "/")]), f"r{rng.randrange(30)}")
        if dst not in model:
            os.rename(os.path.join(root, src), os.path.join(root, dst))
            for p in sorted(model):
                if p == src or p.startswith(src + "/"):
                    model[dst + p[len(src):]] = model.pop(p)
    elif op == 3 and names:
        p = rng.choice(names)
        if model[p] != "d":
            os.unlink(os.path.join(root, p)); del model[p]
        elif not any(q.startswith(p + "/") for q in model):
            os.rmdir(os.path.join(root, p)); del model[p]
    ops += 1
    if ops % 100 == 0 or os.path.exists(W + "/stop"):
        seen = {}
        for d, ds, fs in os.walk(root):
            for x in ds:
                seen[os.path.relpath(os.path.join(d, x), root)] = "d"
            for x in fs:
                with open(os.path.join(d, x), "rb") as f:
                    seen[os.path.relpath(os.path.join(d, x), root)] = f.read()
        if seen != model:
            sys.exit(f"the tree differs from the model after {ops} changes: "
                     f"{sorted(set(seen) ^ set(model))[:5]}")
with open(W + "/count.py", "w") as f:
    f.write(f"{ops} {stores}\n")
EOF
pypid=$!
# lifetime=close: a region made in chan, used, closed, must be gone.
python3 - "$MNT" "$W" <<'EOF' 2>>"$E" &
import os, sys, time
M, W = sys.argv[1], sys.argv[2]
n = 0
while not os.path.exists(W + "/stop"):
    n += 1
    path = f"{M}/chan/r{n}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"x" * 4096)
    if os.pread(fd, 4096, 0) != b"x" * 4096:
        sys.exit(f"close region {n}: bytes")
    os.close(fd)
    # the last close removes the name, once the release is served
    for _ in range(500):
        if not os.path.exists(path):
            break
        time.sleep(0.01)
    else:
        sys.exit(f"close region {n}: still named 5 s after its last close")
with open(W + "/count.close", "w") as f:
    f.write(f"{n}\n")
EOF
workers+=($!)
# Two SQLite writers on one database.
sqlite3 "$MNT/db" 'PRAGMA journal_mode = WAL; CREATE TABLE t (who TEXT, n INTEGER);' >/dev/null
for who in A B; do
	python3 - "$MNT/db" "$who" "$W" <<'EOF' 2>>"$E" &
import os, sqlite3, sys, time
db, who, W = sys.argv[1:4]
c = sqlite3.connect(db, timeout=60, isolation_level=None)
n = 0
while not os.path.exists(W + "/stop"):
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO t VALUES (?, ?)", (who, n))
    c.execute("COMMIT")
    n += 1
    time.sleep(0.001)  # the other writer's turn
with open(f"{W}/count.sql.{who}", "w") as f:
    f.write(f"{n}\n")
EOF
	workers+=($!)
done
# fio writes 8 MiB at random and verifies its crc32c, over and over, on a
# region and on the view.
for target in region view; do
	(
		[[ $target == view ]] && file=$MNT/view || file=$MNT/fio.region
		cd "$W" || exit 1
		n=0
		while [[ ! -e $stop ]]; do
			n=$((n + 1))
			fio --name="$target" --filename="$file" --size=8M --bs=4k --rw=randwrite \
				--ioengine=psync --verify=crc32c --verify_fatal=1 --do_verify=1 \
				--output="$W/fio.$target" >/dev/null 2>>"$E" ||
				echo "fio round $n on the $target failed: $(grep -m1 -i err "$W/fio.$target")" >>"$E"
		done
		echo "$n" >"$W/count.fio.$target"
	) &
workers+=($!)
done

kills=0
end=$((SECONDS + seconds))
while ((SECONDS < end)); do
	sleep "0.$((RANDOM % 300 + 200))"
	pid=$(server)
	[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
done
touch "$stop"
wait "$pypid" || echo "the Python client failed" >>"$E"
for p in "${workers[@]}"; do
	wait "$p" || echo "a client (pid $p) failed" >>"$E"
done
if [[ -s "$E" ]]; then
	sort "$E" | uniq -c | sort -rn | head -20 >&2
	fail "clients saw errors while the serving process was killed $kills times"
fi
rows=$(sqlite3 "$MNT/db" 'SELECT count(*) FROM t')
want=$(($(cat "$W/count.sql.A") + $(cat "$W/count.sql.B")))
assert_eq "$want" "$rows" "SQLite rows committed by the two writers"
[[ "$(sqlite3 "$MNT/db" 'PRAGMA integrity_check')" == ok ]] || fail "SQLite integrity_check"
cmp "$W/src" "$MNT/dd" || fail "the last dd round"
restarts=$(awk '$1 == "regionfs_server_restarts_total" { print $2 }' "$MNT/.regionfs/metrics")
assert_eq "$kills" "$restarts" "regionfs_server_restarts_total after $kills kills"
read -r ops stores <"$W/count.py"
ok "crash loop, $seconds s: $kills kills, no client error: $(cat "$W/count.dd") dd+cmp rounds of 8 MiB, $ops namespace changes and $stores mmap stores checked, $rows SQLite rows, $(cat "$W/count.fio.region") and $(cat "$W/count.fio.view") fio crc32c write+verify rounds on a region and a view, $(cat "$W/count.close") lifetime=close regions gone with their last close, $(cat "$W/count.ls") ls -lR, $(cat "$W/count.flock") flock"
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
printf 'dir budgeted size=1M\n' >"$MNT/.regionfs/control"
assert_eq "# restart: lost: a budget was set or changed while mounted; if the serving process dies, the mount ends" \
	"$(tail -n 1 "$MNT/.regionfs/stats")" "stats' last line after a budget"
assert_eq 0 "$(awk '$1 == "regionfs_restart_protected" { print $2 }' "$MNT/.regionfs/metrics")" \
	"regionfs_restart_protected after a budget"
kill -9 "$(server)"
st=0
wait_until 10 bash -c "! kill -0 $RFS_PID 2>/dev/null" || fail "the supervisor did not end"
wait "$RFS_PID" || st=$?
RFS_PID=""
assert_eq 1 "$st" "the supervisor's exit status"
! _rfs_mounted "$MNT" || fail "$MNT is still mounted"
grep -q "cannot serve again, unmounting: the journal does not hold every change: a budget was set or changed while mounted" \
	"$RFS_LOG" || fail "the log does not say why the mount ended"
rmdir "$MNT"
ok "a budget set while mounted loses restart protection: stats and metrics say so; the next death ends the mount, unmounted, the log says why"
