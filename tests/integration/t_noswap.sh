#!/usr/bin/env bash
# noswap (-o noswap, config noswap = yes): the region store's tmpfs is made
# with tmpfs's noswap, so region pages never go to swap. stats, stats.json
# and metrics say so; where it cannot be had (memfds, no CAP_SYS_ADMIN) the
# mount is refused with a clear message instead of swapping silently.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
[[ $(id -u) == 0 ]] || skip "noswap needs root"

rfs_mount -o noswap,size=16M
[[ "$(grep "^# regions:" "$MNT/.regionfs/stats")" == "# regions: tmpfs store (noswap), served by the "* ]] ||
	fail "stats' last line: $(grep "^# regions:" "$MNT/.regionfs/stats")"
grep -q '^regionfs_regions_info{.*noswap="yes",.*} 1$' "$MNT/.regionfs/metrics" ||
	fail "metrics: $(grep regions_info "$MNT/.regionfs/metrics")"
assert_eq true "$(python3 -c 'import json,sys; print(str(json.load(open(sys.argv[1]))["regions"]["noswap"]).lower())' "$MNT/.regionfs/stats.json")" "stats.json regions.noswap"
head -c 4M /dev/urandom >"$W/data"
cp "$W/data" "$MNT/secret" && cmp "$W/data" "$MNT/secret" || fail "a region's bytes differ"
rfs_unmount
ok "-o noswap: the store is a noswap tmpfs (stats, stats.json, metrics); a 4 MiB region reads back"

printf '[regionfs]\nnoswap = yes\n' >"$W/noswap.ini"
rfs_mount -c "$W/noswap.ini"
grep "^# regions:" "$MNT/.regionfs/stats" | grep -q '(noswap)' || fail "config noswap = yes: $(grep "^# regions:" "$MNT/.regionfs/stats")"
rfs_unmount
rfs_mount -o size=16M
grep "^# regions:" "$MNT/.regionfs/stats" | grep -q noswap && fail "noswap without asking: $(grep "^# regions:" "$MNT/.regionfs/stats")"
grep -q '^regionfs_regions_info{.*noswap="no",.*} 1$' "$MNT/.regionfs/metrics" || fail "metrics without noswap"
rfs_unmount
ok "config noswap = yes does the same; without it stats and metrics say no noswap"

mkdir -p "$W/m"
rfs_refused_run "noswap with memfds" "$W/m" "$REGIONFS" -f -o noswap,store=memfd "$W/m"
grep -q "noswap: memfds can swap" "$W/bad.err" || fail "memfd: $(cat "$W/bad.err")"
# uid 65534 runs a copy it can reach wherever the tree lies.
chmod 0755 "$W"
chown 65534 "$W/m"
cp "$REGIONFS" "$W/regionfs"
rfs_refused_run "noswap without CAP_SYS_ADMIN" "$W/m" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$W/regionfs" -f -o noswap "$W/m"
grep -q "noswap: needs CAP_SYS_ADMIN" "$W/bad.err" || fail "uid 65534: $(cat "$W/bad.err")"
ok "noswap is refused, exit 2 and nothing mounted, with memfds and for uid 65534 ($(cat "$W/bad.err"))"
