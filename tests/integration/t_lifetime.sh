#!/usr/bin/env bash
# Regions of lifetime close: gone, name and memory, with their last user
# (close, munmap, kill -9), never before their first; directories that give
# regions created in them that lifetime (config [dir:] and the dir command);
# openers racing the last close see the old region or a fresh one, whole.
. "$(dirname "$0")/lib.sh"

W=$RFS_WORK
cat >"$W/life.ini" <<'EOF'
[dir:ipc]
lifetime = close

[region:cfgclose]
size = 64K
lifetime = close

[region:keep]
size = 4K
EOF
rfs_mount -c "$W/life.ini" -o size=64M -o xattr
CTL=$MNT/.regionfs/control

# life_of NAME: the lifetime column of NAME's stats line.
life_of() { awk -v n="$1" 'NR > 1 && $1 == n { print $11 }' "$MNT/.regionfs/stats"; }
xattr_life() { getfattr --absolute-names --only-values -n user.regionfs.lifetime "$MNT/$1"; }
used_at_most() { (($(df_used) <= $1)); }
reclaimed() { awk '$1 == "regionfs_regions_reclaimed_total" { print $2 }' "$MNT/.regionfs/metrics"; }
gone() { [[ ! -e "$MNT/$1" ]] && ! ls "$MNT/$(dirname "$1")" | grep -qx "$(basename "$1")"; }

# --- how it is shown
assert_eq "name kind size backing offset access opens dirty resident last_flush lifetime deleted private seals" \
	"$(head -1 "$MNT/.regionfs/stats")" "stats header"
assert_eq "close persist" "$(life_of cfgclose) $(life_of keep)" "stats lifetime of cfgclose, keep"
assert_eq "ipc dir - - - - - - - - close - - -" "$(awk '$1 == "ipc"' "$MNT/.regionfs/stats")" "stats line of dir ipc"
assert_eq "close persist close" \
	"$(xattr_life cfgclose) $(xattr_life keep) $(xattr_life ipc)" \
	"xattr user.regionfs.lifetime of cfgclose, keep, ipc"
grep -q '^regionfs_mapping_lifetime_close{name="cfgclose",.*} 1$' "$MNT/.regionfs/metrics" ||
	fail "metrics: cfgclose not lifetime close: $(grep lifetime_close "$MNT/.regionfs/metrics")"
grep -q '^regionfs_mapping_lifetime_close{name="keep",.*} 0$' "$MNT/.regionfs/metrics" ||
	fail "metrics: keep not lifetime persist"
ok "stats (lifetime column, a dir line), xattr and metrics show the lifetimes of config regions and dir ipc"

# --- a config-declared close region waits for its first user, then goes with it
stat "$MNT/cfgclose" >/dev/null
ls -l "$MNT" >/dev/null
sleep 0.3
[[ -e "$MNT/cfgclose" ]] || fail "cfgclose went before anybody opened it"
used0=$(df_used)
py "
def used():
    s = os.statvfs(M)
    return (s.f_blocks - s.f_bfree) * s.f_frsize
fd = os.open(M + '/cfgclose', os.O_RDWR)
os.pwrite(fd, b'first user' * 6000, 0)
assert os.pread(fd, 10, 0) == b'first user'
assert used() >= $used0 + 60000, 'df used did not grow by the 60 KB written'
os.close(fd)"
wait_until 5 gone cfgclose || fail "cfgclose still there after its first user closed it"
wait_until 5 used_at_most "$used0" || fail "df used $(df_used) not back to $used0 after cfgclose went"
[[ -z "$(life_of cfgclose)" ]] || fail "stats still lists cfgclose"
assert_eq 1 "$(reclaimed)" "regions reclaimed after cfgclose"
[[ -e "$MNT/keep" ]] || fail "keep (persist) went"
cat "$MNT/keep" >/dev/null
sleep 0.2
[[ -e "$MNT/keep" ]] || fail "keep (persist) went after a reader closed it"
ok "config region lifetime=close: kept through stat/ls, removed (name, memory, stats) when its first user closed it; persist kept"

# --- O_CREAT in a close directory: shell, python, two processes sharing it
echo "from the shell" >"$MNT/ipc/sh"
wait_until 5 gone ipc/sh || fail "ipc/sh (shell redirection) still there after the shell closed it"
py "
import subprocess
fd = os.open(M + '/ipc/chan', os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'hello other process')
out = subprocess.run(['cat', M + '/ipc/chan'], capture_output=True, check=True).stdout
assert out == b'hello other process', out
assert os.path.exists(M + '/ipc/chan'), 'chan went while its creator holds it'
os.close(fd)"
wait_until 5 gone ipc/chan || fail "ipc/chan still there after both processes closed it"
assert_eq 3 "$(reclaimed)" "regions reclaimed after ipc/sh and ipc/chan"
ok "open(O_CREAT) in dir ipc (lifetime close): shell redirection and python+cat; gone when the last closed"

# --- a mapping alone keeps it; munmap is a last close
py "
import time
fd = os.open(M + '/ipc/mapped', os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 8192)
m = mmap.mmap(fd, 8192)
os.close(fd)
m[0:5] = b'still'
time.sleep(0.3)
assert os.path.exists(M + '/ipc/mapped'), 'gone while still mapped'
with open(M + '/ipc/mapped', 'rb') as f:
    assert f.read(5) == b'still'
time.sleep(0.3)
assert os.path.exists(M + '/ipc/mapped'), 'gone after another reader closed, still mapped'
m.close()"
wait_until 5 gone ipc/mapped || fail "ipc/mapped still there after munmap"
ok "a client mapping alone keeps a close region; munmap of it removes the region"

# --- kill -9 of the last user, holding an fd and a mapping of 8 MiB
used0=$(df_used)
python3 - "$MNT/ipc/victim" >"$W/victim.out" 2>&1 <<'EOF' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, 8 << 20)
m = mmap.mmap(fd, 8 << 20)
m[:] = b"v" * (8 << 20)
m.flush()
print("ready", flush=True)
time.sleep(60)
EOF
victim=$!
wait_until 10 grep -q ready "$W/victim.out" || fail "victim did not start: $(cat "$W/victim.out")"
[[ -e "$MNT/ipc/victim" ]] || fail "victim region missing while its user runs"
assert_eq 1 "$(awk '$1 == "ipc/victim" { print $7 }' "$MNT/.regionfs/stats")" "opens of ipc/victim"
((used1 = $(df_used))) && ((used1 - used0 >= 8 << 20)) || fail "df used grew by $((used1 - used0)), want 8 MiB"
{
	kill -9 "$victim"
	wait "$victim"
} 2>/dev/null || true
wait_until 5 gone ipc/victim || fail "ipc/victim still there after kill -9 of its only user"
wait_until 5 used_at_most "$used0" || fail "df used $(df_used) not back to $used0 after kill -9"
[[ -z "$(awk '$1 == "ipc/victim"' "$MNT/.regionfs/stats")" ]] || fail "stats still lists ipc/victim"
ok "kill -9 of the last user (fd + 8 MiB mapping): name, stats line and memory (df) gone"

# --- control commands: dir NAME lifetime=..., region NAME lifetime=close
echo "dir run/tmp lifetime=close mode=0770" >"$CTL" || fail "dir command: $(cat "$CTL")"
assert_eq "770 close" "$(stat -c %a "$MNT/run/tmp") $(awk '$1 == "run/tmp" { print $11 }' "$MNT/.regionfs/stats")" \
	"mode and stats of run/tmp"
mkdir "$MNT/run/tmp/sub"
assert_eq close "$(xattr_life run/tmp/sub)" "a new subdirectory inherits"
echo "region run/tmp/explicit size=4K lifetime=persist" >"$CTL" || fail "region command: $(cat "$CTL")"
echo "region run/tmp/inherited size=4K" >"$CTL" || fail "region command: $(cat "$CTL")"
echo "region named size=4K lifetime=close" >"$CTL" || fail "region command: $(cat "$CTL")"
assert_eq "persist close close" "$(life_of run/tmp/explicit) $(life_of run/tmp/inherited) $(life_of named)" \
	"lifetimes of regions made by command"
cat "$MNT/run/tmp/explicit" "$MNT/run/tmp/inherited" "$MNT/named" >/dev/null
wait_until 5 gone named || fail "named (region ... lifetime=close) still there after cat"
wait_until 5 gone run/tmp/inherited || fail "run/tmp/inherited still there after cat"
sleep 0.2
[[ -e "$MNT/run/tmp/explicit" ]] || fail "run/tmp/explicit (lifetime=persist) went"
echo "dir run/tmp lifetime=persist" >"$CTL" || fail "dir persist: $(cat "$CTL")"
[[ -z "$(life_of run/tmp)" ]] || fail "stats still lists run/tmp as close"
echo x >"$MNT/run/tmp/later"
sleep 0.2
[[ -e "$MNT/run/tmp/later" ]] || fail "a region made after dir ... lifetime=persist went"
echo "dir keep lifetime=close" >"$CTL" 2>/dev/null && fail "dir over a region accepted"
grep -q "Not a directory" "$CTL" || fail "dir over a region: $(cat "$CTL")"
expect_errno EMLINK "os.open(M + '/ipc/l', os.O_CREAT | os.O_RDWR); os.link(M + '/ipc/l', M + '/ipc/l2')"
ok "control: dir NAME lifetime=close|persist mode=..., region ... lifetime=close|persist, inheritance, EMLINK, ENOTDIR"

# --- race: openers against the last close, in a loop
python3 - "$MNT/ipc/race" >"$W/race.out" 2>&1 <<'EOF' || fail "race: $(cat "$W/race.out")"
import os, sys
path = sys.argv[1]
PAYLOAD = b"old content, whole"
N = 1500

def worker():
    fresh = old = 0
    for i in range(N):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # ENOENT here fails the test too
        try:
            data = os.pread(fd, 64, 0)
            st = os.fstat(fd)
            if data == b"":
                fresh += 1
            elif data == PAYLOAD:
                old += 1
            else:
                raise SystemExit(f"round {i}: half-removed region? read {data!r} (size {st.st_size})")
            os.pwrite(fd, PAYLOAD, 0)
            if os.pread(fd, 64, 0) != PAYLOAD:
                raise SystemExit(f"round {i}: own write not read back")
        finally:
            os.close(fd)
    return fresh, old

pids = []
for _ in range(3):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            f, o = worker()
            os.write(w, f"{f} {o}".encode())
            os._exit(0)
        except BaseException as e:
            os.write(w, f"ERR {e!r}".encode())
            os._exit(1)
    os.close(w)
    pids.append((pid, r))
fresh = old = 0
for pid, r in pids:
    out = os.read(r, 4096).decode()
    _, st = os.waitpid(pid, 0)
    if st != 0 or out.startswith("ERR"):
        raise SystemExit(f"worker failed: {out}")
    f, o = map(int, out.split())
    fresh += f
    old += o
print(f"fresh {fresh} old {old}")
if fresh == 0 or old == 0:
    raise SystemExit(f"the race was not exercised both ways: fresh {fresh} old {old}")
EOF
wait_until 5 gone ipc/race || fail "ipc/race still there after every racer left"
ok "race, 3 processes x 1500 open(O_CREAT)/read/write/close: every open saw a whole region ($(cat "$W/race.out")), none failed"

# --- reload: a new [dir:] applies, a dropped one goes back to persist
cat >"$W/life.ini" <<'EOF2'
[dir:late]
lifetime = close

[region:keep]
size = 4K
EOF2
echo reload >"$CTL" || fail "reload: $(cat "$CTL")"
assert_eq "close" "$(life_of late)" "stats of dir late after reload"
[[ -z "$(life_of ipc)" ]] || fail "dir ipc still close after its [dir:] section went"
echo x >"$MNT/ipc/after"
echo x >"$MNT/late/made"
wait_until 5 gone late/made || fail "late/made (dir added by reload) still there"
[[ -e "$MNT/ipc/after" ]] || fail "ipc/after went, though ipc is persist again"
ok "reload: a new [dir:] section makes its regions close, a removed one sets its directory back to persist"

rfs_alive || fail "daemon died"
