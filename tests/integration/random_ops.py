#!/usr/bin/env python3
"""Randomized operations on one region file, checked against an in-memory model.

    random_ops.py PATH [--ops N] [--seed S] [--max-size BYTES]

Does N random operations (pwrite at random offsets and lengths, also past EOF
so holes appear; pread; ftruncate up and down; mmap reads and stores of a
random range) and checks every read and the size after every operation against
a bytearray. Every ~50 operations it closes and reopens the file, sometimes
dropping the page cache (POSIX_FADV_DONTNEED) or reading through a second
descriptor, and compares the whole content, so the kernel page cache cannot
hide a wrong answer from the daemon. Prints the seed; replay with --seed.
"""

import argparse
import mmap
import os
import random
import sys
import time

PAGE = mmap.PAGESIZE


class Mismatch(Exception):
    pass


def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class Runner:
    def __init__(self, path, rng, max_size):
        self.path = path
        self.rng = rng
        self.max = max_size
        self.model = bytearray()
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self.log = []

    # --- helpers
    def check(self, what, want, got):
        if bytes(want) != bytes(got):
            i = first_diff(want, got)
            raise Mismatch(
                f"{what}: {len(got)} bytes read, {len(want)} expected; first difference at "
                f"+{i}: got {bytes(got[i:i + 16]).hex()} want {bytes(want[i:i + 16]).hex()}")

    def check_size(self, what):
        size = os.fstat(self.fd).st_size
        if size != len(self.model):
            raise Mismatch(f"{what}: fstat size {size}, model {len(self.model)}")

    def offset(self):
        """An offset mostly inside the file, sometimes past EOF, page-aligned at times."""
        size = len(self.model)
        r = self.rng.random()
        if r < 0.1 or size == 0:
            off = self.rng.randrange(0, min(self.max, size + 256 * 1024) + 1)
        elif r < 0.3:
            off = self.rng.randrange(0, size + 1) // PAGE * PAGE
        else:
            off = self.rng.randrange(0, size + 1)
        return min(off, self.max)

    def length(self):
        r = self.rng.random()
        if r < 0.4:
            return self.rng.randrange(1, 128)
        if r < 0.8:
            return self.rng.randrange(1, 64 * 1024)
        if r < 0.9:
            return PAGE * self.rng.randrange(1, 16)
        return self.rng.randrange(1, 1024 * 1024)

    def model_write(self, off, data):
        if off > len(self.model):
            self.model.extend(bytes(off - len(self.model)))
        self.model[off:off + len(data)] = data

    def model_resize(self, size):
        if size < len(self.model):
            del self.model[size:]
        else:
            self.model.extend(bytes(size - len(self.model)))

    # --- operations
    def op_pwrite(self):
        off = self.offset()
        n = min(self.length(), self.max - off)
        if n <= 0:
            return "pwrite skipped"
        data = self.rng.randbytes(n)
        done = os.pwrite(self.fd, data, off)
        if done != n:
            raise Mismatch(f"pwrite({n} @ {off}) wrote {done}")
        self.model_write(off, data)
        return f"pwrite {n} @ {off}"

    def op_pread(self):
        off = self.offset()
        n = self.length()
        got = os.pread(self.fd, n, off)
        self.check(f"pread {n} @ {off}", self.model[off:off + n], got)
        return f"pread {n} @ {off}"

    def op_truncate(self):
        size = len(self.model)
        r = self.rng.random()
        if r < 0.3:
            new = self.rng.randrange(0, size + 1)
        elif r < 0.6:
            new = min(self.max, size + self.rng.randrange(0, 2 * 1024 * 1024))
        elif r < 0.8:
            new = max(0, min(self.max, size + self.rng.randrange(-PAGE, PAGE)))
        else:
            new = self.rng.randrange(0, self.max + 1)
        os.ftruncate(self.fd, new)
        self.model_resize(new)
        return f"ftruncate {size} -> {new}"

    def mapped_range(self):
        size = len(self.model)
        a = self.rng.randrange(0, size)
        b = min(size, a + self.length())
        return a, b

    def op_mmap_read(self):
        if not self.model:
            return "mmap read skipped (empty)"
        a, b = self.mapped_range()
        with mmap.mmap(self.fd, len(self.model)) as m:
            got = m[a:b]
        self.check(f"mmap read [{a}, {b})", self.model[a:b], got)
        return f"mmap read [{a}, {b}) of {len(self.model)}"

    def op_mmap_write(self):
        if not self.model:
            return "mmap write skipped (empty)"
        a, b = self.mapped_range()
        data = self.rng.randbytes(b - a)
        with mmap.mmap(self.fd, len(self.model)) as m:
            m[a:b] = data
            if self.rng.random() < 0.5:
                m.flush()
        self.model[a:b] = data
        return f"mmap write [{a}, {b}) of {len(self.model)}"

    def op_second_fd(self):
        fd = os.open(self.path, os.O_RDONLY)
        try:
            off = self.offset()
            n = self.length()
            got = os.pread(fd, n, off)
            self.check(f"second fd pread {n} @ {off}", self.model[off:off + n], got)
            st = os.fstat(fd).st_size
            if st != len(self.model):
                raise Mismatch(f"second fd fstat size {st}, model {len(self.model)}")
        finally:
            os.close(fd)
        return f"second fd pread {n} @ {off}"

    def reopen(self):
        self.current = (self.current[0] + 1 if hasattr(self, "current") else 0, "reopen")
        os.close(self.fd)
        self.fd = os.open(self.path, os.O_RDWR)
        drop = self.rng.random() < 0.6
        if drop:
            os.fsync(self.fd)
            os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
        self.verify_all("after reopen" + (" and FADV_DONTNEED" if drop else ""))
        return "reopen" + (" + DONTNEED" if drop else "")

    def verify_all(self, when):
        st = os.stat(self.path).st_size
        if st != len(self.model):
            raise Mismatch(f"{when}: stat size {st}, model {len(self.model)}")
        fd = os.open(self.path, os.O_RDONLY)
        try:
            chunks = []
            off = 0
            while True:
                b = os.pread(fd, 1 << 20, off)
                if not b:
                    break
                chunks.append(b)
                off += len(b)
        finally:
            os.close(fd)
        self.check(f"{when}: whole file", self.model, b"".join(chunks))

    def run(self, nops):
        ops = [(self.op_pwrite, 30), (self.op_pread, 25), (self.op_truncate, 8),
               (self.op_mmap_read, 10), (self.op_mmap_write, 10), (self.op_second_fd, 5)]
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        next_reopen = self.rng.randrange(30, 70)
        for i in range(nops):
            if i == next_reopen:
                self.log.append((i, self.reopen()))
                next_reopen = i + self.rng.randrange(30, 70)
            op = self.rng.choices(funcs, weights)[0]
            self.current = (i, op.__name__)
            self.log.append((i, op()))
            self.check_size(f"op {i} ({self.log[-1][1]})")
        os.fsync(self.fd)
        os.close(self.fd)
        fd = os.open(self.path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        self.verify_all("at the end")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path")
    ap.add_argument("--ops", type=int, default=int(os.environ.get("RFS_OPS", "3000")))
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-size", type=int, default=8 << 20)
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    print(f"# random_ops: {args.path} seed {seed}, {args.ops} ops", flush=True)
    r = Runner(args.path, random.Random(seed), args.max_size)
    t0 = time.monotonic()
    try:
        r.run(args.ops)
    except (Mismatch, OSError) as e:
        print(f"random_ops FAILED (replay: random_ops.py PATH --seed {seed} --ops {args.ops}"
              f" --max-size {args.max_size}): {type(e).__name__}: {e}", file=sys.stderr)
        print("last operations:", file=sys.stderr)
        for i, what in r.log[-15:]:
            print(f"  {i}: {what}", file=sys.stderr)
        if getattr(r, "current", None):
            print(f"  failing op: {r.current[0]}: {r.current[1]}", file=sys.stderr)
        return 1
    print(f"# random_ops: seed {seed}: {args.ops} ops ok in {time.monotonic() - t0:.1f} s, "
          f"final size {len(r.model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
