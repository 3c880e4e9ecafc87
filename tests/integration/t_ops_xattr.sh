#!/usr/bin/env bash
# user.regionfs.* extended attributes: shown by getfattr with -o xattr (or
# config xattr = yes), read-only (EPERM), absent otherwise (ENODATA) while
# other attributes are kept (t_xattr); the GETXATTR round trips 1,000
# writes cost, counted in .regionfs/metrics: about one per open, not one per
# write (FUSE_HANDLE_KILLPRIV_V2), with and without -o xattr.
. "$(dirname "$0")/lib.sh"

rfs_require
command -v getfattr >/dev/null || fail "getfattr missing (attr)"
command -v setfattr >/dev/null || fail "setfattr missing (attr)"
PYSYS=/usr/bin/python3
PROM=$RFS_TESTDIR/ops_prom.py
"$PYSYS" -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "$PYSYS cannot import prometheus_client (apt-get install python3-prometheus-client)"

W=$RFS_WORK
DATA=$W/data
mkdir "$DATA"
head -c 1M /dev/urandom >"$DATA/x.data"
cat >"$W/cfg.ini" <<EOF
[regionfs]
allowed_roots = $DATA

[region:reg]
size = 100000

[view:img]
file = $DATA/x.data
offset = 4096
length = 10000
access = ro
EOF
sed 's/^\[regionfs\]$/&\nxattr = yes/' "$W/cfg.ini" >"$W/cfg-xattr.ini"
grep -qx 'xattr = yes' "$W/cfg-xattr.ini" || fail "could not write the xattr = yes config"

# attrs FILE: getfattr -d -m user.regionfs output, without the "# file:" line.
attrs() {
	local out
	out=$(getfattr --absolute-names -d -m user.regionfs "$1" 2>&1) || fail "getfattr -d -m user.regionfs $1: $out"
	grep -v '^# file:' <<<"$out" | sed '/^$/d'
}
# getxattr_count: regionfs_requests_total{op="getxattr"} now.
getxattr_count() {
	local out
	cat "$MNT/.regionfs/metrics" >"$W/metrics" || fail "reading metrics failed"
	out=$("$PYSYS" "$PROM" "$W/metrics" 'regionfs_requests_total{op=getxattr}' 2>&1) || fail "metrics: $out"
	echo "$out"
}
# writes_cost NAME: GETXATTR requests served over dd bs=4k count=1000 to NAME.
writes_cost() {
	local c0 c1
	c0=$(getxattr_count)
	dd if=/dev/zero of="$MNT/$1" bs=4k count=1000 status=none || fail "dd to $1 failed"
	c1=$(getxattr_count)
	echo $((c1 - c0))
}

# --- with -o xattr
rfs_mount -c "$W/cfg.ini" -o xattr
assert_eq "user.regionfs.access=\"ro\"
user.regionfs.backing=\"$DATA/x.data\"
user.regionfs.capacity=\"12288\"
user.regionfs.dirty=\"0\"
user.regionfs.kind=\"view\"
user.regionfs.lifetime=\"persist\"
user.regionfs.offset=\"4096\"
user.regionfs.size=\"10000\"" "$(attrs "$MNT/img" | sort)" "getfattr -d of the view img"
assert_eq "$DATA/x.data" "$(getfattr --absolute-names --only-values -n user.regionfs.backing "$MNT/img")" "user.regionfs.backing of img"
ok "-o xattr: getfattr -d -m user.regionfs shows the view's backing path, offset, size, capacity, access"
assert_eq 'user.regionfs.access="rw"
user.regionfs.capacity="102400"
user.regionfs.dirty="0"
user.regionfs.kind="region"
user.regionfs.lifetime="persist"
user.regionfs.seals="-"
user.regionfs.size="100000"' "$(attrs "$MNT/reg" | sort)" "getfattr -d of the region reg"
expect_errno ENODATA "os.getxattr(M + '/reg', 'user.regionfs.backing')"
truncate -s 5000 "$MNT/reg"
assert_eq "5000 8192" "$(getfattr --absolute-names --only-values -n user.regionfs.size "$MNT/reg") $(getfattr --absolute-names --only-values -n user.regionfs.capacity "$MNT/reg")" \
	"size, capacity of reg after truncate -s 5000"
echo hello >"$MNT/plain"
assert_eq region "$(getfattr --absolute-names --only-values -n user.regionfs.kind "$MNT/plain")" "kind of a file created in the mount"
ok "-o xattr: a region shows kind=region, size and page-rounded capacity, no backing (ENODATA)"

out=$(setfattr -n user.regionfs.kind -v view "$MNT/reg" 2>&1) && fail "setfattr user.regionfs.kind succeeded"
[[ "$out" == *"Operation not permitted"* ]] || fail "setfattr user.regionfs.kind: '$out', want Operation not permitted"
expect_errno EPERM "os.setxattr(M + '/img', 'user.regionfs.backing', b'/etc/shadow')"
expect_errno EPERM "os.setxattr(M + '/img', 'user.regionfs.new', b'1')"
expect_errno EPERM "os.removexattr(M + '/img', 'user.regionfs.offset')"
py "os.setxattr(M + '/reg', 'user.other', b'1'); assert os.getxattr(M + '/reg', 'user.other') == b'1'"
assert_eq region "$(getfattr --absolute-names --only-values -n user.regionfs.kind "$MNT/reg")" "kind after refused setfattr"
assert_eq "$DATA/x.data" "$(getfattr --absolute-names --only-values -n user.regionfs.backing "$MNT/img")" "backing after refused setxattr"
ok "user.regionfs.* are read-only: setfattr/removexattr EPERM (setfattr says so); user.other is kept"

with=$(writes_cost w4k)
cmp -n 4096000 "$MNT/w4k" /dev/zero || fail "w4k does not hold the 4096000 zeros written"
echo "# GETXATTR round trips for 1000 dd bs=4k writes with -o xattr: $with"
((with <= 2)) || fail "with -o xattr, 1000 writes cost $with GETXATTR requests (want at most 2: one per open)"
ok "with -o xattr, 1000 dd bs=4k writes cost $with GETXATTR round trips"
rfs_unmount

# --- without it
rfs_mount -c "$W/cfg.ini"
for f in img reg; do
	out=$(getfattr --absolute-names -d -m user.regionfs "$MNT/$f" 2>&1) && [[ -n "$out" ]] && fail "getfattr -d on $f without -o xattr printed: $out"
	out=$(getfattr --absolute-names -n user.regionfs.kind "$MNT/$f" 2>&1) && fail "getfattr --absolute-names -n user.regionfs.kind on $f without -o xattr worked: $out"
	[[ "$out" == *"No such attribute"* ]] || fail "getfattr --absolute-names -n user.regionfs.kind on $f: '$out', want No such attribute"
done
expect_errno ENODATA "os.getxattr(M + '/img', 'user.regionfs.backing')"
expect_errno ENODATA "os.getxattr(M + '/reg', 'security.capability')"
expect_errno EPERM "os.setxattr(M + '/reg', 'user.regionfs.kind', b'view')"
ok "without -o xattr: getfattr of user.regionfs.* says No such attribute; they stay unsettable"
without=$(writes_cost w4k)
cmp -n 4096000 "$MNT/w4k" /dev/zero || fail "w4k does not hold the 4096000 zeros written"
writes=$("$PYSYS" "$PROM" "$W/metrics" 'regionfs_requests_total{op=write}') || fail "no write counter"
# Served by the kernel, a region's writes never reach the daemon at all.
if [[ $(rfs_served_by) == kernel ]]; then
	assert_eq 0 "$writes" "write requests for 1000 dd writes served by the kernel"
else
	((writes >= 1000)) || fail "only $writes write requests counted for 1000 dd writes"
fi
echo "# GETXATTR round trips for 1000 dd bs=4k writes without -o xattr: $without (write requests: $writes)"
((without <= 2)) || fail "without -o xattr, 1000 writes cost $without GETXATTR requests (want at most 2)"
ok "without -o xattr, 1000 dd bs=4k writes cost $without GETXATTR round trips (with: $with)"
rfs_unmount

# --- config xattr = yes
rfs_mount -c "$W/cfg-xattr.ini"
assert_eq "$DATA/x.data" "$(getfattr --absolute-names --only-values -n user.regionfs.backing "$MNT/img")" "backing of img with xattr = yes"
assert_eq region "$(getfattr --absolute-names --only-values -n user.regionfs.kind "$MNT/reg")" "kind of reg with xattr = yes"
ok "config xattr = yes turns the attributes on like -o xattr"
