#!/usr/bin/env python3
"""Model-checked random operations on one regionfs file (a region or a view).

    rfs_model.py --path FILE --kind region|view [--backing PATH --offset N]
                 --ops N --seed S [--max-size BYTES] [--verbose]

Every operation is done on FILE and on an in-memory model (a bytearray), and
every answer is checked against the model:

  pread / pwrite   random offsets and lengths, unaligned, biased towards page
                   ends and (views) the 2 MiB chunk boundaries of the backing
                   file, also past the end (EOF for reads; for views EFBIG
                   for writes that start at or past the end, a short write for
                   those that straddle it)
  ftruncate        regions: grow and shrink; views: their own size succeeds,
                   any other size fails with EPERM
  mmap             MAP_SHARED of a random page-aligned range; reads and stores
                   of random sub-ranges, sometimes msync
  fsync            on the open descriptor; for views the backing file's window
                   is then read directly (not through regionfs) and compared
  second fd        a pread through a separate descriptor (and fstat)
  reopen           every 30..70 operations the descriptor is closed and the file
                   opened again; sometimes a fresh descriptor drops the page cache
                   (fsync + POSIX_FADV_DONTNEED) first, so that the answers come
                   from the daemon and not from the kernel's cache

After every operation st_size is compared with the model. For a view, the model
starts as the backing file's window (read directly), so --seed replays a run
exactly as long as the backing file starts with the same bytes.

On a mismatch prints the seed, the operation's index, the last operations and a
diff, and exits 1; exit 0 and a line with the ops/s otherwise.
"""

import argparse
import collections
import errno
import mmap
import os
import random
import sys
import time

PAGE = mmap.PAGESIZE
ALLOC = mmap.ALLOCATIONGRANULARITY
CHUNK = 2 << 20  # regionfs maps views' backing files in 2 MiB chunks
MiB = 1 << 20


class Mismatch(Exception):
    pass


def ename(e):
    return errno.errorcode.get(e, str(e))


def diff_text(want, got, base=0):
    """A short description of how GOT differs from WANT."""
    want, got = bytes(want), bytes(got)
    n = min(len(want), len(got))
    first = next((i for i in range(n) if want[i] != got[i]), n)
    if first == n and len(want) == len(got):
        return "identical"
    last = first
    ndiff = 0
    for i in range(first, n):
        if want[i] != got[i]:
            ndiff += 1
            last = i
    lines = [f"got {len(got)} bytes, want {len(want)}; {ndiff} bytes differ in the common "
             f"part, first at +{first} (offset {base + first}), last at +{last} "
             f"(offset {base + last})"]
    a = max(0, first - first % 16)
    for row in range(a, min(max(len(want), len(got)), a + 64), 16):
        lines.append(f"  {base + row:>12}  want {want[row:row + 16].hex(' ') or '(eof)'}")
        lines.append(f"  {'':>12}  got  {got[row:row + 16].hex(' ') or '(eof)'}")
    return "\n".join(lines)


class Model:
    def __init__(self, args, rng):
        self.path = args.path
        self.view = args.kind == "view"
        self.rng = rng
        self.max = args.max_size
        self.verbose = args.verbose
        self.log = collections.deque(maxlen=25)
        self.index = -1
        self.counts = collections.Counter()
        self.times = collections.Counter()
        self.backing_checks = 0
        self.bfd = -1
        if self.view:
            self.fd = os.open(self.path, os.O_RDWR)
            self.size = os.fstat(self.fd).st_size
            self.boff = args.offset
            self.bfd = os.open(args.backing, os.O_RDONLY)
            self.model = bytearray(os.pread(self.bfd, self.size, self.boff))
            if len(self.model) != self.size:
                raise Mismatch(f"backing file {args.backing} holds {len(self.model)} bytes "
                               f"at offset {self.boff}, the view has st_size {self.size}")
            # view offsets where the backing file's 2 MiB chunks begin
            first = (-self.boff) % CHUNK
            self.bounds = list(range(first, self.size, CHUNK)) or [0]
            self.max = self.size
        else:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            self.model = bytearray()
            self.bounds = []

    # ------------------------------------------------------------ checking
    def check(self, what, want, got, base=0):
        if bytes(want) != bytes(got):
            raise Mismatch(f"{what}: content differs from the model:\n{diff_text(want, got, base)}")

    def check_size(self, fd, what):
        st = os.fstat(fd).st_size
        if st != len(self.model):
            raise Mismatch(f"{what}: st_size {st}, model {len(self.model)}")

    def expect_errno(self, what, want, f, *args):
        try:
            r = f(*args)
        except OSError as e:
            if e.errno == want:
                return
            raise Mismatch(f"{what}: expected {ename(want)}, got {ename(e.errno)} ({e})")
        raise Mismatch(f"{what}: expected {ename(want)}, succeeded ({r!r:.40})")

    def read_all(self, fd, size_hint):
        parts, off = [], 0
        while True:
            b = os.pread(fd, max(MiB, size_hint - off), off)
            if not b:
                return b"".join(parts)
            parts.append(b)
            off += len(b)

    # ------------------------------------------------------------ choosing
    def offset(self, inside=False):
        """Mostly inside the file, sometimes at/past its end (unless INSIDE);
        biased to page ends and, for views, to the backing file's chunk bounds."""
        size = len(self.model)
        rng = self.rng
        r = rng.random()
        if self.view and r < 0.3:
            off = rng.choice(self.bounds) + rng.randrange(-PAGE - 3, PAGE + 3)
        elif r < 0.45 and size:
            off = rng.randrange(0, size + 1) // PAGE * PAGE + rng.choice((0, 0, -1, 1, -7, 13))
        elif r < 0.55 and not inside:
            off = size + rng.randrange(0, (64 << 10) if self.view else (512 << 10))
        else:
            off = rng.randrange(0, size + 1)
        if inside:
            hi = max(0, size - 1)
        else:
            hi = size + (64 << 10) if self.view else self.max
        return max(0, min(off, hi))

    def length(self):
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            return rng.randrange(1, 128)
        if r < 0.75:
            return rng.randrange(1, 64 << 10)
        if r < 0.85:
            return PAGE * rng.randrange(1, 16)
        if r < 0.95:
            return rng.randrange(1, MiB)
        return rng.randrange(MiB, 3 * MiB)  # spans a chunk boundary or two

    def model_write(self, off, data):
        if off > len(self.model):
            self.model.extend(bytes(off - len(self.model)))
        self.model[off:off + len(data)] = data

    def model_resize(self, size):
        if size < len(self.model):
            del self.model[size:]
        else:
            self.model.extend(bytes(size - len(self.model)))

    # ------------------------------------------------------------ operations
    def op_pwrite(self):
        off = self.offset()
        n = self.length()
        if not self.view:
            n = min(n, self.max - off)
            if n <= 0:
                return f"pwrite skipped ({off} at max)"
        data = self.rng.randbytes(n)
        size = len(self.model)
        if self.view and off >= size:
            self.expect_errno(f"pwrite {n} @ {off} (view size {size})", errno.EFBIG,
                              os.pwrite, self.fd, data, off)
            return f"pwrite {n} @ {off} -> EFBIG"
        want = min(n, size - off) if self.view else n
        done = os.pwrite(self.fd, data, off)
        if done != want:
            raise Mismatch(f"pwrite {n} @ {off}: returned {done}, want {want} (size {size})")
        self.model_write(off, data[:done])
        return f"pwrite {n} @ {off} = {done}"

    def op_pread(self):
        off = self.offset()
        n = self.length()
        got = os.pread(self.fd, n, off)
        self.check(f"pread {n} @ {off}", self.model[off:off + n], got, off)
        return f"pread {n} @ {off} = {len(got)}"

    def op_truncate(self):
        size = len(self.model)
        rng = self.rng
        if self.view:
            if rng.random() < 0.3:
                os.ftruncate(self.fd, size)
                return f"ftruncate to its own size {size}"
            new = rng.choice((0, size - 1, size + 1, size + rng.randrange(1, 4 * MiB),
                              rng.randrange(0, size)))
            new = max(0, new) if new != size else size + 1
            self.expect_errno(f"ftruncate view {size} -> {new}", errno.EPERM,
                              os.ftruncate, self.fd, new)
            return f"ftruncate {size} -> {new} -> EPERM"
        r = rng.random()
        if r < 0.3:
            new = rng.randrange(0, size + 1)
        elif r < 0.6:
            new = min(self.max, size + rng.randrange(0, 2 * MiB))
        elif r < 0.8:
            new = max(0, min(self.max, size + rng.randrange(-PAGE - 5, PAGE + 5)))
        else:
            new = rng.randrange(0, self.max + 1)
        os.ftruncate(self.fd, new)
        self.model_resize(new)
        return f"ftruncate {size} -> {new}"

    def map_range(self):
        """A page-aligned mapping [start, end) and an access range inside it."""
        size = len(self.model)
        rng = self.rng
        start = self.offset(inside=True) // ALLOC * ALLOC
        end = size if rng.random() < 0.5 else min(size, start + rng.randrange(1, 4 * MiB))
        a = rng.randrange(start, end)
        b = min(end, a + self.length())
        return start, end, a, b

    def op_mmap_read(self):
        if not self.model:
            return "mmap read skipped (empty)"
        start, end, a, b = self.map_range()
        with mmap.mmap(self.fd, end - start, offset=start) as m:
            got = m[a - start:b - start]
        self.check(f"mmap [{start}, {end}) read [{a}, {b})", self.model[a:b], got, a)
        return f"mmap [{start}, {end}) read [{a}, {b})"

    def op_mmap_write(self):
        if not self.model:
            return "mmap write skipped (empty)"
        start, end, a, b = self.map_range()
        data = self.rng.randbytes(b - a)
        sync = self.rng.random() < 0.4
        with mmap.mmap(self.fd, end - start, offset=start) as m:
            m[a - start:b - start] = data
            if sync:
                m.flush()
            if self.rng.random() < 0.3:  # read it back through the mapping
                self.check(f"mmap [{start}, {end}) store+load [{a}, {b})", data,
                           m[a - start:b - start], a)
        self.model[a:b] = data
        return f"mmap [{start}, {end}) store [{a}, {b})" + (" + msync" if sync else "")

    def check_backing(self, what, whole):
        """The view's backing file, read directly, matches the model."""
        size = len(self.model)
        if whole:
            a, b = 0, size
        else:
            a = self.offset(inside=True)
            b = min(size, a + self.length())
        got = os.pread(self.bfd, b - a, self.boff + a)
        self.backing_checks += 1
        self.check(f"{what}: backing file window [{a}, {b})", self.model[a:b], got, a)

    def op_fsync(self):
        os.fsync(self.fd)
        if self.view:
            whole = self.rng.random() < 0.2
            self.check_backing("after fsync", whole)
            return "fsync + backing check" + (" (whole)" if whole else "")
        return "fsync"

    def op_second_fd(self):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            off = self.offset()
            n = self.length()
            got = os.pread(fd, n, off)
            self.check(f"second fd pread {n} @ {off}", self.model[off:off + n], got, off)
            self.check_size(fd, "second fd fstat")
        finally:
            os.close(fd)
        return f"second fd pread {n} @ {off}"

    def op_reopen(self):
        os.close(self.fd)
        drop = self.rng.random() < 0.5
        if drop:
            # a fresh descriptor: write back what the kernel holds, then drop it
            fd = os.open(self.path, os.O_RDONLY)
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)
        if self.view:
            self.check_backing("after close", whole=True)
        self.fd = os.open(self.path, os.O_RDWR)
        self.check_size(self.fd, "after reopen")
        self.reopens = getattr(self, "reopens", 0) + 1
        if drop or self.reopens % 8 == 0:
            got = self.read_all(self.fd, len(self.model))
            self.check("after reopen: whole file", self.model, got)
            return "reopen" + (" + DONTNEED" if drop else "") + ", whole file checked"
        a = self.offset(inside=True)
        b = min(len(self.model), a + MiB)
        got = os.pread(self.fd, b - a, a)
        self.check(f"after reopen: [{a}, {b})", self.model[a:b], got, a)
        return f"reopen, [{a}, {b}) checked"

    # ------------------------------------------------------------ driving
    def run(self, nops, progress):
        ops = [(self.op_pwrite, 30), (self.op_pread, 25), (self.op_truncate, 6),
               (self.op_mmap_read, 9), (self.op_mmap_write, 10), (self.op_fsync, 4),
               (self.op_second_fd, 4)]
        funcs = [f for f, _ in ops]
        cum = []
        t = 0
        for _, w in ops:
            t += w
            cum.append(t)
        rng = self.rng
        next_reopen = rng.randrange(30, 70)
        t0 = last = time.monotonic()
        for i in range(nops):
            self.index = i
            if i == next_reopen:
                op = self.op_reopen
                next_reopen = i + rng.randrange(30, 70)
            else:
                op = rng.choices(funcs, cum_weights=cum)[0]
            self.log.append((i, op.__name__[3:]))
            t1 = time.monotonic()
            what = op()
            self.log[-1] = (i, what)
            self.counts[op.__name__[3:]] += 1
            self.times[op.__name__[3:]] += time.monotonic() - t1
            if self.verbose:
                print(f"{i}: {what}", flush=True)
            self.check_size(self.fd, f"after {what}")
            if progress and i % 1000 == 999:
                now = time.monotonic()
                if now - last >= progress:
                    print(f"# rfs_model: {i + 1}/{nops} ops, {(i + 1) / (now - t0):.0f} ops/s, "
                          f"size {len(self.model)}", flush=True)
                    last = now
        # the end: everything the kernel holds written back and dropped
        self.index = nops
        self.log.append((nops, "final check"))
        os.fsync(self.fd)
        os.close(self.fd)
        fd = os.open(self.path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        self.check_size(fd, "at the end")
        got = self.read_all(fd, len(self.model))
        os.close(fd)
        self.check("at the end: whole file", self.model, got)
        if self.view:
            self.check_backing("at the end", whole=True)
            os.close(self.bfd)
        return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--path", required=True, help="the regionfs file")
    ap.add_argument("--kind", choices=("region", "view"), required=True)
    ap.add_argument("--backing", help="a view's backing file (read directly to check it)")
    ap.add_argument("--offset", type=int, default=0, help="the view's offset in --backing")
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-size", type=int, default=8 << 20,
                    help="regions: largest size the file grows to (default 8 MiB)")
    ap.add_argument("--progress", type=float, default=0,
                    help="print progress every this many seconds (0: never)")
    ap.add_argument("--verbose", action="store_true", help="print every operation")
    args = ap.parse_args()
    if args.kind == "view" and not args.backing:
        ap.error("--kind view needs --backing")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    replay = (f"{sys.argv[0]} --path {args.path} --kind {args.kind} --ops {args.ops} "
              f"--seed {seed} --max-size {args.max_size}")
    if args.kind == "view":
        replay += f" --backing {args.backing} --offset {args.offset}"
    print(f"# rfs_model: {args.kind} {args.path}, seed {seed}, {args.ops} ops", flush=True)
    m = None
    try:
        m = Model(args, random.Random(seed))
        took = m.run(args.ops, args.progress)
    except (Mismatch, OSError) as e:
        print(f"rfs_model FAILED: seed {seed}, op {m.index if m else -1}: "
              f"{type(e).__name__}: {e}", file=sys.stderr)
        if m:
            print("last operations:", file=sys.stderr)
            for i, what in m.log:
                print(f"  {i}: {what}", file=sys.stderr)
        print(f"replay: {replay}", file=sys.stderr)
        return 1
    counts = " ".join(f"{k}={v} ({m.times[k]:.1f}s)" for k, v in sorted(m.counts.items()))
    extra = f", {m.backing_checks} backing-file checks" if args.kind == "view" else ""
    print(f"# rfs_model: seed {seed}: {args.ops} ops ok in {took:.1f} s "
          f"({args.ops / took:.0f} ops/s), final size {len(m.model)}{extra}; {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
