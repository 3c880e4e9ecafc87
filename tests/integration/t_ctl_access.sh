#!/usr/bin/env bash
# stats and metrics show each reader only what ls and stat would: a file is
# listed when the reader may read and search every directory above it (the
# mount root included); root sees everything. Driven as uid 65534 with and
# without a supplementary group, on a mount with -o allow_other.
. "$(dirname "$0")/lib.sh"

rfs_require
command -v setpriv >/dev/null || fail "setpriv missing (util-linux)"
(($(id -u) == 0)) || skip "needs root to act as a second user"

rfs_mount -o size=16M -o allow_other
G=4242 # a group only the test's second reader has
mkdir -m 0755 "$MNT/pub" "$MNT/pub/inner"
mkdir -m 0700 "$MNT/secret"
mkdir -m 0711 "$MNT/dropbox" "$MNT/dropbox/open"
mkdir -m 0750 "$MNT/team"
chgrp "$G" "$MNT/team"
chmod 0755 "$MNT/dropbox/open"
for f in top pub/a pub/inner/b secret/hidden-name dropbox/guessable dropbox/open/c team/t; do
	head -c 1000 /dev/zero >"$MNT/$f"
done
chmod 0600 "$MNT/top" "$MNT/pub/a"

as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
as_member=(setpriv --reuid=65534 --regid=65534 "--groups=$G")
# names FILE: the first column of stats (the names here need no quoting), sorted.
names() { awk 'NR > 1 && !/^#/ { print $1 }' "$1" | LC_ALL=C sort | xargs; }
# labels FILE: the name labels of one gauge in metrics, sorted.
labels() { sed -n 's/^regionfs_mapping_size_bytes{name="\([^"]*\)".*/\1/p' "$1" | LC_ALL=C sort | xargs; }

all="dropbox/guessable dropbox/open/c pub/a pub/inner/b secret/hidden-name team/t top"
cat "$MNT/.regionfs/stats" >"$RFS_WORK/root.stats"
cat "$MNT/.regionfs/metrics" >"$RFS_WORK/root.prom"
assert_eq "$all" "$(names "$RFS_WORK/root.stats")" "stats read by root"
assert_eq "$all" "$(labels "$RFS_WORK/root.prom")" "metrics read by root"
ok "root is shown every file"

"${as_nobody[@]}" cat "$MNT/.regionfs/stats" >"$RFS_WORK/nobody.stats" || fail "uid 65534 cannot read stats"
"${as_nobody[@]}" cat "$MNT/.regionfs/metrics" >"$RFS_WORK/nobody.prom" || fail "uid 65534 cannot read metrics"
assert_eq "pub/a pub/inner/b top" "$(names "$RFS_WORK/nobody.stats")" "stats read by uid 65534"
assert_eq "pub/a pub/inner/b top" "$(labels "$RFS_WORK/nobody.prom")" "metrics read by uid 65534"
if grep -q 'hidden-name\|guessable\|dropbox\|team' "$RFS_WORK/nobody.stats" "$RFS_WORK/nobody.prom"; then
	fail "uid 65534 learns names it cannot list"
fi
# What ls shows the same user agrees: it can list pub but not secret or dropbox.
"${as_nobody[@]}" ls "$MNT/pub" >/dev/null || fail "uid 65534 cannot ls pub"
if "${as_nobody[@]}" ls "$MNT/secret" >/dev/null 2>&1; then fail "uid 65534 can ls secret"; fi
if "${as_nobody[@]}" ls "$MNT/dropbox" >/dev/null 2>&1; then fail "uid 65534 can ls dropbox (0711)"; fi
ok "uid 65534 sees top and pub/* (mode 0600 files included, as ls shows them), not what lies in 0700, 0711 or 0750 directories"

"${as_member[@]}" cat "$MNT/.regionfs/stats" >"$RFS_WORK/member.stats" || fail "member cannot read stats"
assert_eq "pub/a pub/inner/b team/t top" "$(names "$RFS_WORK/member.stats")" "stats read by a member of group $G"
ok "a reader with supplementary group $G also sees team/t (0750, group $G)"

# stats.json: the same rows, filtered for each reader alike.
jnames() { jq -r '.mappings[].name' "$1" | LC_ALL=C sort | xargs; }
cat "$MNT/.regionfs/stats.json" >"$RFS_WORK/root.json"
"${as_nobody[@]}" cat "$MNT/.regionfs/stats.json" >"$RFS_WORK/nobody.json" || fail "uid 65534 cannot read stats.json"
"${as_member[@]}" cat "$MNT/.regionfs/stats.json" >"$RFS_WORK/member.json" || fail "member cannot read stats.json"
assert_eq "$all" "$(jnames "$RFS_WORK/root.json")" "stats.json read by root"
assert_eq "pub/a pub/inner/b top" "$(jnames "$RFS_WORK/nobody.json")" "stats.json read by uid 65534"
assert_eq "pub/a pub/inner/b team/t top" "$(jnames "$RFS_WORK/member.json")" "stats.json read by a member of group $G"
! grep -q 'hidden-name\|guessable\|dropbox\|team' "$RFS_WORK/nobody.json" || fail "uid 65534 learns names from stats.json"
ok "stats.json shows root, uid 65534 and a group member exactly the rows stats shows them"

# Closing the root to others hides everything from them, counters stay.
chmod 0711 "$MNT"
"${as_nobody[@]}" cat "$MNT/.regionfs/stats" >"$RFS_WORK/closed.stats" || fail "uid 65534 cannot read stats of a 0711 root"
assert_eq "name kind size backing offset access opens dirty resident last_flush lifetime deleted private seals" \
	"$(grep -v '^#' "$RFS_WORK/closed.stats")" "stats of a 0711 root read by uid 65534"
"${as_nobody[@]}" cat "$MNT/.regionfs/metrics" >"$RFS_WORK/closed.prom" || fail "uid 65534 cannot read metrics"
if grep -q '^regionfs_mapping_' "$RFS_WORK/closed.prom"; then fail "metrics of a 0711 root list files to uid 65534"; fi
grep -q '^regionfs_memory_cap_bytes ' "$RFS_WORK/closed.prom" || fail "daemon-wide metrics missing"
assert_eq "$all" "$(names "$MNT/.regionfs/stats")" "stats read by root after chmod 0711"
chmod 0755 "$MNT"
ok "root directory 0711: uid 65534 is shown no file (header and daemon-wide counters only); root still sees all"
