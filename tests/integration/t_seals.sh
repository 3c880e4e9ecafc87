#!/usr/bin/env bash
# Named seals: "seal NAME shrink|grow|write|future_write,..." (and a region's
# seals = key) seal a region for everyone who opens it by path, as F_SEAL_*
# does for a memfd. Refused changes are EPERM, from other processes, on
# either data path; seals only accumulate; a seal that an open could break
# (a writer, or a writer the kernel serves for grow and future_write) is
# EBUSY; stats, stats.json, metrics and xattrs show them.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
cat >"$W/rfs.ini" <<EOF
[regionfs]
size = 64M

[region:cfg]
size = 64K
seals = shrink,grow
EOF
rfs_mount -c "$W/rfs.ini" -o xattr
served=$(rfs_served_by)
seals_of() { awk -v n="$1" '$1 == n { print $14 }' "$MNT/.regionfs/stats"; }

# --- from the config
assert_eq "shrink,grow" "$(seals_of cfg)" "stats seals of cfg"
expect_errno EPERM "os.truncate(M + '/cfg', 4096)"
expect_errno EPERM "os.truncate(M + '/cfg', 1 << 20)"
expect_errno EPERM "fd = os.open(M + '/cfg', os.O_WRONLY); os.pwrite(fd, b'x', 65536)"
py "fd = os.open(M + '/cfg', os.O_RDWR); assert os.pwrite(fd, b'inside', 100) == 6"
assert_size "$MNT/cfg" 65536
ok "config seals = shrink,grow: truncate down and up and a write past the end EPERM, a write inside lands ($served)"

# --- a shrink seal under a reader's mapping
rfs_ctl "region ring size=64K"
head -c 65536 /dev/urandom >"$W/ring.data"
cp "$W/ring.data" "$MNT/ring"
python3 -c '
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 65536, prot=mmap.PROT_READ)
print("mapped", flush=True)
time.sleep(2)
s = 0
for i in range(0, 65536, 4096):
    s += m[i + 4095]
print("read", m[65535], flush=True)' "$MNT/ring" >"$W/reader.out" &
reader=$!
wait_until 10 grep -q mapped "$W/reader.out" || fail "the reader did not map"
rfs_ctl "seal ring shrink"
expect_errno EPERM "os.truncate(M + '/ring', 0)"
expect_errno EPERM "fd = os.open(M + '/ring', os.O_RDWR); os.ftruncate(fd, 4096)"
expect_errno EPERM "os.open(M + '/ring', os.O_RDWR | os.O_TRUNC)"
wait "$reader" || fail "the mapping reader died: $(cat "$W/reader.out")"
want=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read()[65535])' "$W/ring.data")
assert_eq "read $want" "$(tail -1 "$W/reader.out")" "the reader's last byte after the shrink attempts"
cmp "$W/ring.data" "$MNT/ring" || fail "ring's bytes changed"
ok "seal ring shrink: truncate, ftruncate and O_TRUNC EPERM; a Python mmap reader reads its last page to the end"

# --- write: EBUSY while a writer holds it, then no writer can open it
exec 7<>"$MNT/ring"
rfs_ctl_refused EBUSY "seal ring write" "ring: 1 writable open holds it (close it first)"
exec 7>&-
rfs_ctl "seal ring write"
expect_errno EPERM "os.open(M + '/ring', os.O_RDWR)"
expect_errno EPERM "os.open(M + '/ring', os.O_WRONLY)"
expect_errno EPERM "mmap.mmap(os.open(M + '/ring', os.O_RDWR), 4096)"
expect_errno EACCES "mmap.mmap(os.open(M + '/ring', os.O_RDONLY), 4096, prot=mmap.PROT_WRITE)"
py "fd = os.open(M + '/ring', os.O_RDONLY); assert os.pread(fd, 16, 0) == open('$W/ring.data', 'rb').read(16)"
rfs_ctl_refused EPERM "view ringw region=ring access=rw" \
	"view ringw: region ring is sealed against writes; only access=ro"
rfs_ctl "view ringr region=ring access=ro"
assert_eq "shrink,write" "$(seals_of ring)" "stats seals of ring"
ok "seal ring write: EBUSY under a writer; then rw/wo opens and writable mappings refused, reads and ro windows work"

# --- accumulate; errors
rfs_ctl_refused EBUSY "seal ring grow future_write" \
	"ring: the region has windows (remove them first)"
rfs_ctl "remove ringr"
rfs_ctl "seal ring grow future_write"
rfs_ctl "view ringr region=ring access=ro"
assert_eq "shrink,grow,write,future_write" "$(seals_of ring)" "seals accumulate"
rfs_ctl_refused EINVAL "seal ring sideways" \
	"invalid seals sideways (usage: seal NAME shrink|grow|write|future_write[,...])"
rfs_ctl_refused ENOENT "seal nosuch grow" "nosuch: No such file or directory"
rfs_ctl_refused EINVAL "seal ringr grow" "ringr: not a region (seals apply to regions)"
ok "seals accumulate (future_write EBUSY while a window exists); a bad seal word, a missing name and a view are refused with their reason"

# --- grow seal with a writer: the kernel would let it grow, the daemon would not
rfs_ctl "region g size=8K"
exec 7<>"$MNT/g"
if [[ $served == kernel ]]; then
	rfs_ctl_refused EBUSY "seal g grow" "g: 1 writable open holds it (close it first)"
	exec 7>&-
	rfs_ctl "seal g grow"
else
	rfs_ctl "seal g grow"
	exec 7>&-
fi
# A writer opened after the seal is served by the daemon, which refuses growth.
expect_errno EPERM "fd = os.open(M + '/g', os.O_WRONLY); os.pwrite(fd, b'x', 8192)"
py "fd = os.open(M + '/g', os.O_RDWR); assert os.pwrite(fd, b'ok', 8190) == 2"
assert_size "$MNT/g" 8192
ok "seal g grow: EBUSY under a writer the kernel serves, allowed under one the daemon serves ($served); writers after it cannot grow it"

# --- future_write: old mappings keep writing where the daemon serves them
rfs_ctl "region fw size=8K"
python3 -c '
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 8192)
print("mapped", flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
m[0:4] = b"late"
m.flush()
try:
    os.pwrite(fd, b"x", 100)
    print("write ok", flush=True)
except OSError as e:
    print("write", e.errno, flush=True)' "$MNT/fw" "$W/go" >"$W/fw.out" &
fw=$!
wait_until 10 grep -q mapped "$W/fw.out" || fail "the future_write holder did not map"
if [[ $served == kernel ]]; then
	rfs_ctl_refused EBUSY "seal fw future_write" "fw: 1 writable open holds it (close it first)"
	touch "$W/go"
	wait "$fw" || fail "holder: $(cat "$W/fw.out")"
	rfs_ctl "seal fw future_write"
	ok "future_write: EBUSY while the kernel serves a writer (it would not see the seal)"
else
	rfs_ctl "seal fw future_write"
	touch "$W/go"
	wait "$fw" || fail "holder: $(cat "$W/fw.out")"
	assert_eq "write 1" "$(tail -1 "$W/fw.out")" "write() through the old descriptor (EPERM is 1)"
	assert_eq late "$(head -c 4 "$MNT/fw")" "the old mapping's store after future_write"
	ok "future_write: the old mapping's stores land, its write() is EPERM"
fi
expect_errno EPERM "os.open(M + '/fw', os.O_RDWR)"

# --- shown everywhere
grep -q '^regionfs_region_seals{name="ring",.*} 15$' "$MNT/.regionfs/metrics" ||
	fail "metrics: $(grep region_seals "$MNT/.regionfs/metrics")"
assert_eq "shrink,grow,write,future_write" "$(getfattr --only-values -n user.regionfs.seals "$MNT/ring")" "xattr"
assert_eq '["shrink", "grow"]' "$(python3 -c 'import json,sys; print(json.dumps([m["seals"] for m in json.load(open(sys.argv[1]))["mappings"] if m["name"] == "cfg"][0]))' "$MNT/.regionfs/stats.json")" "stats.json seals of cfg"
assert_eq "-" "$(awk '$1 == "ringr" { print $14 }' "$MNT/.regionfs/stats")" "a view's seals column"
ok "metrics regionfs_region_seals (bits), user.regionfs.seals, stats.json seals, stats '-' for a view"

# --- reload: seals only accumulate
sed -i 's/^seals = shrink,grow$/seals = write/' "$W/rfs.ini"
rfs_ctl reload
assert_eq "shrink,grow,write" "$(seals_of cfg)" "cfg's seals after a reload that dropped two"
grep -q "keeps its seals shrink,grow (seals only accumulate)" "$RFS_LOG" || fail "no log line for the kept seals"
ok "reload adds write to cfg and keeps the shrink,grow it dropped (logged)"
