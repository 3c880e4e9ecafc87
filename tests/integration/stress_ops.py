#!/usr/bin/env python3
"""One process of t_stress.sh: THREADS threads doing random operations on a
regionfs mount for SECONDS seconds.

    stress_ops.py --mnt DIR --id N --threads M --seconds S --progress FILE
                  --view NAME --backing PATH --offset N --slice BYTES [--seed S]

Each thread mixes
  - its own region file (pwrite, pread, ftruncate, mmap stores and loads,
    reopen with the page cache dropped), checked against a model;
  - its own slice of the rw view NAME (pwrite, mmap stores, pread), checked
    against a model through the view and, after fsync, in the backing file;
  - a shared pool of names under DIR/pool (create, write, read, truncate,
    rename incl. RENAME_EXCHANGE/NOREPLACE, link, unlink, mkdir, rmdir, stat,
    readdir) where the threads of every process race each other;
  - control commands: region/remove of shared names (cr0..cr7), flush all,
    flush of the view, reads of stats and metrics, and I/O on those regions.
Errors that races explain (ENOENT, EEXIST, ENOTEMPTY, ...) count as fine;
anything else (EIO above all) or a wrong byte is reported on stderr and makes
the process exit 1. Every 0.5 s FILE gets "OPS STALL": the operations done so
far by all threads and the longest time any thread has been inside one
operation, for the watchdog in t_stress.sh.
"""

import argparse
import collections
import ctypes
import errno
import mmap
import os
import random
import sys
import threading
import time

PAGE = mmap.PAGESIZE
KiB = 1024
MiB = 1 << 20
# errors that races between the threads explain, by operation prefix
RACY = {
    "pool_": {errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR,
              errno.EINVAL, errno.ENOSPC},
    "pool_link": {errno.EPERM},  # link() of a directory
    "pool_xattr": {errno.ENODATA, errno.EPERM},  # removed meanwhile; user.* of a symlink
    "control": {errno.ENOENT, errno.EEXIST},  # remove of a gone name, region of one there
    "ctl_region_io": {errno.ENOENT},  # opened after a remove
}


def racy(op, err):
    return any(op.startswith(k) and err in v for k, v in RACY.items())
_libc = ctypes.CDLL(None, use_errno=True)
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
ACL_NAMED = bytes.fromhex("02000000" "01000600ffffffff" "02000400e8030000" "04000400ffffffff"
                          "10000400ffffffff" "20000000ffffffff")


def renameat2(old, new, flags):
    if _libc.renameat2(-100, old.encode(), -100, new.encode(), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), old)


class Bad(Exception):
    pass


def first_diff(a, b):
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


class Worker(threading.Thread):
    def __init__(self, args, tid, deadline, errors):
        super().__init__(daemon=True)
        self.a = args
        self.tid = tid
        self.deadline = deadline
        self.errors = errors
        self.rng = random.Random(args.seed * 1000003 + args.id * 1009 + tid)
        self.ops = 0
        self.racy = 0
        self.busy_since = None  # monotonic time the current op started
        self.counts = collections.Counter()
        slot = args.id * args.threads + tid
        self.priv = os.path.join(args.mnt, f"priv/p{args.id}t{tid}")
        self.pmodel = bytearray()
        self.pfd = os.open(self.priv, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.view = os.path.join(args.mnt, args.view)
        self.vfd = os.open(self.view, os.O_RDWR)
        self.vbase = slot * args.slice
        self.vmodel = bytearray(os.pread(self.vfd, args.slice, self.vbase))
        self.bfd = os.open(args.backing, os.O_RDONLY)
        self.pool = os.path.join(args.mnt, "pool")

    # ------------------------------------------------------------ helpers
    def bad(self, msg):
        raise Bad(f"proc {self.a.id} thread {self.tid}: {msg}")

    def check(self, what, want, got):
        if bytes(want) != bytes(got):
            i = first_diff(want, got)
            self.bad(f"{what}: {len(got)} bytes, want {len(want)}; first difference at +{i}: "
                     f"got {bytes(got[i:i + 16]).hex()} want {bytes(want[i:i + 16]).hex()}")

    def name(self):
        r = self.rng
        return f"{self.pool}/d{r.randrange(4)}/{r.choice('fffffs')}{r.randrange(6)}"

    # ------------------------------------------------------------ private region
    def priv_write(self):
        r = self.rng
        off = r.randrange(0, 256 * KiB)
        n = r.choice((r.randrange(1, 200), r.randrange(1, 64 * KiB), PAGE))
        data = r.randbytes(n)
        if os.pwrite(self.pfd, data, off) != n:
            self.bad(f"short pwrite {n} @ {off} to {self.priv}")
        if off > len(self.pmodel):
            self.pmodel.extend(bytes(off - len(self.pmodel)))
        self.pmodel[off:off + n] = data
        self.check(f"pread after pwrite {n} @ {off} of {self.priv}", data,
                   os.pread(self.pfd, n, off))

    def priv_read(self):
        r = self.rng
        off = r.randrange(0, len(self.pmodel) + 100)
        n = r.randrange(1, 128 * KiB)
        self.check(f"pread {n} @ {off} of {self.priv}", self.pmodel[off:off + n],
                   os.pread(self.pfd, n, off))

    def priv_truncate(self):
        new = self.rng.randrange(0, 300 * KiB)
        os.ftruncate(self.pfd, new)
        if new < len(self.pmodel):
            del self.pmodel[new:]
        else:
            self.pmodel.extend(bytes(new - len(self.pmodel)))
        st = os.fstat(self.pfd).st_size
        if st != new:
            self.bad(f"{self.priv}: st_size {st} after ftruncate to {new}")

    def priv_mmap(self):
        size = len(self.pmodel)
        if not size:
            return
        r = self.rng
        a = r.randrange(0, size)
        b = min(size, a + r.randrange(1, 64 * KiB))
        data = r.randbytes(b - a)
        with mmap.mmap(self.pfd, size) as m:
            m[a:b] = data
            if r.random() < 0.5:
                m.flush()
            self.pmodel[a:b] = data
            c = r.randrange(0, size)
            self.check(f"mmap load of {self.priv}", self.pmodel[c:c + 4096], m[c:c + 4096])

    def priv_reopen(self):
        os.close(self.pfd)
        self.pfd = os.open(self.priv, os.O_RDWR)
        if self.rng.random() < 0.5:
            os.fsync(self.pfd)
            os.posix_fadvise(self.pfd, 0, 0, os.POSIX_FADV_DONTNEED)
        self.check(f"whole {self.priv} after reopen", self.pmodel,
                   os.pread(self.pfd, len(self.pmodel) + 1, 0))

    # ------------------------------------------------------------ view slice
    def view_write(self):
        r = self.rng
        off = r.randrange(0, self.a.slice)
        n = min(self.a.slice - off, r.randrange(1, 32 * KiB))
        data = r.randbytes(n)
        if os.pwrite(self.vfd, data, self.vbase + off) != n:
            self.bad(f"short pwrite {n} @ {self.vbase + off} to the view")
        self.vmodel[off:off + n] = data

    def view_mmap(self):
        r = self.rng
        with mmap.mmap(self.vfd, self.a.slice, offset=self.vbase) as m:
            off = r.randrange(0, self.a.slice)
            n = min(self.a.slice - off, r.randrange(1, 16 * KiB))
            data = r.randbytes(n)
            m[off:off + n] = data
            self.vmodel[off:off + n] = data
            if r.random() < 0.5:
                m.flush()
            self.check("view slice through mmap", self.vmodel, m[:])

    def view_read(self):
        r = self.rng
        if r.random() < 0.5:
            self.check(f"view slice at {self.vbase}", self.vmodel,
                       os.pread(self.vfd, self.a.slice, self.vbase))
        else:  # anywhere in the view, racing the other threads' writes
            os.pread(self.vfd, r.randrange(1, 256 * KiB), r.randrange(0, 8 * MiB))

    def view_fsync(self):
        os.fsync(self.vfd)
        got = os.pread(self.bfd, self.a.slice, self.a.offset + self.vbase)
        self.check(f"backing file at view offset {self.vbase} after fsync", self.vmodel, got)

    # ------------------------------------------------------------ shared pool
    def pool_create(self):
        fd = os.open(self.name(), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        os.pwrite(fd, self.rng.randbytes(self.rng.randrange(1, 8192)), 0)
        os.close(fd)

    def pool_write(self):
        fd = os.open(self.name(), os.O_WRONLY)
        try:
            r = self.rng
            os.pwrite(fd, r.randbytes(r.randrange(1, 128 * KiB)), r.randrange(0, MiB))
        finally:
            os.close(fd)

    def pool_read(self):
        fd = os.open(self.name(), os.O_RDONLY)
        try:
            os.pread(fd, 256 * KiB, self.rng.randrange(0, MiB))
        finally:
            os.close(fd)

    def pool_truncate(self):
        os.truncate(self.name(), self.rng.randrange(0, 2 * MiB))

    def pool_rename(self):
        r = self.rng.random()
        if r < 0.6:
            os.rename(self.name(), self.name())
        elif r < 0.8:
            renameat2(self.name(), self.name(), RENAME_NOREPLACE)
        else:
            renameat2(self.name(), self.name(), RENAME_EXCHANGE)

    def pool_link(self):
        os.link(self.name(), self.name())

    def pool_unlink(self):
        os.unlink(self.name())

    def pool_mkdir(self):
        os.mkdir(self.name())

    def pool_rmdir(self):
        os.rmdir(self.name())

    def pool_xattr(self):
        n, k, r = self.name(), f"user.k{self.rng.randrange(4)}", self.rng.random()
        if r < 0.4:
            os.setxattr(n, k, self.rng.randbytes(self.rng.randrange(0, 512)))
        elif r < 0.6:
            os.getxattr(n, k)
        elif r < 0.8:
            os.listxattr(n)
        elif r < 0.9:
            os.removexattr(n, k)
        else:  # an access ACL: user::rw- user:1000:r-- group::r-- mask::r-- other::---
            os.setxattr(n, "system.posix_acl_access", ACL_NAMED)

    def pool_tmpfile(self):
        d = f"{self.pool}/d{self.rng.randrange(4)}"
        fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
        try:
            os.pwrite(fd, self.rng.randbytes(self.rng.randrange(1, 8192)), 0)
            if _libc.linkat(fd, b"", -100, self.name().encode(), 0x1000) != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e), "linkat")
        finally:
            os.close(fd)

    def pool_stat(self):
        d = f"{self.pool}/d{self.rng.randrange(4)}"
        for e in os.listdir(d):
            try:
                os.lstat(f"{d}/{e}")
            except OSError as ex:
                if ex.errno != errno.ENOENT:
                    raise

    # ------------------------------------------------------------ control plane
    def control(self):
        r = self.rng
        k = r.randrange(8)
        cmd = r.choice((f"region cr{k} size=1M", f"region cr{k} size=1M", f"remove cr{k}",
                        "flush all", f"flush {self.a.view}"))
        fd = os.open(os.path.join(self.a.mnt, ".regionfs/control"), os.O_WRONLY)
        try:
            os.write(fd, (cmd + "\n").encode())
        finally:
            os.close(fd)

    def stats(self):
        f = self.rng.choice(("stats", "metrics"))
        with open(os.path.join(self.a.mnt, ".regionfs", f), "rb") as fh:
            text = fh.read()
        if not text:
            self.bad(f".regionfs/{f} is empty")

    def ctl_region_io(self):
        r = self.rng
        path = os.path.join(self.a.mnt, f"cr{r.randrange(8)}")
        fd = os.open(path, os.O_RDWR)
        try:
            if r.random() < 0.5:
                with mmap.mmap(fd, MiB) as m:  # size is fixed at 1 MiB: no SIGBUS
                    off = r.randrange(0, MiB - 4096)
                    m[off:off + 4096] = r.randbytes(4096)
            else:
                os.pwrite(fd, r.randbytes(4096), r.randrange(0, MiB - 4096))
                os.pread(fd, 65536, r.randrange(0, MiB))
        finally:
            os.close(fd)

    # ------------------------------------------------------------ driving
    def run(self):
        table = [
            (self.priv_write, 10), (self.priv_read, 8), (self.priv_truncate, 2),
            (self.priv_mmap, 5), (self.priv_reopen, 1),
            (self.view_write, 6), (self.view_mmap, 3), (self.view_read, 5), (self.view_fsync, 1),
            (self.pool_create, 6), (self.pool_write, 6), (self.pool_read, 6),
            (self.pool_truncate, 3), (self.pool_rename, 6), (self.pool_link, 2),
            (self.pool_unlink, 5), (self.pool_mkdir, 2), (self.pool_rmdir, 2),
            (self.pool_stat, 2), (self.pool_xattr, 4), (self.pool_tmpfile, 1),
            (self.control, 3), (self.stats, 2), (self.ctl_region_io, 3),
        ]
        funcs = [f for f, _ in table]
        weights = [w for _, w in table]
        try:
            while time.monotonic() < self.deadline:
                op = self.rng.choices(funcs, weights)[0]
                self.busy_since = time.monotonic()
                try:
                    op()
                except OSError as e:
                    if racy(op.__name__, e.errno):
                        self.racy += 1
                    else:
                        self.bad(f"{op.__name__}: {errno.errorcode.get(e.errno, e.errno)}: {e}")
                self.busy_since = None
                self.ops += 1
                self.counts[op.__name__] += 1
            # the end: the private file and the view slice, read fresh
            self.busy_since = time.monotonic()
            self.priv_reopen()
            os.fsync(self.vfd)
            fd = os.open(self.view, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            self.check("view slice at the end", self.vmodel,
                       os.pread(fd, self.a.slice, self.vbase))
            os.close(fd)
            self.view_fsync()
            self.busy_since = None
        except Exception as e:  # noqa: BLE001 - every failure is reported
            self.errors.append(f"{type(e).__name__}: {e}")
            self.busy_since = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnt", required=True)
    ap.add_argument("--id", type=int, required=True)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--progress", required=True)
    ap.add_argument("--view", default="v")
    ap.add_argument("--backing", required=True)
    ap.add_argument("--offset", type=int, required=True)
    ap.add_argument("--slice", type=int, default=256 * KiB)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    errors = []
    deadline = time.monotonic() + a.seconds
    workers = [Worker(a, t, deadline, errors) for t in range(a.threads)]
    for w in workers:
        w.start()

    def report():
        now = time.monotonic()
        stall = max((now - w.busy_since for w in workers if w.busy_since is not None),
                    default=0.0)
        tmp = a.progress + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{sum(w.ops for w in workers)} {stall:.1f}\n")
        os.replace(tmp, a.progress)

    while any(w.is_alive() for w in workers):
        report()
        for w in workers:
            w.join(0.5 / len(workers))
    report()
    counts = collections.Counter()
    for w in workers:
        counts.update(w.counts)
    ops = sum(w.ops for w in workers)
    racy = sum(w.racy for w in workers)
    print(f"proc {a.id}: {ops} ops ({racy} racy errors): "
          + " ".join(f"{k}={v}" for k, v in sorted(counts.items())), flush=True)
    for e in errors:
        print(f"proc {a.id}: FAILED: {e}", file=sys.stderr, flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
