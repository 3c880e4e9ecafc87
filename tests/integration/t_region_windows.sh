#!/usr/bin/env bash
# Windows of regions (view NAME region=RNAME): two overlapping windows of one
# region (rw and ro) and a cow one, driven by several python3 processes:
# write() through the region seen by both windows' read() and by client
# mmaps of them; stores through a window's client mmap + msync seen by the
# region's read() and mapping, and the other way round; the region with
# windows served by the daemon, a region without by the kernel where it can
# (and windows refused on it with EBUSY while the kernel serves an open,
# which -o passthrough=off never does), back to the kernel once its windows
# are removed; ENXIO past the region's end, whatever the access; the region
# shrunk under its windows: EIO for the lost range, the daemon serves on;
# commit and discard of the cow window into the region; stats, metrics and
# xattrs name the backing region:NAME; a reload adds and drops windows.
. "$(dirname "$0")/lib.sh"

rfs_require
command -v getfattr >/dev/null || fail "getfattr missing (apt-get install attr)"
W=$RFS_WORK
KiB=1024
RW=4097   # w_rw is ring [4097, 4097 + 64K)
RO=32768  # w_ro is ring [32K, 96K): overlaps w_rw in [32K, 4097 + 64K)
COW=100   # w_cow is ring [100, 100 + 8K): overlaps w_rw in [4097, 8292)

cat >"$W/cfg.ini" <<EOF
[regionfs]
size = 64M

[region:ring]
size = 1M

[region:free]
size = 64K

[view:w_rw]
region = ring
offset = $RW
length = 64K
access = rw

[view:w_ro]
region = ring
offset = $RO
length = 64K
access = ro

[view:w_cow]
region = ring
offset = $COW
length = 8K
access = cow
EOF

rfs_mount -o xattr -c "$W/cfg.ini"
SB=$(rfs_served_by)
[[ $SB == kernel || $SB == daemon ]] || fail "served_by: '$SB'"
echo "# regions served by the $SB"
CTL=$MNT/.regionfs/control

ctl_result() { cat "$CTL"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$MNT/.regionfs/metrics"; }
windows_of() { metric "regionfs_region_windows{name=\"$1\",kind=\"region\",access=\"rw\",backing=\"\"}"; }
writes() { metric 'regionfs_requests_total{op="write"}'; }
# bytes FILE OFF LEN: LEN bytes of FILE at OFF, as hex, read by another process.
bytes() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); print(os.pread(fd, int(sys.argv[3]), int(sys.argv[2])).hex())' "$@"; }
# put FILE OFF HEX: pwrite by another process.
put() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); b=bytes.fromhex(sys.argv[3]); assert os.pwrite(fd, b, int(sys.argv[2])) == len(b)' "$@"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# daemon_serves FILE: does a write() to FILE reach the daemon?
daemon_serves() {
	local before
	before=$(writes)
	put "$1" 0 00
	(($(writes) > before))
}

# ---- what stats, metrics and xattrs say
line=$(awk '$1 == "w_rw" { print $2, $3, $4, $5, $6 }' "$MNT/.regionfs/stats")
assert_eq "view 65536 region:ring 4097 rw" "$line" "stats of w_rw"
line=$(awk '$1 == "w_ro" { print $2, $3, $4, $5, $6 }' "$MNT/.regionfs/stats")
assert_eq "view 65536 region:ring 32768 ro" "$line" "stats of w_ro"
assert_eq 65536 "$(metric 'regionfs_mapping_size_bytes{name="w_ro",kind="view",access="ro",backing="region:ring"}')" "metrics of w_ro"
assert_eq region:ring "$(getfattr --absolute-names --only-values -n user.regionfs.backing "$MNT/w_cow")" "xattr backing of w_cow"
assert_eq 3 "$(windows_of ring)" "windows of ring"
assert_eq 0 "$(windows_of free)" "windows of free"
ok "stats, metrics and xattrs show windows backed by region:ring, ring has 3"

# ---- who serves what: ring (windows) the daemon; free the kernel if it can
daemon_serves "$MNT/ring" || fail "a write to ring (it has windows) did not reach the daemon"
if [[ $SB == kernel ]]; then
	! daemon_serves "$MNT/free" || fail "a write to free (no windows) reached the daemon"
else
	daemon_serves "$MNT/free" || fail "-o passthrough=off: a write to free did not reach the daemon"
fi
ok "a region with windows is served by the daemon, one without by the $SB"

# ---- coherence both ways, across processes, with client mappings held
cat >"$W/coherence.py" <<'EOF'
import mmap, os, subprocess, sys

M = os.environ["MNT"]
RW, RO = 4097, 32768
K = 1024
# Another process that opened the three files before any change and reads
# them with pread on demand: what it sees comes from the caches as they are,
# not from a fresh open (which may start from an empty cache).
READER = """
import os, sys
fds = {n: os.open(sys.argv[1] + "/" + n, os.O_RDONLY) for n in ("w_rw", "w_ro", "ring")}
print("ready", flush=True)
for line in sys.stdin:
    name, off, n = line.split()
    print(os.pread(fds[name], int(n), int(off)).hex(), flush=True)
"""
WRITE = ("import os,sys; fd=os.open(sys.argv[1], os.O_WRONLY); b=bytes.fromhex(sys.argv[3]); "
         "assert os.pwrite(fd, b, int(sys.argv[2])) == len(b)")

reader = subprocess.Popen([sys.executable, "-c", READER, M], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
assert reader.stdout.readline() == "ready\n"

def read(name, off, n):
    reader.stdin.write("%s %d %d\n" % (name, off, n))
    reader.stdin.flush()
    return bytes.fromhex(reader.stdout.readline().strip())

def write(name, off, data):
    subprocess.run([sys.executable, "-c", WRITE, M + "/" + name, str(off), data.hex()],
                   check=True)

def want(what, got, data):
    if got != data:
        sys.exit("%s: expected %s, got %s" % (what, data.hex(), bytes(got).hex()))

f_rw = open(M + "/w_rw", "r+b")
m_rw = mmap.mmap(f_rw.fileno(), 64 * K)
f_ro = open(M + "/w_ro", "rb")
m_ro = mmap.mmap(f_ro.fileno(), 64 * K, prot=mmap.PROT_READ)
f_rg = open(M + "/ring", "r+b")
m_rg = mmap.mmap(f_rg.fileno(), 1024 * K)

def everyone_sees(at, data, how):
    n = len(data)
    want(how + ": w_rw mapping", m_rw[at - RW:at - RW + n], data)
    want(how + ": w_ro mapping", m_ro[at - RO:at - RO + n], data)
    want(how + ": ring mapping", m_rg[at:at + n], data)
    want(how + ": w_rw read()", read("w_rw", at - RW, n), data)
    want(how + ": w_ro read()", read("w_ro", at - RO, n), data)
    want(how + ": ring read()", read("ring", at, n), data)

# Fault every mapping in and cache the pages first: the changes must replace them.
for at in (40000, 50000, 60000, 65000):
    everyone_sees(at, bytes(m_rg[at:at + 16]), "before")
for i in range(3):
    data = os.urandom(16)
    write("ring", 40000, data)
    everyone_sees(40000, data, "write() to ring #%d" % i)
    data = os.urandom(16)
    write("w_rw", 50000 - RW, data)
    everyone_sees(50000, data, "write() to w_rw #%d" % i)
    data = os.urandom(16)
    m_rw[60000 - RW:60000 - RW + 16] = data
    m_rw.flush()
    everyone_sees(60000, data, "store + msync in w_rw's mapping #%d" % i)
    data = os.urandom(16)
    m_rg[65000:65000 + 16] = data
    m_rg.flush()
    everyone_sees(65000, data, "store + msync in ring's mapping #%d" % i)
reader.stdin.close()
reader.wait()
print("coherent")
EOF
assert_eq coherent "$(python3 "$W/coherence.py" 2>&1)" "coherence of ring, w_rw, w_ro"
ok "write() and mmap stores through the region or a window are seen by read() and mappings of all"

# ---- refused windows: past the end, of no region, of a view
for a in rw ro cow; do
	rfs_ctl_refused ENXIO "view bad region=ring offset=1M length=1 access=$a" \
		"view bad: the window lies past the end of region ring (windows never grow their region)"
	rfs_ctl_refused ENXIO "view bad region=ring offset=1020K length=5K access=$a" \
		"view bad: the window lies past the end of region ring (windows never grow their region)"
done
rfs_ctl_refused ENXIO "view bad region=ring offset=1M" \
	"view bad: the window lies past the end of region ring (windows never grow their region)"
assert_size "$MNT/ring" $((1024 * KiB))
[[ ! -e $MNT/bad ]] || fail "a refused window has a name"
rfs_ctl_refused ENOENT "view bad region=nope length=1" "view bad: no region nope"
rfs_ctl_refused EINVAL "view bad region=w_ro length=1" "view bad: w_ro is not a region"
ok "windows past the end are ENXIO whatever the access, and the region does not grow"

# ---- a window of a region open with kernel passthrough: EBUSY; then not
exec 7<"$MNT/free"
if [[ $SB == kernel ]]; then
	rfs_ctl_refused EBUSY "view fw region=free offset=1 length=4K access=rw" \
		"view fw: region free is open with kernel passthrough; create its windows before opening it, or close it first"
	exec 7<&-
	# The kernel's release reaches the daemon after close() returns.
	try_fw() { printf '%s\n' "view fw region=free offset=1 length=4K access=rw" >"$CTL" 2>/dev/null; }
	wait_until 5 try_fw || fail "window fw still refused once free was closed: $(ctl_result)"
	ok "a window of a region the kernel serves is refused with EBUSY, made once it is closed"
else
	rfs_ctl "view fw region=free offset=1 length=4K access=rw"
	exec 7<&-
	ok "-o passthrough=off: a window of an open region is made at once"
fi
assert_eq 1 "$(windows_of free)" "windows of free"
daemon_serves "$MNT/free" || fail "free has a window but its writes do not reach the daemon"
put "$MNT/free" 100 "$(hex hello)"
assert_eq "$(hex hello)" "$(bytes "$MNT/fw" 99 5)" "fw after a write to free"
rfs_ctl "remove fw"
gone() { [[ $(windows_of free) == 0 ]]; }
wait_until 5 gone || fail "window fw still alive after remove: $(windows_of free)"
if [[ $SB == kernel ]]; then
	! daemon_serves "$MNT/free" || fail "free lost its windows but its writes still reach the daemon"
	ok "windows removed: the kernel serves the region again"
fi

# ---- cow window: discard and commit into the region
priv=$(hex 'PRIVATE!')
base=$(bytes "$MNT/ring" 5100 8)
put "$MNT/w_cow" 5000 "$priv"
assert_eq "$priv" "$(bytes "$MNT/w_cow" 5000 8)" "w_cow after its write"
assert_eq "$base" "$(bytes "$MNT/ring" 5100 8)" "ring after a cow write"
assert_eq "$base" "$(bytes "$MNT/w_rw" 1003 8)" "w_rw after a cow write"
rfs_ctl "discard w_cow"
assert_eq "$base" "$(bytes "$MNT/w_cow" 5000 8)" "w_cow after discard"
put "$MNT/w_cow" 5000 "$priv"
rfs_ctl "commit w_cow"
assert_eq "$priv" "$(bytes "$MNT/ring" 5100 8)" "ring after commit"
assert_eq "$priv" "$(bytes "$MNT/w_rw" 1003 8)" "w_rw after commit"
assert_eq "$priv" "$(bytes "$MNT/w_cow" 5000 8)" "w_cow after commit"
ok "a cow window's discard drops its changes, commit writes them into the region"

# ---- the region shrunk under its windows: EIO for the lost range only
faults=$(metric regionfs_faults_total)
keep=$(bytes "$MNT/ring" 4097 16)
truncate -s 48K "$MNT/ring"
expect_errno EIO 'fd = os.open(M + "/w_rw", os.O_RDONLY); os.pread(fd, 16, 50000)'
expect_errno EIO 'fd = os.open(M + "/w_ro", os.O_RDONLY); os.pread(fd, 16, 20000)'
expect_errno EIO 'fd = os.open(M + "/w_rw", os.O_WRONLY); os.pwrite(fd, b"x", 46000)'
assert_eq "$keep" "$(bytes "$MNT/w_rw" 0 16)" "w_rw's bytes still in the region"
assert_eq "$(bytes "$MNT/ring" 40000 16)" "$(bytes "$MNT/w_ro" $((40000 - RO)) 16)" "w_ro's kept bytes"
rfs_alive || fail "daemon gone after reads of a shrunk region"
(($(metric regionfs_faults_total) > faults)) || fail "no fault counted"
truncate -s 1M "$MNT/ring"
# Written by the coherence check before the shrink, cut off, regrown as zeros.
assert_eq "$(printf '%032d' 0)" "$(bytes "$MNT/w_ro" $((50000 - RO)) 16)" "w_ro's regrown bytes"
ok "a region shrunk under its windows: EIO for the lost range, the rest served, zeros once regrown"

# ---- a window outlives its region's name
put "$MNT/ring" 70000 "$(hex alive)"
rm "$MNT/ring"
assert_eq "$(hex alive)" "$(bytes "$MNT/w_ro" $((70000 - RO)) 5)" "w_ro after rm ring"
ok "a window keeps a removed region's bytes"

# ---- reload: windows of a region the reload adds, and windows dropped
cat >"$W/cfg.ini" <<EOF
[regionfs]
size = 64M

[region:free]
size = 64K

[region:fresh]
size = 16K

[view:f1]
region = fresh
offset = 8K
length = 8K
access = ro
EOF
rfs_ctl reload
assert_eq 1 "$(windows_of fresh)" "windows of fresh after reload"
[[ ! -e $MNT/w_rw && ! -e $MNT/w_ro ]] || fail "dropped windows still named"
put "$MNT/fresh" 9000 "$(hex reloaded)"
assert_eq "$(hex reloaded)" "$(bytes "$MNT/f1" 808 8)" "f1 after a write to fresh"
cat >>"$W/cfg.ini" <<EOF

[view:f2]
region = fresh
offset = 12K
length = 8K
EOF
rfs_ctl_refused ENXIO reload \
	"$W/cfg.ini:16: view f2: the window lies past the end of region fresh (windows never grow their region)"
[[ ! -e $MNT/f2 ]] || fail "f2 made by a refused reload"
ok "reload makes windows of the regions it adds, refuses those past the end"
