#!/usr/bin/env bash
# Faults under views never take the daemon down: a backing file truncated
# under an open view gives EIO in the lost range only; a sparse backing file
# on a full tmpfs gives ENOSPC/EIO (not a hang, not a crash). Every time, the
# daemon stays up and other views and regions keep working.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
# A contained SIGBUS leaves the faulting thread by siglongjmp from the handler.
# ThreadSanitizer delivers signals through its own deferred handler and loses
# track of that thread: libfuse's cancellation of it at unmount then hangs.
# The fault path is covered by the normal and ASan runs.
[[ ${SANITIZE:-} != thread ]] || skip "SIGBUS containment cannot run under ThreadSanitizer"
W=$RFS_WORK

B=$W/back # 16 MiB; the view is [4M+100, 12M+100)
head -c $((16 * MiB)) /dev/urandom >"$B"
cp "$B" "$W/back.orig"
O=$W/other
head -c "$MiB" /dev/urandom >"$O"
T=$W/tiny # a 2 MiB tmpfs holding a 16 MiB sparse file
mkdir "$T"
mount -t tmpfs -o size=2M tmpfs "$T" || skip "cannot mount a tmpfs"
view_extra_mount "$T"
truncate -s 16M "$T/sparse"

woff=$((4 * MiB + 100))
cfg=$W/faults.ini
cat >"$cfg" <<EOF
[regionfs]
size = 64M

[view:v]
file = $B
offset = $woff
length = 8M
access = rw

[view:other]
file = $O
access = rw

[view:full]
file = $T/sparse
access = rw
EOF
rfs_mount -c "$cfg"

# still_serving WHAT: the daemon is alive, the other view and a new region work.
nserve=0
still_serving() {
	nserve=$((nserve + 1))
	rfs_alive || fail "$1: daemon is gone (pid $RFS_PID, mount $MNT)"
	cmp "$MNT/other" "$O" || fail "$1: other view differs from its backing file"
	head -c 4096 /dev/urandom >"$W/p$nserve"
	view_put "$MNT/other" $((nserve * 8192 + 1)) <"$W/p$nserve"
	view_same "$O" $((nserve * 8192 + 1)) "$W/p$nserve" "$1: write through the other view"
	head -c $((MiB + 5)) /dev/urandom >"$W/r$nserve"
	cp "$W/r$nserve" "$MNT/region$nserve"
	cmp "$W/r$nserve" "$MNT/region$nserve" || fail "$1: a new region reads back wrong"
	assert_size "$MNT/region$nserve" $((MiB + 5))
}
still_serving "before any fault"
ok "views and regions work before the faults"

# --- truncate the backing file under an open view whose chunks are mapped
lost=$((6 * MiB - woff)) # the view's bytes from here on are past the new end
python3 - "$MNT/v" "$B" "$W/back.orig" "$woff" "$lost" <<'EOF' || fail "truncated backing file"
import errno, os, sys
view, back, orig, woff, lost = sys.argv[1:]
woff, lost = int(woff), int(lost)
MiB = 1 << 20
want = open(orig, "rb").read()[woff:woff + 8 * MiB]
keep = os.open(view, os.O_RDWR)  # held open across the truncation
assert os.pread(keep, 8 * MiB, 0) == want, "view content before the truncation"
os.truncate(back, 6 * MiB)

def fresh():
    fd = os.open(view, os.O_RDWR)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # no page cache answers
    return fd

def want_eio(what, f, *args):
    try:
        r = f(*args)
    except OSError as e:
        if e.errno != errno.EIO:
            sys.exit("%s: expected EIO, got %s (%s)" % (what, errno.errorcode.get(e.errno), e))
        return
    sys.exit("%s: expected EIO, got %r" % (what, r if isinstance(r, int) else "%d bytes" % len(r)))

fd = fresh()
want_eio("pread 4096 at view offset 3M (lost)", os.pread, fd, 4096, 3 * MiB)
want_eio("pread 4096 at view offset 8M-4096 (lost, last page)", os.pread, fresh(), 4096, 8 * MiB - 4096)
want_eio("pread 1 byte one page past the new end", os.pread, fresh(), 1, lost + 4096)
try:  # the last kept byte shares a page with lost ones: either answer is fair
    r = "%r" % (os.pread(fresh(), 1, lost - 1) == want[lost - 1:lost])
except OSError as e:
    r = errno.errorcode.get(e.errno)
print("# pread of the last kept byte (its page straddles the new end): %s" % r)
want_eio("pwrite 4096 at view offset 5M (lost)", os.pwrite, fresh(), b"w" * 4096, 5 * MiB)
os.posix_fadvise(keep, 0, 0, os.POSIX_FADV_DONTNEED)
want_eio("pread on the fd held across the truncation", os.pread, keep, 4096, 4 * MiB)
# The part still inside the file is served as before, read and write.
fd = fresh()
got = os.pread(fd, 1 * MiB, 0)
assert got == want[:MiB], "view offset 0..1M (still in the file) after the truncation"
assert os.pwrite(fd, b"STILL-WRITABLE", 1000) == 14, "short pwrite in the kept range"
b = open(back, "rb").read()
assert len(b) == 6 * MiB, "backing file size %d after the truncation" % len(b)
assert b[woff + 1000:woff + 1014] == b"STILL-WRITABLE", "write in the kept range not in the backing file"
print("# view st_size after the truncation: %d" % os.fstat(fd).st_size)
for f in (fd, keep):
    try:
        os.fsync(f)
        os.close(f)
    except OSError as e:
        print("# fsync/close of the truncated view: %s" % e)
EOF
still_serving "after the backing file was truncated under the view"
ok "backing file truncated under an open view: EIO for reads and writes in the lost range, the kept range works, daemon alive"
truncate -s 16M "$B"
dd if="$MNT/v" of="$W/regrown" bs=4096 skip=$((3 * 256)) count=1 status=none 2>"$W/regrown.err" ||
	echo "# after the file grew back, reading the lost range: $(cat "$W/regrown.err")"
still_serving "after the backing file grew back"
ok "the backing file grown back: daemon still serving"

# --- a full tmpfs behind a sparse backing file
full_py=$(
	cat <<'EOF'
import errno, os, sys
MiB = 1 << 20
fd = os.open(sys.argv[1], os.O_WRONLY)
data = os.urandom(8 * MiB)
done = 0
err = None
try:
    while done < len(data):
        done += os.write(fd, data[done:done + MiB])
except OSError as e:
    err = e
try:
    os.fsync(fd)
    os.close(fd)
except OSError as e:
    err = err or e
if err is None:
    sys.exit("wrote 8 MiB to a sparse file on a 2 MiB tmpfs without an error")
if err.errno not in (errno.ENOSPC, errno.EIO):
    sys.exit("expected ENOSPC or EIO, got %s (%s)" % (errno.errorcode.get(err.errno), err))
# What write() accepted is there.
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
got = os.pread(fd, done, 0)
if got != data[:done]:
    sys.exit("the %d bytes write() accepted read back wrong" % done)
print("%s after %d bytes" % (errno.errorcode[err.errno], done))
EOF
)
start=${EPOCHREALTIME/./}
st=0
out=$(timeout 60 python3 -c "$full_py" "$MNT/full" 2>&1) || st=$?
took=$(printf '%.2f' "$(((${EPOCHREALTIME/./} - start) / 1000))e-3")
((st != 124)) || fail "writing 8 MiB to a view on a full tmpfs hung (timeout 60 s)"
((st == 0)) || fail "full tmpfs: $out"
echo "# full tmpfs, python os.write: $out (${took}s)"
st=0
timeout 60 dd if=/dev/urandom of="$MNT/full" bs=1M count=8 seek=8 conv=notrunc status=none 2>"$W/dd.err" || st=$?
((st != 124)) || fail "dd to a view on a full tmpfs hung (timeout 60 s)"
((st != 0)) || fail "dd of 8 MiB to a view on a full 2 MiB tmpfs succeeded"
grep -qE 'No space left on device|Input/output error' "$W/dd.err" ||
	fail "dd to a full tmpfs: want ENOSPC or EIO, got: $(cat "$W/dd.err")"
echo "# full tmpfs, dd: $(head -1 "$W/dd.err")"
still_serving "after writes to a full tmpfs"
ok "sparse backing file on a full 2 MiB tmpfs: writes fail with ENOSPC/EIO in ${took}s, accepted bytes read back, daemon alive"
