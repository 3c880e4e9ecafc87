#!/usr/bin/env bash
# Waiting for a change without spinning, through regionfs:
#  (a) inotify IN_MODIFY fires in one process when another write()s or
#      truncates a region, or write()s a view; not for mmap stores (as on tmpfs);
#  (b) a futex in client mmap(MAP_SHARED)s of a region: FUTEX_WAIT in one
#      process, FUTEX_WAKE from another (C and Python ctypes), with timeouts.
. "$(dirname "$0")/lib.sh"

command -v inotifywait >/dev/null || skip "inotifywait missing (Debian: inotify-tools)"
command -v cc >/dev/null || skip "cc missing"
W=$RFS_WORK
FW=$W/futex_wait
cc -O2 -Wall -Werror -o "$FW" "$RFS_TESTDIR/futex_wait.c" || fail "futex_wait.c does not compile"

mkdir -p "$W/data"
head -c 65536 /dev/zero >"$W/data/back.data"
cat >"$W/wait.ini" <<EOF
[view:win]
file = $W/data/back.data
offset = 4096
length = 8192
access = rw
EOF
rfs_mount -c "$W/wait.ini" -o size=16M
truncate -s 4096 "$MNT/flag"

# --- (a) inotify
# watch: inotifywait in the background, one "NAME EVENT" line per event.
inotifywait -m -e modify --format '%w %e' "$MNT/flag" "$MNT/win" >"$W/events" 2>"$W/inotify.err" &
watcher=$!
wait_until 10 grep -q "Watches established" "$W/inotify.err" || fail "inotifywait did not start: $(cat "$W/inotify.err")"
# events_after N WANT: wait until the event log has more than N lines, then
# require its line N+1 to be WANT.
events_after() {
	wait_until 5 bash -c "(( \$(wc -l <'$W/events') > $1 ))" ||
		fail "no inotify event after $1 (want '$2'); events: $(cat "$W/events")"
	assert_eq "$2" "$(sed -n "$(($1 + 1))p" "$W/events")" "inotify event $(($1 + 1))"
}
printf 'hello' | dd of="$MNT/flag" conv=notrunc status=none
events_after 0 "$MNT/flag MODIFY"
python3 -c 'import os, sys; os.truncate(sys.argv[1], 100)' "$MNT/flag"
events_after 1 "$MNT/flag MODIFY"
printf 'view' | dd of="$MNT/win" conv=notrunc status=none
events_after 2 "$MNT/win MODIFY"
ok "inotify: IN_MODIFY in another process for write() and truncate of a region, write() of a view"

# An mmap store (and its msync) raises no event: the next event is the marker write.
python3 - "$MNT/flag" <<'EOF' || fail "mmap store failed"
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.ftruncate(fd, 4096)
m = mmap.mmap(fd, 4096)
m[0:5] = b"store"
m.flush()
m.close()
os.close(fd)
EOF
events_after 3 "$MNT/flag MODIFY" # the ftruncate back to 4096
sleep 0.5
printf 'marker' | dd of="$MNT/win" conv=notrunc status=none
events_after 4 "$MNT/win MODIFY"
assert_eq 5 "$(wc -l <"$W/events")" "number of events (an mmap store would add one)"
assert_eq store "$(head -c 5 "$MNT/flag")" "the mmap store reached the region"
kill "$watcher"
wait "$watcher" 2>/dev/null || true
ok "inotify: an mmap store + msync raises no IN_MODIFY (as on tmpfs); its bytes are there"

# inotifywait as a one-shot waiter, as the README shows it: blocks until the write.
(sleep 0.3 && printf 'go' | dd of="$MNT/flag" conv=notrunc status=none) &
writer=$!
out=$(timeout 10 inotifywait -q -e modify "$MNT/flag") || fail "inotifywait -e modify: no event in 10 s"
wait "$writer"
assert_eq "$MNT/flag MODIFY " "$out" "one-shot inotifywait output"
ok "inotifywait -e modify returns when another process writes"

# --- (b) futex in MAP_SHARED mappings of a region
# asleep PID: the process sleeps in the kernel's futex wait.
asleep() { grep -q futex "/proc/$1/wchan" 2>/dev/null; }

t0=${EPOCHREALTIME/./}
"$FW" wait "$MNT/flag" 64 10000 >"$W/waiter.out" &
waiter=$!
wait_until 5 asleep "$waiter" || fail "the waiter is not in FUTEX_WAIT: wchan $(cat "/proc/$waiter/wchan" 2>&1), out $(cat "$W/waiter.out")"
sleep 0.2
asleep "$waiter" || fail "the waiter left FUTEX_WAIT by itself"
assert_eq "woke 1" "$("$FW" wake "$MNT/flag" 64 7)" "FUTEX_WAKE from another process"
st=0
wait "$waiter" || st=$?
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
assert_eq 0 "$st" "waiter exit status ($(cat "$W/waiter.out"))"
assert_eq "waiting
woken: value 7 after 1 wait(s)" "$(cat "$W/waiter.out")" "waiter output"
((ms < 5000)) || fail "the waiter took $ms ms"
ok "futex (C): FUTEX_WAKE from one process wakes the FUTEX_WAIT of another in a MAP_SHARED region mapping (woke 1, $ms ms)"

t0=${EPOCHREALTIME/./}
st=0
out=$("$FW" wait "$MNT/flag" 128 300) || st=$?
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
assert_eq "2 waiting
timed out" "$st $out" "an unwoken waiter"
((ms >= 290 && ms < 3000)) || fail "the 300 ms timeout took $ms ms"
ok "futex (C): nobody wakes: FUTEX_WAIT times out after its 300 ms ($ms ms), nothing hangs"

# The same from Python with ctypes, waiter and waker separate processes.
cat >"$W/pyfutex.py" <<'EOF'
import ctypes, mmap, os, sys
SYS_futex = int(os.environ["SYS_futex"])  # 202 on x86-64
FUTEX_WAIT, FUTEX_WAKE = 0, 1
libc = ctypes.CDLL(None, use_errno=True)

class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

role, path = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 4096)                            # MAP_SHARED
word = ctypes.c_uint32.from_buffer(m, 256)
addr = ctypes.addressof(word)
if role == "wait":
    print("waiting", flush=True)
    while word.value == 0:
        r = libc.syscall(SYS_futex, ctypes.c_void_p(addr), FUTEX_WAIT, 0,
                         ctypes.byref(timespec(10, 0)), None, 0)
        if r != 0 and ctypes.get_errno() == 110:  # ETIMEDOUT
            sys.exit("timed out")
    print("woken, value", word.value)
else:
    word.value = 42
    print("woke", libc.syscall(SYS_futex, ctypes.c_void_p(addr), FUTEX_WAKE, 1, None, None, 0))
del word
m.close()
EOF
# Python has no name for the system call number: ask the C headers.
SYS_futex=$(printf '#include <sys/syscall.h>\nSYS_futex\n' | cc -E -P - | tail -1)
[[ $SYS_futex =~ ^[0-9]+$ ]] || fail "SYS_futex from <sys/syscall.h>: '$SYS_futex'"
export SYS_futex
python3 "$W/pyfutex.py" wait "$MNT/flag" >"$W/pywaiter.out" 2>&1 &
waiter=$!
wait_until 5 asleep "$waiter" || fail "the Python waiter is not in FUTEX_WAIT: $(cat "$W/pywaiter.out")"
assert_eq "woke 1" "$(python3 "$W/pyfutex.py" wake "$MNT/flag")" "Python FUTEX_WAKE"
wait "$waiter" || fail "Python waiter failed: $(cat "$W/pywaiter.out")"
assert_eq "waiting
woken, value 42" "$(cat "$W/pywaiter.out")" "Python waiter output"
ok "futex (Python ctypes): one process's FUTEX_WAKE wakes another's FUTEX_WAIT in a region mapping"

rfs_alive || fail "daemon died"
