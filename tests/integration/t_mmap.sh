#!/usr/bin/env bash
# MAP_SHARED coherence between a mapping process and read()/write() of others.
. "$(dirname "$0")/lib.sh"

rfs_mount
W=$RFS_WORK
R=$MNT/shm
MiB=1048576
truncate -s 4M "$R"

# Process A maps the region, stores into the mapping, then waits for B's
# dd writes to show up in its mapping (at most 2 s).
python3 - "$R" "$W" <<'EOF' &
import mmap, os, sys, time
path, W = sys.argv[1:3]
fd = os.open(path, os.O_RDWR)
m = mmap.mmap(fd, 4 << 20)
blob = os.urandom(1 << 20)
m[0:6] = b"A-MARK"
m[65536:65536 + len(blob)] = blob
with open(W + "/a.bin", "wb") as f:
    f.write(blob)
open(W + "/a-wrote", "w").close()
deadline = time.monotonic() + 60
while not os.path.exists(W + "/b-wrote"):
    if time.monotonic() > deadline:
        sys.exit("A: B never wrote")
    time.sleep(0.01)
with open(W + "/b.bin", "rb") as f:
    b = f.read()
t0 = time.monotonic()
while not (m[4096:4103] == b"B-WROTE" and m[2 << 20:(2 << 20) + len(b)] == b):
    if time.monotonic() - t0 > 2:
        sys.exit(f"A: mapping does not show B's dd write after 2 s: {m[4096:4103]!r}")
    time.sleep(0.001)
print(f"# A saw B's write after {time.monotonic() - t0:.3f} s")
m.close()
os.close(fd)
EOF
apid=$!

wait_until 30 test -e "$W/a-wrote" || fail "process A did not start"
a_seen() {
	[[ "$(dd if="$R" bs=6 count=1 status=none)" == A-MARK ]] &&
		cmp -s -i 65536:0 -n $MiB "$R" "$W/a.bin"
}
t0=${EPOCHREALTIME/./}
wait_until 2 a_seen || fail "dd read does not show A's mapping stores after 2 s: $(head -c 6 "$R" | od -An -c)"
echo "# B saw A's stores after $(((${EPOCHREALTIME/./} - t0) / 1000)) ms"
ok "B (dd, cmp) reads what A stored through MAP_SHARED"

head -c $MiB /dev/urandom >"$W/b.bin"
printf B-WROTE | dd of="$R" bs=1 seek=4096 conv=notrunc status=none
dd if="$W/b.bin" of="$R" bs=1M seek=2 conv=notrunc status=none
: >"$W/b-wrote"
wait "$apid" || fail "process A did not see B's dd writes (see above)"
ok "A's mapping sees B's dd writes"

# Stores through a mapping reach the daemon: after msync and close, a reader
# that dropped its page cache still gets them.
py "
fd = os.open(M + '/shm', os.O_RDWR)
m = mmap.mmap(fd, 4 << 20)
m[3 << 20:(3 << 20) + 9] = b'persisted'
m.flush()
m.close()
os.close(fd)"
py "
fd = os.open(M + '/shm', os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
got = os.pread(fd, 9, 3 << 20)
assert got == b'persisted', got
os.close(fd)"
ok "msync'd mapping stores are read back after the page cache is dropped"

# Ping-pong: two processes map one page and take turns. Byte 0 says whose
# turn it is (a one-byte store cannot tear); the owner of the turn checks and
# increments the counter at offset 8, then hands the turn over.
P=$MNT/pingpong
truncate -s 4096 "$P"
PINGPONG='
import mmap, os, struct, sys, time
path, role, rounds, how = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fd = os.open(path, os.O_RDWR)
if how == "mmap":
    m = mmap.mmap(fd, 4096)
    def get(off, n): return m[off:off + n]
    def put(off, b): m[off:off + len(b)] = b
else:
    def get(off, n): return os.pread(fd, n, off)
    def put(off, b): os.pwrite(fd, b, off)
for i in range(rounds):
    deadline = time.monotonic() + 2
    while get(0, 1)[0] != role:
        if time.monotonic() > deadline:
            sys.exit("role %d (%s): turn never came in round %d" % (role, how, i))
        os.sched_yield()
    c = struct.unpack("<Q", get(8, 8))[0]
    if c != 2 * i + role:
        sys.exit("role %d (%s): counter %d, want %d" % (role, how, c, 2 * i + role))
    put(8, struct.pack("<Q", c + 1))
    put(0, bytes([1 - role]))
os.close(fd)
'
python3 -c "$PINGPONG" "$P" 0 1000 mmap &
p0=$!
python3 -c "$PINGPONG" "$P" 1 1000 mmap &
p1=$!
wait "$p0" || fail "ping-pong process 0 failed"
wait "$p1" || fail "ping-pong process 1 failed"
assert_eq 2000 "$(od -An -t u8 -j 8 -N 8 "$P" | tr -d ' ')" "counter read with od"
ok "two mapping processes ping-pong a counter 1000 rounds each (2000)"

# The same with one side using pread/pwrite: mapping and read()/write()
# must agree through the daemon, not just within the page cache.
P=$MNT/pingpong-io
truncate -s 4096 "$P"
python3 -c "$PINGPONG" "$P" 0 300 mmap &
p0=$!
python3 -c "$PINGPONG" "$P" 1 300 io &
p1=$!
wait "$p0" || fail "ping-pong (mmap side) failed"
wait "$p1" || fail "ping-pong (pread/pwrite side) failed"
assert_eq 600 "$(od -An -t u8 -j 8 -N 8 "$P" | tr -d ' ')" "counter read with od"
ok "a mapping process and a pread/pwrite process ping-pong 300 rounds each"

# Resizing under mappings and concurrent I/O: one process flips the size
# between 0 and 8 MiB while others pread/pwrite and store through mappings.
# Clients may see short reads, or SIGBUS past the end of a mapping; every byte
# read must be 0 or the byte written (0xab); the daemon must survive.
X=$MNT/resize
truncate -s 8M "$X"
RACE='
import mmap, os, random, sys, time
path, role, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
fd = os.open(path, os.O_RDWR)
end = time.monotonic() + secs
rng = random.Random()
ok = (0, 0xab)
def check(b, what):
    bad = set(b) - set(ok)
    if bad:
        sys.exit(f"{role}: {what} read bytes {sorted(bad)[:4]}")
if role == "resize":
    while time.monotonic() < end:
        os.ftruncate(fd, rng.choice([0, 4096, 8 << 20, rng.randrange(8 << 20)]))
elif role == "io":
    while time.monotonic() < end:
        off, n = rng.randrange(8 << 20), rng.randrange(1, 256 << 10)
        if rng.random() < 0.5:
            os.pwrite(fd, b"\xab" * min(n, (8 << 20) - off), off)
        else:
            check(os.pread(fd, n, off), f"pread {n} @ {off}")
else:  # map: one short life; may die of SIGBUS when the file shrinks
    size = os.fstat(fd).st_size
    try:
        m = mmap.mmap(fd, size) if size else None
    except ValueError:  # shrunk between fstat and mmap
        m = None
    if m:
        for _ in range(2000):
            off = rng.randrange(size)
            if rng.random() < 0.5:
                m[off] = 0xab
            else:
                check(m[off:off + 1], f"mapping @ {off}")
'
python3 -c "$RACE" "$X" resize 3 &
r=$!
python3 -c "$RACE" "$X" io 3 &
i1=$!
python3 -c "$RACE" "$X" io 3 &
i2=$!
lives=0 sigbus=0
deadline=$((SECONDS + 3))
while ((SECONDS < deadline)); do
	st=0
	(python3 -c "$RACE" "$X" map 0; exit $?) 2>"$RFS_WORK/map.err" || st=$?
	case $st in
	0) ;;
	135) sigbus=$((sigbus + 1)) ;;
	*) fail "mapping process: status $st: $(cat "$RFS_WORK/map.err")" ;;
	esac
	lives=$((lives + 1))
done
wait "$r" || fail "resizing process failed"
wait "$i1" || fail "pread/pwrite process 1 failed"
wait "$i2" || fail "pread/pwrite process 2 failed"
rfs_alive || fail "daemon died while a region was resized under I/O and mappings"
truncate -s 0 "$X"
truncate -s 1M "$X"
assert_zeros "$X" 0 1048576
ok "resize race (3 s, $lives mapping processes, $sigbus got SIGBUS): only 0/0xab read, daemon alive"
