#!/usr/bin/env python3
"""Write through an rw view, fsync, then SIGKILL the daemon with the file still
open (no flush, no release ever reaches it), and check the fsync'ed bytes.

usage: view_crash.py MODE VIEW BACKING WINDOW_OFFSET DAEMON_PID IMAGE|- STATE
  MODE   write (os.write + os.fsync), mmap (MAP_SHARED store, msync, fsync)
         or close (os.pwrite + os.close, no fsync: flush writes back at close)
  IMAGE  the file holding the file system BACKING lives on (a loop image), or -
  STATE  a file holding what BACKING must contain; updated with the writes

Checks, after the kill: BACKING holds every fsync'ed (or closed) byte (read directly);
with an IMAGE, every 4 KiB block of BACKING touched by an fsync'ed write is
in IMAGE, i.e. it went down to the block device, not just the page cache.
Prints one line per informational fact; exits non-zero on a failed check.
"""
import mmap
import os
import signal
import sys
import time

BLOCK = 4096
MiB = 1 << 20


def main():
    mode, view, backing, woff, pid, image, state = sys.argv[1:]
    woff, pid = int(woff), int(pid)
    expect = bytearray(open(state, "rb").read())
    # Unaligned, crossing 4 KiB pages and 2 MiB chunks, at both window ends.
    size = os.stat(view).st_size
    spans = [(0, 100_000), (2 * MiB - 5000, 70_001), (size - 123_457, 123_457)]
    chunks = [os.urandom(n) for _, n in spans]

    fd = os.open(view, os.O_RDWR)
    if mode == "write":
        for (off, n), data in zip(spans, chunks):
            os.lseek(fd, off, os.SEEK_SET)
            done = 0
            while done < n:
                done += os.write(fd, data[done:])
        os.fsync(fd)
    elif mode == "mmap":
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        for (off, n), data in zip(spans, chunks):
            mm[off:off + n] = data
        mm.flush()  # msync(MS_SYNC): the pages go to the daemon as writes
        os.fsync(fd)
    elif mode == "close":
        for (off, n), data in zip(spans, chunks):
            os.pwrite(fd, data, off)
        os.close(fd)  # FUSE flush: the dirty range is written back before close returns
        fd = os.open(view, os.O_RDWR)
    else:
        sys.exit("bad mode " + mode)
    # Not fsync'ed: written after the fsync, for information only.
    unsynced_off = 3 * MiB + 12_345
    unsynced = os.urandom(3 * BLOCK)
    os.pwrite(fd, unsynced, unsynced_off)

    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(") ")[1][0] in "ZX":
                    break
        except (FileNotFoundError, ProcessLookupError):  # reaped mid-read
            break
        time.sleep(0.01)
    else:
        sys.exit("daemon %d still running 2 s after SIGKILL" % pid)
    try:
        os.close(fd)  # the daemon is gone: ENOTCONN or similar is fine
    except OSError:
        pass

    for (off, n), data in zip(spans, chunks):
        expect[woff + off:woff + off + n] = data
    got = open(backing, "rb").read()
    if len(got) != len(expect):
        sys.exit("backing file is %d bytes, want %d" % (len(got), len(expect)))
    for (off, n), data in zip(spans, chunks):
        have = got[woff + off:woff + off + n]
        if have != data:
            bad = sum(a != b for a, b in zip(have, data))
            sys.exit("%s: written bytes [%d, +%d) of the view: %d bytes not in the backing file"
                     % (mode, off, n, bad))
    u = woff + unsynced_off
    print("# unsynced write %s the backing file" %
          ("reached" if got[u:u + len(unsynced)] == unsynced else "did not reach"))
    expect[u:u + len(unsynced)] = got[u:u + len(unsynced)]
    if got != expect:
        bad = [i for i in range(0, len(got), BLOCK) if got[i:i + BLOCK] != expect[i:i + BLOCK]]
        sys.exit("backing file changed outside the written ranges: blocks at %s"
                 % [hex(b) for b in bad[:8]])
    with open(state, "wb") as f:
        f.write(expect)

    if image != "-":
        blocks = set()
        with open(image, "rb") as f:
            while True:
                b = f.read(BLOCK)
                if not b:
                    break
                blocks.add(b)
        for off, n in spans:
            first = (woff + off) // BLOCK * BLOCK
            for b in range(first, woff + off + n, BLOCK):
                if bytes(expect[b:b + BLOCK]) not in blocks:
                    sys.exit("%s: block at file offset %d (%s) is not on the device (image)"
                             % (mode, b, "closed" if mode == "close" else "fsync'ed"))
        inimg = all(bytes(expect[b:b + BLOCK]) in blocks
                    for b in range(u // BLOCK * BLOCK, u + len(unsynced), BLOCK))
        print("# unsynced write %s on the device" % ("is" if inimg else "is not"))


main()
