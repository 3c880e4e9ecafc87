#!/usr/bin/env bash
# .regionfs/holders: who holds each region and view open, as fuser would
# (name, pid, command, uid, access, served). A process that mapped a region
# and closed its descriptor still holds it; holders go when their last
# descriptor and mapping do; a descriptor inherited by a child whose opener
# exited shows the opener's pid as "(exited)"; each reader sees only the
# files it could find with ls, as in stats.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
mkdir -p "$W/back"
head -c 65536 /dev/zero >"$W/back/img"
cat >"$W/rfs.ini" <<EOF2
[regionfs]
allowed_roots = $W/back
EOF2
rfs_mount -c "$W/rfs.ini" -o size=16M,allow_other
H=$MNT/.regionfs/holders
# line TOKEN PID: the holders line of the name TOKEN (as stats quotes it)
# held by PID.
line() { awk -v n="$1" -v p="$2" 'index($0, n " " p " ") == 1' "$H"; }
# count NAME: how many opens of NAME are listed.
count() { awk -v n="$1" '$1 == n' "$H" | wc -l; }
not_held_by() { [[ -z "$(line "$1" "$2")" ]]; }
not_held() { [[ "$(count "$1")" == 0 ]]; }
none_held() { [[ "$(wc -l <"$H")" == 1 ]]; }

assert_eq "name pid command uid access served" "$(cat "$H")" "holders of an idle mount"
rfs_ctl "region ring size=64K"
rfs_ctl "view img file=$W/back/img length=64K"
head -c 100 /dev/urandom >"$MNT/with space"

# A reader with its descriptor open, a writer that mapped and closed it.
python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
print("open", flush=True)
time.sleep(60)' "$MNT/ring" >"$W/reader.out" &
reader=$!
python3 -c '
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 65536)
os.close(fd)
m[0:5] = b"hello"
print("mapped", flush=True)
time.sleep(60)' "$MNT/ring" >"$W/writer.out" &
writer=$!
exec 7<>"$MNT/with space"
exec 8<"$MNT/img"
wait_until 10 grep -q open "$W/reader.out" || fail "the reader did not open"
wait_until 10 grep -q mapped "$W/writer.out" || fail "the writer did not map"
cp "$H" "$W/h1"
served=$(rfs_served_by)
r=$(line ring "$reader")
[[ "$r" == "ring $reader python3 0 r $served" ]] || fail "reader's line: '$r' (holders: $(cat "$W/h1"))"
wr=$(line ring "$writer")
[[ "$wr" == "ring $writer python3 0 rw $served" ]] || fail "writer's line (mapped, fd closed): '$wr'"
s=$(line '"with space"' $$)
[[ "$s" == "\"with space\" $$ bash 0 rw $served" ]] || fail "the shell's line: '$s' (holders: $(cat "$W/h1"))"
v=$(line img $$)
[[ "$v" == "img $$ bash 0 r daemon" ]] || fail "the view's line: '$v'"
assert_eq 2 "$(count ring)" "opens of ring listed"
ok "two processes holding ring (one by descriptor, one by a mapping alone), the shell holding a view and \"with space\": pid, command, uid, access, served ($served)"

kill "$reader"
wait "$reader" 2>/dev/null || true
wait_until 5 not_held_by ring "$reader" || fail "the reader still listed after it exited: $(cat "$H")"
[[ -n "$(line ring "$writer")" ]] || fail "the writer went with the reader"
kill "$writer"
wait "$writer" 2>/dev/null || true
wait_until 5 not_held ring || fail "ring still held after both exited: $(cat "$H")"
exec 7>&- 8<&-
wait_until 5 none_held || fail "holders after every close: $(cat "$H")"
ok "each holder goes with its last descriptor and mapping; none left after all closed"

# --- an inherited descriptor outlives its opener
python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
print(os.getpid(), child, flush=True)' "$MNT/ring" >"$W/fork.out"
read -r opener child <"$W/fork.out"
assert_eq "ring $opener (exited) 0 r" "$(awk '$1 == "ring" { print $1, $2, $3, $4, $5 }' "$H")" "a child's inherited descriptor"
kill "$child"
wait_until 5 not_held ring || fail "ring still held after the child went: $(cat "$H")"
ok "a descriptor a child inherited stays listed under its exited opener, until the child goes"

# --- per reader: a file in a 0700 directory is not shown to uid 65534
command -v setpriv >/dev/null || skip "setpriv missing"
mkdir -m 0700 "$MNT/secret"
echo x >"$MNT/secret/key"
exec 9<"$MNT/secret/key"
exec 6<"$MNT/ring"
nobody=$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "$H") || fail "uid 65534 cannot read holders"
grep -q '^secret/key ' <<<"$nobody" && fail "uid 65534 is shown secret/key: $nobody"
grep -q "^ring $$ " <<<"$nobody" || fail "uid 65534 is not shown ring: $nobody"
grep -q "^secret/key $$ " "$H" || fail "root is not shown secret/key: $(cat "$H")"
exec 9<&- 6<&-
ok "uid 65534 is shown ring but not secret/key (0700 directory); root both"
