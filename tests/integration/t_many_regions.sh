#!/usr/bin/env bash
# Many regions, few descriptors: with the store on tmpfs a region holds no
# daemon descriptor while unused, so 100,000 regions live in a daemon whose
# descriptor limit is 1,024 (prlimit); they are created, listed, read back
# and removed, df -i tells the truth and unmount exits 0. Where descriptors
# do run out (memfd regions, or regions held open through the daemon), the
# client gets ENFILE, never EMFILE (which would blame its own table), and
# the daemon still unmounts and stops on SIGTERM with status 0.
. "$(dirname "$0")/lib.sh"

W=$RFS_WORK
# The full count once; the other passes (transports, data paths, sanitizers)
# check the same with fewer.
N=100000
[[ -z ${RFS_MOUNT_OPTS:-} && -z ${SANITIZE:-} ]] || N=20000
[[ -z ${RFS_SOAK:-} ]] || N=300000
command -v prlimit >/dev/null || skip "prlimit missing (util-linux)"

fds() { find "/proc/$RFS_PID/fd" -mindepth 1 | wc -l; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$RFS_PID/status"; }

rfs_mount -o size=1G
prlimit --pid "$RFS_PID" --nofile=1024:1024
assert_eq "1024:1024" "$(prlimit --pid "$RFS_PID" --nofile -o SOFT,HARD --noheadings | tr -s ' ' ':' | sed 's/^://')" "daemon descriptor limit"
python3 - "$MNT/many" "$N" <<'EOF2' || fail "$N regions"
import errno, os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.mkdir(d)
for i in range(n):
    fd = os.open("%s/r %06d" % (d, i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"%08d" % i)
    os.close(fd)
names = os.listdir(d)
assert len(names) == n, "listed %d of %d" % (len(names), n)
for i in range(0, n, 7):
    with open("%s/r %06d" % (d, i), "rb") as f:
        assert f.read() == b"%08d" % i, "region %d reads back wrong" % i
EOF2
used=$(fds)
((used < 64)) || fail "the daemon holds $used descriptors with $N regions"
read -r files ifree < <(python3 -c 'import os,sys; s=os.statvfs(sys.argv[1]); print(s.f_files, s.f_ffree)' "$MNT")
(((files - ifree) >= N && (files - ifree) < N + 16)) || fail "df -i: $((files - ifree)) inodes used with $N regions"
rss=$(rss_kib)
echo "# $N regions: daemon $used descriptors, RSS $((rss / 1024)) MiB, df -i used $((files - ifree))"
ok "$N regions at a 1,024-descriptor limit: created, listed, read back; $used daemon descriptors, RSS $((rss / 1024)) MiB"
rm -r "$MNT/many"
assert_eq "" "$(ls "$MNT")" "entries after rm -r"
ok "$N regions removed"
rfs_unmount
ok "unmount with the limit at 1,024 exits 0"

# Descriptors do run out here: memfd regions (one each for life) and
# regions served by the daemon (one each while open).
for opts in "passthrough=off,store=memfd" "passthrough=off"; do
	rfs_mount -o "size=64M,$opts"
	prlimit --pid "$RFS_PID" --nofile=256:256
	python3 - "$MNT" "$opts" <<'EOF2' || fail "-o $opts: descriptors exhausted"
import errno, os, sys
mnt, opts = sys.argv[1], sys.argv[2]
held, err = [], None
for i in range(2000):
    try:
        held.append(os.open("%s/f%d" % (mnt, i), os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as e:
        err = e
        break
assert err is not None, "2000 files with 256 daemon descriptors"
assert err.errno == errno.ENFILE, "%s: got %s, want ENFILE" % (opts, errno.errorcode.get(err.errno))
assert len(held) < 1000 and len(held) > 100, "%d opens before ENFILE" % len(held)
# The client's own table is fine: it still opens files elsewhere.
os.close(os.open("/dev/null", os.O_RDONLY))
print("# -o %s: ENFILE after %d files" % (opts, len(held)))
for fd in held:
    os.close(fd)
EOF2
	rfs_alive || fail "-o $opts: daemon gone at its descriptor limit"
	ok "-o $opts: out of daemon descriptors, the client gets ENFILE and the daemon serves on"
	if [[ $opts == *memfd* ]]; then
		rfs_unmount
		ok "-o $opts: unmount at the descriptor limit exits 0"
	else
		kill -TERM "$RFS_PID"
		wait_until 10 bash -c "! kill -0 $RFS_PID 2>/dev/null" || fail "SIGTERM at the limit: daemon still running"
		rfs_unmount
		ok "-o $opts: SIGTERM at the descriptor limit: status 0"
	fi
done
