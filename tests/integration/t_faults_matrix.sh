#!/usr/bin/env bash
# Fault matrix. Every case asserts the errno, that the daemon is alive and
# that other mappings are intact (faults_holder.py keeps a region and a view
# mapped throughout and checks them through the mapping, a fresh descriptor
# with the page cache dropped and, for the view, the backing file):
#
#   A  backing file truncated under an open view: reads and writes inside the
#      cut (EIO), straddling it (EIO or a short answer, bytes before the cut
#      right), before it (served); then the file regrown (served again)
#   B  sparse backing file on a full 4 MiB tmpfs: writes and mmap stores fail
#      with ENOSPC/EIO, accepted bytes read back; space freed, writes work
#   C  backing file on a block device that returns EIO (dm-error if the kernel
#      has device-mapper, else ext4 on a loop device shrunk under it): reads and
#      writes EIO, fsync of data whose writeback fails EIO; device healed, the
#      data reads back
#   D  region cap exhausted mid-write: a 1 MiB write crossing the cap is short
#      or ENOSPC, bytes before the cap intact, the next write ENOSPC, an mmap
#      store into a hole fails at msync, df consistent, freeing space helps
#   E  a client killed (SIGKILL) while holding a flock, a fcntl lock and
#      mappings of a region and of a view: locks released, the stores it made
#      through the mappings are in the region and the backing file
#
# A, B and C make the daemon take SIGBUS in its mappings; they are skipped
# under ThreadSanitizer (see t_view_faults.sh). RFS_SOAK=1 repeats A-E's
# injections 10 times (A with different cut points).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
W=$RFS_WORK
tsan=0
[[ ${SANITIZE:-} != thread ]] || tsan=1
rounds=1
[[ -z "${RFS_SOAK:-}" ]] || rounds=10
faults=0 # injected faults

# Python prelude for the cases: want(WHAT, ERRNOS, f, *args) requires
# OSError with one of ERRNOS; fresh(PATH) opens with the page cache dropped.
PYH='import errno, fcntl, mmap, os, random, signal, sys, time
MiB = 1 << 20
P = 4096
def ename(e):
    return errno.errorcode.get(e, str(e))
def want(what, errs, f, *args):
    try:
        r = f(*args)
    except OSError as e:
        if e.errno in errs:
            return e.errno
        sys.exit("%s: expected %s, got %s (%s)" % (what, "/".join(map(ename, errs)), ename(e.errno), e))
    sys.exit("%s: expected %s, got %r" % (what, "/".join(map(ename, errs)),
             r if isinstance(r, int) or r is None else "%d bytes" % len(r)))
def fresh(path, flags=os.O_RDWR):
    fd = os.open(path, flags)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    return fd
def back(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)
def zeros(b):
    return b.count(0) == len(b)
'
# pycase WHAT CODE ARGS...: run CODE with the prelude; its output is shown.
pycase() {
	local what=$1 code=$2 out st=0
	shift 2
	out=$(python3 -c "$PYH$code" "$@" 2>&1) || st=$?
	[[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/# /'
	((st == 0)) || fail "$what: $(tail -n 3 <<<"$out")"
}

# ---------------------------------------------------------------- set-up
B=$W/back # case A: 16 MiB; the view is [4M+100, 12M+100)
head -c $((16 * MiB)) /dev/urandom >"$B"
cp "$B" "$W/back.orig"
woff=$((4 * MiB + 100))
O=$W/other # the holder's view
head -c "$MiB" /dev/urandom >"$O"
K=$W/kback # case E's view
head -c $((4 * MiB)) /dev/urandom >"$K"
cat >"$W/faults.ini" <<EOF
[regionfs]
size = 64M

[view:other]
file = $O
access = rw

[view:k]
file = $K
access = rw
EOF
if ((!tsan)); then
	cat >>"$W/faults.ini" <<EOF

[view:v]
file = $B
offset = $woff
length = 8M
access = rw
EOF
	# case B: a 4 MiB tmpfs with a 3 MiB filler and a 16 MiB sparse file
	T=$W/tiny
	mkdir "$T"
	mount -t tmpfs -o size=4M tmpfs "$T" || skip "cannot mount a tmpfs"
	view_extra_mount "$T"
	head -c $((3 * MiB)) /dev/urandom >"$T/filler"
	truncate -s 16M "$T/sparse"
	cat >>"$W/faults.ini" <<EOF

[view:full]
file = $T/sparse
access = rw
EOF
	# case C: dm-error if there is device-mapper, else ext4 on a loop device
	# whose size limit is cut below the file (reads past a block device's end
	# fail with EIO in the block layer, no FUSE involved).
	eio_how=""
	if ! dmtargets=$(dmsetup targets 2>&1) || ! grep -q '^error' <<<"$dmtargets"; then
		echo "# dm-error unavailable (dmsetup targets: $(head -n 1 <<<"$dmtargets")); using a shrunk loop device"
	else
		echo "# dm-error is available, but the loop-device injector is used (it needs no table juggling)"
	fi
	E=$W/eio
	mkdir "$E"
	truncate -s 32M "$W/eio.img"
	if mkfs.ext4 -q -F -O ^has_journal -b 4096 "$W/eio.img" 2>"$W/mkfs.err" &&
		mount -o loop "$W/eio.img" "$E" 2>"$W/mount.err"; then
		view_extra_mount "$E"
		eio_dev=$(findmnt -no SOURCE "$E")
		head -c $((20 * MiB)) /dev/zero >"$E/filler" # push the data to the device's end
		head -c $((8 * MiB)) /dev/urandom >"$E/eio.dat"
		cp "$E/eio.dat" "$W/eio.orig"
		sync "$E/filler" "$E/eio.dat"
		rm "$E/filler"
		first=$(filefrag -v "$E/eio.dat" | awk '$1 ~ /^[0-9]+:$/ { sub(/\.\..*/, "", $4); print $4 }' | sort -n | head -n 1)
		if [[ -n "$first" && -n "$eio_dev" ]]; then
			eio_how="ext4 on $eio_dev shrunk to block $first"
			cat >>"$W/faults.ini" <<EOF

[view:eio]
file = $E/eio.dat
access = rw
EOF
		fi
	else
		echo "# cannot make ext4 on a loop device: $(cat "$W/mkfs.err" "$W/mount.err")"
	fi
fi
rfs_mount -c "$W/faults.ini"
truncate -s 2M "$MNT/keep"

coproc HOLD { python3 "$RFS_TESTDIR/faults_holder.py" "$MNT/keep" "$MNT/other" "$O" 0 2>&1; }
read -r -t 60 line <&"${HOLD[0]}" || fail "faults_holder.py did not start"
assert_eq ready "$line" "faults_holder.py"
nint=0
# intact WHAT: the daemon is alive and the holder's mappings are intact.
intact() {
	local ans
	nint=$((nint + 1))
	rfs_alive || fail "$1: daemon is gone (pid $RFS_PID)"
	echo "check $nint" >&"${HOLD[1]}"
	read -r -t 60 ans <&"${HOLD[0]}" || fail "$1: no answer from faults_holder.py"
	assert_eq "ok $nint" "$ans" "$1: other mappings"
}
intact "before the faults"
ok "a region and a view mapped by another process, checked"

# ---------------------------------------------------------------- A
case_a() {
	local cut_b=$1
	cp "$W/back.orig" "$B"
	pycase "A: view over a truncated file (cut at $cut_b)" '
view, backf, orig, woff, cut_b = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
want_ = back(orig, woff, 8 * MiB)
keep = os.open(view, os.O_RDWR)
assert os.pread(keep, 8 * MiB, 0) == want_, "view content before the truncation"
os.truncate(backf, cut_b)
cut = cut_b - woff                      # view offset of the cut
pend = -(-cut_b // P) * P - woff        # view offset where the page holding the cut ends
E = (errno.EIO,)
want("pread 4096 inside the cut", E, os.pread, fresh(view), 4096, pend + 8192)
want("pread 1 byte at the first page wholly past the cut", E, os.pread, fresh(view), 1, pend)
want("pread of the last page of the view", E, os.pread, fresh(view), 4096, 8 * MiB - 4096)
want("pwrite 4096 unaligned inside the cut", E, os.pwrite, fresh(view), b"w" * 4096, pend + 3 * P + 5)
want("pwrite 1 byte inside the cut", E, os.pwrite, fresh(view), b"w", 8 * MiB - 1)
os.posix_fadvise(keep, 0, 0, os.POSIX_FADV_DONTNEED)
want("pread inside the cut on the fd held across the truncation", E, os.pread, keep, 4096, pend + P)
# straddling the cut: EIO, or a short answer that ends in the cut page
s = cut - 5000
try:
    got = os.pread(fresh(view), 20000, s)
    assert 0 < len(got) <= pend - s, "straddling pread returned %d bytes (at most %d may lie before the cut page end)" % (len(got), pend - s)
    assert got[:cut - s] == want_[s:cut][:len(got)], "straddling pread: bytes before the cut differ"
    assert zeros(got[cut - s:]), "straddling pread: bytes past the end of the file are not zero"
    r = "short read of %d bytes" % len(got)
except OSError as e:
    assert e.errno == errno.EIO, "straddling pread: %s" % e
    r = "EIO"
s = cut - 3000
data = os.urandom(12000)
# written the POSIX way: pwrite again after a short write, until an error;
# every byte reported written is in the file, the rest before the cut unchanged
n, w = 0, []
while True:
    try:
        k = os.pwrite(fresh(view), data[n:], s + n)
    except OSError as e:
        assert e.errno == errno.EIO, "straddling pwrite at %d: %s" % (s + n, e)
        w.append("EIO")
        break
    assert k > 0, "straddling pwrite at %d returned 0" % (s + n)
    n += k
    w.append(str(k))
    assert n <= pend - s, "straddling pwrites wrote %d bytes (at most %d lie before the cut page end)" % (n, pend - s)
w = "+".join(w)
m = min(n, 3000)
assert back(backf, cut_b - 3000, m) == data[:m], "straddling pwrite: the %d bytes reported written are not in the file" % m
# a write that failed may have stored part of its bytes (the copy faults past
# the cut), but nothing else: each byte is the old one or the new one
rest, old, new = back(backf, cut_b - 3000 + m, 3000 - m), want_[s + m:cut], data[m:3000]
assert all(r in (a, b) for r, a, b in zip(rest, old, new)), "straddling pwrite: bytes before the cut hold neither old nor new data"
if rest != old:
    w += " (%d of the %d bytes before the cut not reported written were changed)" % (sum(r != a for r, a in zip(rest, old)), len(rest))
print("straddling the cut: pread %s, pwrite %s" % (r, w))
# before the cut: served as before
fd = fresh(view)
assert os.pread(fd, MiB, 0) == want_[:MiB], "view [0, 1M) after the truncation"
assert os.pwrite(fd, b"KEPT-RANGE", 1000) == 10, "pwrite in the kept range"
assert back(backf, woff + 1000, 10) == b"KEPT-RANGE", "kept-range write not in the backing file"
assert os.stat(backf).st_size == cut_b, "backing file size"
for f in (fd, keep):
    try:
        os.fsync(f)
    except OSError as e:
        print("fsync of the truncated view: %s" % e)
    os.close(f)
' "$MNT/v" "$B" "$W/back.orig" "$woff" "$cut_b"
	faults=$((faults + 1))
	intact "A: after truncating the backing file at $cut_b"
	truncate -s 16M "$B"
	pycase "A: view over the regrown file (cut was at $cut_b)" '
view, backf, woff, cut_b = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cut = cut_b - woff
pend = -(-cut_b // P) * P - woff
fd = fresh(view)
assert os.fstat(fd).st_size == 8 * MiB, "view size after the regrowth"
got = os.pread(fd, 8 * MiB - pend, pend)
assert len(got) == 8 * MiB - pend and zeros(got), "regrown range: %d bytes, zero: %s" % (len(got), zeros(got))
data = os.urandom(3 * P + 7)
assert os.pwrite(fd, data, pend + 5) == len(data), "pwrite into the regrown range"
os.fsync(fd)
assert back(backf, woff + pend + 5, len(data)) == data, "regrown-range write not in the backing file"
tail = os.pread(fresh(view), pend - cut, cut)
print("regrown: bytes between the cut and its page end are %s" % ("zero" if zeros(tail) else "NOT zero (stale bytes from before the cut or from the straddling write)"))
os.close(fd)
' "$MNT/v" "$B" "$woff" "$cut_b"
	intact "A: after regrowing the backing file"
}

if ((tsan)); then
	echo "# SKIP A, B, C: SIGBUS containment cannot run under ThreadSanitizer"
else
	for ((r = 0; r < rounds; r++)); do
		# cut 2M+900 into the window (mid-page, mid-chunk); other rounds move it
		case_a $((6 * MiB + 1000 + r * 1237 * 4096 % (5 * MiB)))
	done
	ok "A: backing file truncated under a view: EIO inside the cut, straddling EIO or short and right, kept range served, regrown range served ($rounds rounds)"

	# ------------------------------------------------------------ B
	for ((r = 0; r < rounds; r++)); do
		# an empty sparse file first: the last round left data in it
		truncate -s 0 "$T/sparse" && truncate -s 16M "$T/sparse"
		[[ -f "$T/filler" ]] || head -c $((3 * MiB)) /dev/urandom >"$T/filler"
		pycase "B: sparse backing file on a full tmpfs" '
view, sparse = sys.argv[1], sys.argv[2]
data = os.urandom(4 * MiB)
base = random.randrange(0, 8) * MiB
fd = os.open(view, os.O_WRONLY)
done, err = 0, None
t0 = time.monotonic()
try:
    while done < len(data):
        done += os.pwrite(fd, data[done:done + MiB], base + done)
except OSError as e:
    err = e.errno
if err is None:
    try:
        os.fsync(fd)
    except OSError as e:
        err = e.errno
assert err in (errno.ENOSPC, errno.EIO), "4 MiB into a view on a tmpfs with < 1 MiB free: %s after %d bytes" % (ename(err) if err else "no error", done)
os.close(fd)
took = time.monotonic() - t0
assert took < 20, "the failing writes took %.1f s" % took
got = os.pread(fresh(view, os.O_RDONLY), done, base)
assert got == data[:done], "the %d bytes write() accepted read back wrong" % done
# a read of a hole: zeros are right (read(2) of the tmpfs file itself gives
# them); the daemon reads through a shared mapping, whose fault allocates on a
# full tmpfs, and answers EIO: accepted here, reported as a known weakness
try:
    h = os.pread(fresh(view, os.O_RDONLY), 4096, 12 * MiB)
    assert h == bytes(4096), "a hole read back non-zero"
    hole = "zeros"
except OSError as e:
    assert e.errno in (errno.EIO, errno.ENOSPC), "read of a hole: %s" % e
    hole = ename(e.errno)
# a store through a client mapping into a hole, in a child: it fails at msync,
# or the child takes SIGBUS when its page fault reads the hole (as above)
pid = os.fork()
if pid == 0:
    fd = os.open(view, os.O_RDWR)
    m = mmap.mmap(fd, MiB, offset=12 * MiB)
    m[:] = os.urandom(MiB)
    try:
        m.flush()
    except OSError as e:
        os._exit(100 + e.errno)
    os._exit(0)
_, st = os.waitpid(pid, 0)
if os.WIFSIGNALED(st):
    assert os.WTERMSIG(st) == 7, "mmap store child died of signal %d" % os.WTERMSIG(st)
    e2 = "SIGBUS in the client"
else:
    code = os.WEXITSTATUS(st) - 100
    assert code in (errno.ENOSPC, errno.EIO), "msync of a 1 MiB store into a hole of a full tmpfs: exit %d" % os.WEXITSTATUS(st)
    e2 = "msync " + ename(code)
print("full tmpfs: read of a hole %s" % hole)
print("full tmpfs: write %s after %d bytes (%.2f s); mmap store: %s" % (ename(err), done, took, e2))
' "$MNT/full" "$T/sparse"
		faults=$((faults + 2))
		intact "B: after writes to a full tmpfs"
		rm "$T/filler"
		truncate -s 0 "$T/sparse" && truncate -s 16M "$T/sparse"
		pycase "B: the tmpfs has room again" '
view = sys.argv[1]
data = os.urandom(2 * MiB + 3)
fd = os.open(view, os.O_RDWR)
assert os.pwrite(fd, data, 5 * MiB + 1) == len(data), "pwrite after space was freed"
os.fsync(fd)
os.close(fd)
assert os.pread(fresh(view, os.O_RDONLY), len(data), 5 * MiB + 1) == data, "read back after space was freed"
' "$MNT/full"
		intact "B: after space was freed"
	done
	ok "B: sparse backing file on a full tmpfs: ENOSPC/EIO for write(), mmap store fails, accepted bytes intact, recovers when space is freed ($rounds rounds)"

	# ------------------------------------------------------------ C
	if [[ -z "$eio_how" ]]; then
		echo "# SKIP C: no EIO-returning device (no device-mapper; loop + ext4 failed)"
	else
		lo_limit() { # lo_limit BYTES: set the loop device's size limit (0: the whole image)
			python3 -c '
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
info = bytearray(232)                      # struct loop_info64
fcntl.ioctl(fd, 0x4C05, info)              # LOOP_GET_STATUS64
struct.pack_into("Q", info, 32, int(sys.argv[2]))  # lo_sizelimit
fcntl.ioctl(fd, 0x4C04, bytes(info))       # LOOP_SET_STATUS64
' "$eio_dev" "$1"
		}
		for ((r = 0; r < rounds; r++)); do
			cp "$W/eio.orig" "$W/eio.want"
			# a write whose writeback will fail: dirty in chunk 0, then the device goes
			python3 -c "$PYH"'
fd = os.open(sys.argv[1], os.O_RDWR)
assert os.pwrite(fd, b"D" * 65536, 100) == 65536
with open(sys.argv[2], "w") as f:
    f.write(str(fd))
time.sleep(3600)
' "$MNT/eio" "$W/eio.fd" &
			holder=$!
			wait_until 20 test -s "$W/eio.fd" || fail "C: the writer did not start"
			python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 2 << 20, 0, os.POSIX_FADV_DONTNEED)  # not chunk 0: that would write it back' "$E/eio.dat"
			lo_limit $((first * 4096))
			[[ $(blockdev --getsize64 "$eio_dev") == $((first * 4096)) ]] || fail "C: the loop device did not shrink"
			pycase "C: view of a file on a device returning EIO ($eio_how)" '
view, pid, fdn, rnd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
E = (errno.EIO,)
# Only in the first round were these pages never read: later rounds find them in the
# page cache (the daemon keeps its chunks mapped), which is right to serve.
if rnd == "0":
    want("pread 4096 at 5M (never read before)", E, os.pread, fresh(view), 4096, 5 * MiB)
    want("pread 100 bytes at 7M+3", E, os.pread, fresh(view), 100, 7 * MiB + 3)
    want("pwrite 4096 at 6M+3", E, os.pwrite, fresh(view), b"x" * 4096, 6 * MiB + 3)
    want("pwrite 1 MiB at 3M", E, os.pwrite, fresh(view), b"x" * MiB, 3 * MiB)
# the dirty range from before the failure: writeback fails, fsync says so
fd = os.open("/proc/%s/fd/%s" % (pid, fdn), os.O_RDWR)
want("fsync of a view whose writeback fails", E, os.fsync, fd)
os.close(fd)
' "$MNT/eio" "$holder" "$(cat "$W/eio.fd")" "$r"
			faults=$((faults + 5))
			intact "C: after EIO from the device"
			kill "$holder"
			wait "$holder" 2>/dev/null || true
			rm -f "$W/eio.fd"
			lo_limit 0
			[[ $(blockdev --getsize64 "$eio_dev") == $((32 * MiB)) ]] || fail "C: the loop device did not grow back"
			pycase "C: the device healed" '
view, orig = sys.argv[1], sys.argv[2]
want_ = open(orig, "rb").read()
fd = fresh(view)
got = os.pread(fd, 4 * MiB, 4 * MiB)
assert got == want_[4 * MiB:], "view [4M, 8M) after the device healed differs from the file written before"
data = os.urandom(5000)
assert os.pwrite(fd, data, 6 * MiB + 3) == 5000, "pwrite after healing"
os.fsync(fd)
assert os.pread(fresh(view), 5000, 6 * MiB + 3) == data, "read back after healing"
' "$MNT/eio" "$W/eio.want"
			intact "C: after the device healed"
			cp "$MNT/eio" "$W/eio.orig" # the next round starts from what this one left
		done
		m=$(awk '/^regionfs_faults_total/ {print $2}' "$MNT/.regionfs/metrics")
		ok "C: backing file on a device returning EIO ($eio_how): reads, writes and fsync EIO, healed device serves the data; regionfs_faults_total $m ($rounds rounds)"
	fi
fi

# ---------------------------------------------------------------- E
for ((r = 0; r < rounds; r++)); do
	rm -f "$MNT/mapped" "$MNT/locked" "$W/client.ready"
	truncate -s 1M "$MNT/mapped"
	: >"$MNT/locked"
	python3 -c "$PYH"'
reg, lk, view, ready, seed = sys.argv[1:]
rng = random.Random(int(seed))
fd = os.open(reg, os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
lfd = os.open(lk, os.O_RDWR)
fcntl.lockf(lfd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)
m = mmap.mmap(fd, MiB)
m[4096:4096 + 100000] = rng.randbytes(100000)
vfd = os.open(view, os.O_RDWR)
vm = mmap.mmap(vfd, 2 * MiB, offset=MiB)
vm[777:777 + 300000] = rng.randbytes(300000)
with open(ready, "w") as f:
    f.write("ready")
time.sleep(3600)
' "$MNT/mapped" "$MNT/locked" "$MNT/k" "$W/client.ready" "$r" &
	client=$!
	wait_until 30 test -s "$W/client.ready" || fail "E: the client did not get its locks and mappings"
	pycase "E: locks held by the client" '
fd = os.open(sys.argv[1], os.O_RDWR)
want("flock LOCK_NB while the client holds it", (errno.EWOULDBLOCK,), fcntl.flock, fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
lfd = os.open(sys.argv[2], os.O_RDWR)
want("fcntl F_SETLK while the client holds it", (errno.EAGAIN, errno.EACCES), fcntl.lockf, lfd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)
' "$MNT/mapped" "$MNT/locked"
	kill -KILL "$client"
	st=0
	{ wait "$client"; } 2>/dev/null || st=$?
	assert_eq 137 "$st" "E: exit status of the killed client"
	faults=$((faults + 1))
	pycase "E: after the client was killed" '
reg, lk, view, back_, seed = sys.argv[1:]
rng = random.Random(int(seed))
rdata, vdata = rng.randbytes(100000), rng.randbytes(300000)
deadline = time.monotonic() + 10
fd = os.open(reg, os.O_RDWR)
lfd = os.open(lk, os.O_RDWR)
while True:  # the kernel releases the locks as the killed process closes its files
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.lockf(lfd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)
        break
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
            sys.exit("locks of the killed client not released after 10 s: %s" % e)
        time.sleep(0.05)
fcntl.flock(fd, fcntl.LOCK_UN)
fcntl.lockf(lfd, fcntl.LOCK_UN, 100, 0)
# the stores the client made through its mappings, without msync
while back(back_, MiB + 777, 300000) != vdata:
    if time.monotonic() > deadline:
        sys.exit("the killed client'"'"'s stores through its view mapping are not in the backing file after 10 s")
    time.sleep(0.05)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
got = os.pread(fd, MiB, 0)
assert got[4096:4096 + 100000] == rdata, "the killed client'"'"'s stores through its region mapping are lost"
assert zeros(got[:4096]) and zeros(got[4096 + 100000:]), "bytes the client did not store changed"
got = os.pread(fresh("%s" % view), 300000, MiB + 777)
assert got == vdata, "the view does not read back the killed client'"'"'s stores"
' "$MNT/mapped" "$MNT/locked" "$MNT/k" "$K" "$r"
	intact "E: after a client was killed"
done
# no open left behind by the killed clients
wait_until 10 bash -c "awk '\$1 == \"mapped\" || \$1 == \"k\" { n += \$7 } END { exit n != 0 }' '$MNT/.regionfs/stats'" ||
	fail "E: stats still count opens of the killed clients' files: $(cat "$MNT/.regionfs/stats")"
ok "E: a client killed holding flock, a fcntl lock and mappings of a region and a view: locks released, its stores kept, no opens left ($rounds rounds)"

echo quit >&"${HOLD[1]}"
wait "$HOLD_PID" || fail "faults_holder.py failed"

# ---------------------------------------------------------------- D
rfs_unmount
rfs_mount -o size=8M
truncate -s 256K "$MNT/keep"
coproc HOLD { python3 "$RFS_TESTDIR/faults_holder.py" "$MNT/keep" 2>&1; }
read -r -t 60 line <&"${HOLD[0]}" || fail "faults_holder.py did not start"
assert_eq ready "$line" "faults_holder.py (cap mount)"
intact "D: before filling the cap"
for ((r = 0; r < rounds; r++)); do
	head -c $((7 * MiB)) /dev/urandom >"$W/fill"
	cp "$W/fill" "$MNT/fill"
	pycase "D: region cap exhausted mid-write" '
mnt = sys.argv[1]
def df():
    s = os.statvfs(mnt)
    return (s.f_blocks - s.f_bfree) * s.f_frsize, s.f_blocks * s.f_frsize, s.f_bavail * s.f_frsize
used0, size, avail0 = df()
assert size == 8 * MiB, "df size %d, cap 8 MiB" % size
assert used0 >= 7 * MiB + 256 * 1024 and used0 + avail0 == size, "df before: used %d avail %d size %d" % (used0, avail0, size)
data = os.urandom(MiB)
fd = os.open(mnt + "/x", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
try:
    n = os.pwrite(fd, data, 0)
    res = "short write of %d bytes" % n
except OSError as e:
    assert e.errno == errno.ENOSPC, "1 MiB write crossing the cap: %s" % e
    n, res = 0, "ENOSPC"
assert n <= avail0, "wrote %d bytes with %d available" % (n, avail0)
assert n < MiB, "1 MiB written with %d bytes available" % avail0
assert os.fstat(fd).st_size == n, "size %d after a write of %d bytes" % (os.fstat(fd).st_size, n)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
assert os.pread(fd, MiB, 0) == data[:n], "the bytes before the cap differ"
# written on the POSIX way after a short write: until ENOSPC, never past the cap
total, more = n, 0
while True:
    try:
        k = os.pwrite(fd, data[total:] or b"z", total)
    except OSError as e:
        assert e.errno == errno.ENOSPC, "writing on at %d: %s" % (total, e)
        break
    assert k > 0 and total + k <= len(data), "pwrite at %d returned %d" % (total, k)
    total += k
    more += 1
    assert total < MiB, "1 MiB written with %d bytes available" % avail0
assert total <= avail0, "wrote %d bytes with %d available" % (total, avail0)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
assert os.pread(fd, MiB, 0) == data[:total], "the bytes before the cap differ"
res += ", then %d more writes to %d bytes, then ENOSPC" % (more, total)
used1, _, avail1 = df()
assert used1 <= size and used1 + avail1 == size and used1 >= used0 + total, "df after: used %d avail %d (before %d, wrote %d)" % (used1, avail1, used0, total)
# a store through a mapping into a hole past the cap: served by the kernel,
# the storing process dies of SIGBUS as on tmpfs; served by the daemon,
# msync (or fsync) fails
y = os.open(mnt + "/y", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(y, 2 * MiB)
if sys.argv[2] == "kernel":
    import subprocess
    r = subprocess.run([sys.executable, "-c", "import mmap, os, sys; f = os.open(sys.argv[1], os.O_RDWR); "
                        "m = mmap.mmap(f, 2 << 20); m[:] = os.urandom(2 << 20)", mnt + "/y"])
    assert r.returncode == -signal.SIGBUS, "2 MiB mmap store into a hole past the cap: status %d, not SIGBUS" % r.returncode
    e = "SIGBUS"
else:
    m = mmap.mmap(y, 2 * MiB)
    m[:] = os.urandom(2 * MiB)
    e = ename(want("msync of a 2 MiB store into a hole past the cap", (errno.ENOSPC,), m.flush))
    m.close()
try:
    os.fsync(y)
except OSError:
    pass
os.close(y)
used2, _, avail2 = df()
assert used2 <= size and used2 + avail2 == size, "df after the store: used %d avail %d" % (used2, avail2)
print("cap: %s (%d bytes were free), mmap store %s; df used %d of %d" % (res, avail0, e, used2, size))
os.close(fd)
' "$MNT" "$(rfs_served_by)"
	faults=$((faults + 2))
	cmp "$W/fill" "$MNT/fill" || fail "D: the file filling the cap changed"
	intact "D: after the cap was exhausted"
	before=$(df_used)
	rm "$MNT/fill" "$MNT/x" "$MNT/y"
	after=$(df_used)
	((after <= before - 7 * MiB)) || fail "D: df used $before -> $after after removing 7 MiB"
	head -c "$MiB" /dev/urandom >"$W/again"
	cp "$W/again" "$MNT/again" || fail "D: a 1 MiB write after space was freed"
	cmp "$W/again" "$MNT/again" || fail "D: the write after freeing space reads back wrong"
	rm "$MNT/again"
	intact "D: after space was freed"
done
ok "D: region cap exhausted mid-write: short write/ENOSPC, bytes before the cap intact, mmap store SIGBUS (kernel) or msync ENOSPC (daemon), df consistent, recovers ($rounds rounds)"
echo quit >&"${HOLD[1]}"
wait "$HOLD_PID" || fail "faults_holder.py failed (cap mount)"
echo "# t_faults_matrix: $faults faults injected"
