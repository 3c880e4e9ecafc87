#!/usr/bin/env python3
"""What a window costs its region: 4 KiB pread/pwrite latency of one region
of a mounted regionfs without a window (the kernel serves it when it can)
and with one (the daemon serves it: lib/regwin.h), in one process.

    tests/bench/window_latency.py MOUNTPOINT [N]

MOUNTPOINT is a regionfs mounted by the caller (the mount is not touched
otherwise); the script makes a 64 MiB region `lat`, measures, makes a window
`lat.w` of it, measures again, and removes both. Prints median and p99 in
microseconds per case: warm reads (every page read once before), cold reads
(first touch of each page through this open), writes.
"""
import os
import random
import sys
import time

SIZE = 64 << 20
BS = 4096


def ctl(mnt, line):
    with open(os.path.join(mnt, ".regionfs", "control"), "w") as f:
        f.write(line + "\n")


def served_by(mnt):
    with open(os.path.join(mnt, ".regionfs", "metrics")) as f:
        for line in f:
            if line.startswith("regionfs_regions_info{"):
                return line.split('served_by="')[1].split('"')[0]
    return "?"


def timed(fn, offsets):
    out = []
    for off in offsets:
        t = time.perf_counter_ns()
        fn(off)
        out.append(time.perf_counter_ns() - t)
    out.sort()
    return out[len(out) // 2] / 1000, out[len(out) * 99 // 100] / 1000


def measure(path, n):
    pages = SIZE // BS
    buf = os.urandom(BS)
    fd = os.open(path, os.O_RDWR)
    try:
        cold = random.sample(range(pages), n)
        r_cold = timed(lambda p: os.pread(fd, BS, p * BS), cold)
        warm = [random.randrange(pages) for _ in range(n)]
        for p in warm:
            os.pread(fd, BS, p * BS)
        r_warm = timed(lambda p: os.pread(fd, BS, p * BS), warm)
        w = timed(lambda p: os.pwrite(fd, buf, p * BS), [random.randrange(pages) for _ in range(n)])
    finally:
        os.close(fd)
    return r_warm, r_cold, w


def main():
    mnt = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    region = os.path.join(mnt, "lat")
    ctl(mnt, "region lat size=64M")
    try:
        with open(region, "r+b") as f:  # every page allocated, as in use
            for off in range(0, SIZE, 1 << 20):
                f.seek(off)
                f.write(os.urandom(1 << 20))
        print("mount: regions served by the %s; N = %d per case" % (served_by(mnt), n))
        print("%-28s %18s %18s %18s" % ("case (median / p99 us)", "warm read 4K",
                                         "cold read 4K", "write 4K"))
        rows = [("region, no window", measure(region, n))]
        ctl(mnt, "view lat.w region=lat offset=4097 length=1M access=ro")
        try:
            rows.append(("region with a window", measure(region, n)))
        finally:
            ctl(mnt, "remove lat.w")
        for name, (rw, rc, w) in rows:
            print("%-28s %8.1f / %7.1f %8.1f / %7.1f %8.1f / %7.1f" % (name, *rw, *rc, *w))
    finally:
        ctl(mnt, "remove lat")


if __name__ == "__main__":
    main()
