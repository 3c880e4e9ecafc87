#!/usr/bin/env python3
"""Sample a process's memory every INTERVAL seconds while RUNFILE exists.

usage: view_sample.py PID FILE RUNFILE OUT [INTERVAL]

Writes to OUT (atomically, after every sample) one line of maxima, in KiB:
  VmRSS VmSize MAPPED
where MAPPED is the address space of PID's mappings of FILE (from
/proc/PID/maps). Stops when RUNFILE is gone or PID has exited.
"""
import os
import sys
import time


def status(pid):
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmSize"):
                vals[k] = int(v.split()[0])
    return vals.get("VmRSS", 0), vals.get("VmSize", 0)


def mapped(pid, ino):
    total = 0
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) >= 5 and int(fields[4]) == ino:
                lo, hi = fields[0].split("-")
                total += int(hi, 16) - int(lo, 16)
    return total // 1024


def main():
    pid, path, runfile, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    interval = float(sys.argv[5]) if len(sys.argv) > 5 else 0.2
    ino = os.stat(path).st_ino
    mx = [0, 0, 0]
    while os.path.exists(runfile):
        try:
            rss, vm = status(pid)
            m = mapped(pid, ino)
        except (FileNotFoundError, ProcessLookupError):
            break
        mx = [max(a, b) for a, b in zip(mx, (rss, vm, m))]
        with open(out + ".tmp", "w") as f:
            f.write("%d %d %d\n" % tuple(mx))
        os.replace(out + ".tmp", out)
        time.sleep(interval)


main()
