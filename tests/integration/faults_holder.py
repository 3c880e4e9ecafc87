#!/usr/bin/env python3
"""For t_faults_matrix.sh: keep mappings of regionfs files alive across the
faults and check them on request.

    faults_holder.py REGION [VIEW BACKING OFFSET]

Maps REGION (and VIEW, whose window starts at OFFSET of BACKING) MAP_SHARED,
fills them with random bytes through the mappings and msyncs. Then, for every
line "check TAG" on stdin: stores a fresh random page through each mapping,
msyncs, and compares (1) the mapping with the model, (2) the file read through a
fresh descriptor after the page cache was dropped, (3) for the view, the
backing file read directly. Answers "ok TAG" or "bad TAG: why" on stdout.
"quit" ends it.
"""

import mmap
import os
import random
import sys


class Held:
    def __init__(self, path, backing=None, offset=0):
        self.path, self.backing, self.offset = path, backing, offset
        self.fd = os.open(path, os.O_RDWR)
        self.size = os.fstat(self.fd).st_size
        self.map = mmap.mmap(self.fd, self.size)
        self.model = bytearray(os.urandom(self.size))
        self.map[:] = self.model
        self.map.flush()

    def check(self, rng):
        off = rng.randrange(0, self.size - 4096) // 4096 * 4096
        page = rng.randbytes(4096)
        self.map[off:off + 4096] = page
        self.model[off:off + 4096] = page
        self.map.flush()
        if self.map[:] != self.model:
            return f"{self.path}: the mapping lost bytes"
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            got = os.pread(fd, self.size + 1, 0)
        finally:
            os.close(fd)
        if got != self.model:
            return f"{self.path}: read through a fresh descriptor differs from the mapping"
        if self.backing:
            with open(self.backing, "rb") as f:
                f.seek(self.offset)
                if f.read(self.size) != self.model:
                    return f"{self.path}: backing file {self.backing} differs from the mapping"
        return None


def main():
    held = [Held(sys.argv[1])]
    if len(sys.argv) > 2:
        held.append(Held(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    rng = random.Random()
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        tag = words[1] if len(words) > 1 else "-"
        try:
            why = next((w for w in (h.check(rng) for h in held) if w), None)
        except OSError as e:
            why = f"{type(e).__name__}: {e}"
        print(f"bad {tag}: {why}" if why else f"ok {tag}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
