#!/usr/bin/env bash
# Copy-on-write views: commit NAME and discard NAME through .regionfs/control,
# also while another process (python3) holds a mmap(MAP_SHARED) of the view;
# private pages counted in stats, metrics, xattrs and against the size cap
# (ENOSPC for the cow view and for regions, df shows them); a commit survives
# remount as bytes of the backing file; flush NAME of a cow view is refused
# with its reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/view_lib.sh"

rfs_require
command -v getfattr >/dev/null || fail "getfattr missing (apt-get install attr)"
W=$RFS_WORK
DATA=$W/data
B=$DATA/b.data # 32 MiB of random bytes
mkdir "$DATA"
head -c $((32 * MiB)) /dev/urandom >"$B"
cp "$B" "$W/orig"
cp "$B" "$W/expect" # what B must hold: the original plus every commit
PAGE=$(getconf PAGESIZE)
COFF=4097 # view c starts here in B: not page-aligned

cat >"$W/cfg.ini" <<EOF
[regionfs]
size = 16M
allowed_roots = $DATA

[view:c]
file = $B
offset = $COFF
length = 8M
access = cow

[view:rw]
file = $B
offset = 0
length = 16M
access = rw

[view:big]
file = $B
offset = 8M
length = 24M
access = cow
EOF

CTL= # set after each mount
ctl_result() { cat "$CTL"; }
# stat_col NAME COLUMN: one column of NAME's stats line (13 = private).
stat_col() { awk -v n="$1" -v c="$2" 'NR > 1 && $1 == n { print $c }' "$MNT/.regionfs/stats"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$MNT/.regionfs/metrics"; }
# private_is NAME BYTES: stats, metrics and the xattr agree on NAME's private bytes.
private_is() {
	assert_eq "$2" "$(stat_col "$1" 13)" "stats private of $1"
	assert_eq "$2" "$(metric "regionfs_mapping_private_bytes{name=\"$1\",kind=\"view\",access=\"cow\",backing=\"$B\"}")" "metrics private of $1"
	assert_eq "$2" "$(getfattr --absolute-names --only-values -n user.regionfs.private "$MNT/$1")" "xattr private of $1"
}
# pages_of OFF LEN: bytes of whole pages that view c's bytes [OFF, OFF+LEN) touch.
pages_of() { echo $(((((COFF % PAGE) + $1 + $2 - 1) / PAGE - ((COFF % PAGE) + $1) / PAGE + 1) * PAGE)); }
# put FILE OFF: stdin to FILE at OFF, in place, with one process (dd).
put() { dd of="$1" bs=1M seek="$2" oflag=seek_bytes conv=notrunc status=none || fail "dd to $1 at $2 failed"; }
# bytes FILE OFF LEN: LEN bytes of FILE at OFF, as hex.
bytes() { python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); print(os.pread(fd, int(sys.argv[3]), int(sys.argv[2])).hex())' "$@"; }
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

rfs_mount -c "$W/cfg.ini" -o xattr
CTL=$MNT/.regionfs/control

# --- nothing private yet
assert_eq "name kind size backing offset access opens dirty resident last_flush lifetime deleted private seals" \
	"$(head -1 "$MNT/.regionfs/stats")" "stats header"
private_is c 0
assert_eq 0 "$(df_used)" "df used at mount"
ok "stats, metrics and user.regionfs.private show 0 private bytes; df used 0"

# --- write(): private, counted, the file untouched
head -c $((1 * MiB)) /dev/urandom >"$W/w1"
put "$MNT/c" 100 <"$W/w1"
cmp -n $((1 * MiB)) "$W/w1" <(tail -c +101 "$MNT/c") || fail "c does not show its write"
cmp "$B" "$W/orig" || fail "a cow write reached the backing file"
want=$(pages_of 100 $((1 * MiB)))
private_is c "$want"
assert_eq "$want" "$(df_used)" "df used after 1 MiB into c"
assert_eq "$want" "$(metric regionfs_memory_used_bytes)" "metrics memory used"
ok "1 MiB written into c: private $want bytes (whole pages) in stats/metrics/xattr and df; backing unchanged"

# --- flush of a cow view is refused with the reason; flush all passes it by
rfs_ctl_refused EINVAL "flush c" "c: cow view: nothing to flush, use commit or discard"
rfs_ctl_refused EINVAL "commit rw" "rw is not a cow view"
rfs_ctl_refused EINVAL "discard rw" "rw is not a cow view"
rfs_ctl_refused ENOENT "discard nosuch" "nosuch: No such file or directory"
rfs_ctl "flush all"
cmp "$B" "$W/orig" || fail "flush all wrote a cow view's private bytes"
private_is c "$want"
ok "flush c refused (EINVAL, reason in control), commit/discard of a rw view or a missing name refused, flush all leaves c private"

# --- discard: the view shows the file again
rfs_ctl "discard c"
cmp "$MNT/c" <(tail -c +$((COFF + 1)) "$W/orig" | head -c $((8 * MiB))) || fail "c after discard differs from the backing window"
private_is c 0
assert_eq 0 "$(df_used)" "df used after discard"
ok "discard c: c reads back the backing bytes, private 0, df used 0"

# --- commit and discard under a client mmap(MAP_SHARED) held by another process
cat >"$W/holder.py" <<'EOF'
import mmap, os, sys
maps = {}
for path in sys.argv[1:]:  # each file mapped MAP_SHARED, by its base name
    fd = os.open(path, os.O_RDWR)
    maps[os.path.basename(path)] = mmap.mmap(fd, os.fstat(fd).st_size)
for line in sys.stdin:
    w = line.split()
    mm, off = maps[w[1]], int(w[2])
    if w[0] == "store":  # store NAME OFF TEXT: through the mapping, then msync
        mm[off:off + len(w[3])] = w[3].encode()
        mm.flush()
        print("stored", flush=True)
    elif w[0] == "peek":  # peek NAME OFF LEN: the mapping's bytes, hex
        print(mm[off:off + int(w[3])].hex(), flush=True)
EOF
coproc HOLD { exec python3 "$W/holder.py" "$MNT/c" "$MNT/rw"; }
# hold LINE: send LINE to the holder; its answer goes to $held.
hold() {
	echo "$1" >&"${HOLD[1]}"
	read -r -t 20 held <&"${HOLD[0]}" || fail "holder: no answer to '$1'"
}
M2=$((2 * MiB))
M3=$((3 * MiB))
orig2=$(bytes "$W/orig" $((COFF + M2)) 9)
hold "store c $M2 HELLO-COW"
assert_eq stored "$held" "holder store"
assert_eq "$(hex HELLO-COW)" "$(bytes "$MNT/c" $M2 9)" "read() of c in another process after the mmap store"
assert_eq "$orig2" "$(bytes "$B" $((COFF + M2)) 9)" "backing file after the mmap store"
private_is c "$(pages_of $M2 $PAGE)" # the kernel writes the whole client page back
rfs_ctl "discard c"
hold "peek c $M2 9"
assert_eq "$orig2" "$held" "the holder's mapping after discard"
assert_eq "$orig2" "$(bytes "$MNT/c" $M2 9)" "read() of c after discard"
private_is c 0
ok "discard under a held MAP_SHARED mapping: the holder's next load and read() see the backing bytes"

hold "peek rw $((COFF + M3)) 9" # the holder maps those bytes of the rw view first
assert_eq "$(bytes "$W/orig" $((COFF + M3)) 9)" "$held" "the rw view before commit"
hold "store c $M3 COMMIT-ME"
head -c $((1 * MiB)) /dev/urandom >"$W/w5"
put "$MNT/c" $((5 * MiB)) <"$W/w5"
c0=$(metric regionfs_commits_total)
rfs_ctl "commit c"
assert_eq $((c0 + 1)) "$(metric regionfs_commits_total)" "regionfs_commits_total after commit"
printf 'COMMIT-ME' | put "$W/expect" $((COFF + M3))
put "$W/expect" $((COFF + 5 * MiB)) <"$W/w5"
cmp "$B" "$W/expect" || fail "backing file after commit differs from the expected image"
private_is c 0
assert_eq 0 "$(df_used)" "df used after commit"
hold "peek c $M3 9"
assert_eq "$(hex COMMIT-ME)" "$held" "the holder's mapping of c after commit"
hold "peek rw $((COFF + M3)) 9"
assert_eq "$(hex COMMIT-ME)" "$held" "the holder's mapping of the overlapping rw view after commit"
ok "commit under held mappings: the mmap store and a 1 MiB write() are in the backing file; the holder's mappings of c and of the overlapping rw view see them; private 0"

hold "store c $M3 AFTERWARD"
assert_eq "$(hex AFTERWARD)" "$(bytes "$MNT/c" $M3 9)" "c after a second store"
d0=$(metric regionfs_discards_total)
rfs_ctl "discard c"
assert_eq $((d0 + 1)) "$(metric regionfs_discards_total)" "regionfs_discards_total after discard"
hold "peek c $M3 9"
assert_eq "$(hex COMMIT-ME)" "$held" "the holder's mapping after the second discard"
cmp "$B" "$W/expect" || fail "backing file changed by a discard"
ok "a store after the commit, discarded: the holder sees the committed bytes again"
exec {HOLD[1]}>&-
wait "$HOLD_PID" || true

# --- a cow view filling the cap
cat >"$W/fill.py" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
buf, done = os.urandom(1 << 20), 0
try:
    while done < int(sys.argv[2]):
        done += os.write(fd, buf)
    sys.exit("no ENOSPC after %d bytes" % done)
except OSError as e:
    if e.errno != errno.ENOSPC:
        raise
print(done)
EOF
cap=$(df_size)
assert_eq $((16 * MiB)) "$cap" "df size"
filled=$(python3 "$W/fill.py" "$MNT/big" $((24 * MiB))) || fail "filling big: $filled"
assert_eq $((16 * MiB)) "$filled" "bytes written into big before ENOSPC"
assert_eq "$cap" "$(df_used)" "df used with big full"
assert_eq 0 "$(python3 -c 'import os,sys; print(os.statvfs(sys.argv[1]).f_bavail)' "$MNT")" "df avail with big full"
private_is big $((16 * MiB))
expect_errno ENOSPC "fd = os.open(M + '/r', os.O_CREAT | os.O_WRONLY); os.write(fd, b'x')"
expect_errno ENOSPC "fd = os.open(M + '/c', os.O_WRONLY); os.pwrite(fd, b'x', 0)"
cmp "$B" "$W/expect" || fail "backing file changed by writes into big"
ok "big filled the 16M cap: 16 MiB written then ENOSPC; df used = size, avail 0; a region write and a write into c get ENOSPC too"
rfs_ctl "discard big"
assert_eq 0 "$(df_used)" "df used after discard big"
printf x >"$MNT/r" || fail "a region write after discard big"
rm "$MNT/r"
ok "discard big gives the cap back: df used 0, a region write succeeds"

# --- a commit survives remount
printf 'SURVIVOR' | put "$MNT/c" 12345
rfs_ctl "commit c"
printf 'SURVIVOR' | put "$W/expect" $((COFF + 12345))
rfs_unmount
cmp "$B" "$W/expect" || fail "backing file after unmount differs from the expected image"
rfs_mount -c "$W/cfg.ini" -o xattr
CTL=$MNT/.regionfs/control
cmp "$MNT/c" <(tail -c +$((COFF + 1)) "$W/expect" | head -c $((8 * MiB))) || fail "c after remount differs from the committed image"
private_is c 0
ok "commit, unmount, remount: the backing file and c hold every committed byte"
