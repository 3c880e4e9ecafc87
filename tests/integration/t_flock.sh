#!/usr/bin/env bash
# flock(2) and fcntl(2) POSIX locks on a region, across processes.
. "$(dirname "$0")/lib.sh"

rfs_mount
W=$RFS_WORK
L=$MNT/lockme
truncate -s 4096 "$L"

# --- flock: a holder in the background until told to release
hold() { # hold MODE: take a flock on $L in a subshell until $W/release appears
	exec 9<"$L"
	flock "$1" 9
	: >"$W/held"
	until [[ -e "$W/release" ]]; do sleep 0.02; done
}
hold -x &
holder=$!
wait_until 10 test -e "$W/held" || fail "flock holder did not get the lock"
st=0
flock -n -x "$L" true || st=$?
assert_eq 1 "$st" "exit status of flock -n -x while another process holds it"
st=0
flock -n -s "$L" true || st=$?
assert_eq 1 "$st" "exit status of flock -n -s while another process holds it exclusively"
ok "flock -x held by one process: flock -n (ex and sh) fails with 1 in another"

# A blocking waiter gets the lock once the holder lets go.
(
	exec 9<"$L"
	flock -w 20 -x 9
	: >"$W/waiter-got"
) &
waiter=$!
sleep 0.3
[[ ! -e "$W/waiter-got" ]] || fail "blocking flock got the lock while it was held"
: >"$W/release"
wait "$holder" || fail "flock holder failed"
wait "$waiter" || fail "blocking flock did not get the lock after release"
flock -n -x "$L" true || fail "flock -n fails after every holder released"
ok "released lock goes to a blocked waiter, then is free"

# Shared locks coexist.
rm -f "$W/held" "$W/release"
hold -s &
holder=$!
wait_until 10 test -e "$W/held" || fail "shared flock holder did not start"
flock -n -s "$L" true || fail "second shared flock refused"
st=0
flock -n -x "$L" true || st=$?
assert_eq 1 "$st" "flock -n -x under a shared lock"
: >"$W/release"
wait "$holder" || fail "shared holder failed"
ok "shared flocks coexist and exclude an exclusive one"

# --- fcntl POSIX locks
rm -f "$W/held" "$W/release" "$W/waiter-got"
python3 - "$L" "$W" <<'EOF' &
import fcntl, os, sys, time
path, W = sys.argv[1:3]
fd = os.open(path, os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)    # bytes [0, 100)
fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 100, 1000) # bytes [1000, 1100)
open(W + "/held", "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(W + "/release"):
    if time.monotonic() > deadline:
        sys.exit("holder: never released")
    time.sleep(0.02)
os.close(fd)
EOF
holder=$!
wait_until 10 test -e "$W/held" || fail "fcntl lock holder did not start"
expect_errno EAGAIN,EACCES "
fd = os.open(M + '/lockme', os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 50)"
expect_errno EAGAIN,EACCES "
fd = os.open(M + '/lockme', os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)"
expect_errno EAGAIN,EACCES "
fd = os.open(M + '/lockme', os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 1050)"
py "
fd = os.open(M + '/lockme', os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 200)  # free range
fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 10, 1050)  # shared on shared"
ok "fcntl F_SETLK: overlapping write lock is EAGAIN/EACCES; free and shared ranges granted"
py "
fd = os.open(M + '/lockme', os.O_RDWR)
req = struct.pack('hhqqi4x', fcntl.F_WRLCK, os.SEEK_SET, 0, 10, 0)
got = struct.unpack('hhqqi4x', fcntl.fcntl(fd, fcntl.F_GETLK, req))
assert got[0] == fcntl.F_WRLCK, ('l_type', got)
assert (got[2], got[3]) == (0, 100), ('range', got)
assert got[4] == $holder, ('l_pid', got, $holder)
req = struct.pack('hhqqi4x', fcntl.F_WRLCK, os.SEEK_SET, 200, 10, 0)
got = struct.unpack('hhqqi4x', fcntl.fcntl(fd, fcntl.F_GETLK, req))
assert got[0] == fcntl.F_UNLCK, ('free range', got)"
ok "fcntl F_GETLK reports the holder's range and pid"

# A blocking F_SETLKW waiter is granted the lock when the holder exits.
python3 -c "
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 0, 0)
open(sys.argv[2] + '/waiter-got', 'w').close()" "$L" "$W" &
waiter=$!
sleep 0.3
[[ ! -e "$W/waiter-got" ]] || fail "F_SETLKW got a lock that is held"
: >"$W/release"
wait "$holder" || fail "fcntl holder failed"
wait_until 10 test -e "$W/waiter-got" || fail "F_SETLKW waiter not granted after the holder closed"
wait "$waiter" || fail "F_SETLKW waiter failed"
py "
fd = os.open(M + '/lockme', os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 0, 0)"
ok "F_SETLKW waiter is granted on release; locks die with their process"
