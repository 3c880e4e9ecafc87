#!/usr/bin/env bash
# The control plane: .regionfs/control commands (view, region, remove, flush),
# refused commands (paths outside allowed_roots, symlink and .. escapes,
# garbage), .regionfs/stats columns, .regionfs/metrics checked with
# prometheus_client's parser, and control closed to other users.
. "$(dirname "$0")/lib.sh"

rfs_require
PYSYS=/usr/bin/python3 # python3-prometheus-client installs for Debian's python
PROM=$RFS_TESTDIR/ops_prom.py
"$PYSYS" -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "$PYSYS cannot import prometheus_client (apt-get install python3-prometheus-client)"
command -v setpriv >/dev/null || fail "setpriv missing (util-linux)"

W=$RFS_WORK
DATA=$W/data
export DATA
mkdir "$DATA" "$DATA/sub"
head -c 8M /dev/urandom >"$DATA/x.data"
head -c 1M /dev/urandom >"$DATA/rw.data"
echo "outside the allowed root" >"$W/outside.data"
ln -s /etc/shadow "$DATA/shadow-link"
ln -s ../outside.data "$DATA/rel-link"
CAP=$((48 * 1048576))
cat >"$W/cfg.ini" <<EOF
[regionfs]
allowed_roots = $DATA
EOF

# prom FILE [QUERY...]: parse FILE as Prometheus text (ops_prom.py), print values.
prom() {
	local out
	out=$("$PYSYS" "$PROM" "$@" 2>&1) || fail "metrics: $out"
	printf '%s\n' "$out"
}
# snap NAME: save the current metrics to $W/NAME.prom.
snap() { cat "$MNT/.regionfs/metrics" >"$W/$1.prom" || fail "reading metrics failed"; }
# stats_fixed: stats without the resident column (page cache residency moves
# with memory pressure, not with commands).
stats_fixed() { awk '{ $9 = "*"; print }' "$MNT/.regionfs/stats"; }
# stats_of NAME: the stats line of NAME (empty if none).
stats_of() { awk -v n="$1" 'NR > 1 && $1 == n' "$MNT/.regionfs/stats"; }
# ns_listing: names, types, file sizes and modes below the root (not .regionfs).
ns_listing() { find "$MNT" -mindepth 1 -path "$MNT/.regionfs" -prune -o -type f -printf '%P f %s %m\n' -o -printf '%P %y %m\n' | sort; }
# ctl_result: what reading control says now.
ctl_result() { cat "$CTL"; }
# ctl_ok CMD: write CMD with one write(); it must return its full length.
ctl_ok() {
	local out
	out=$(CTL_CMD="$1" python3 -c '
import os, sys
c = os.environ["CTL_CMD"].encode() + b"\n"
fd = os.open(os.environ["MNT"] + "/.regionfs/control", os.O_WRONLY)
n = os.write(fd, c)
os.close(fd)
sys.exit(0 if n == len(c) else "write returned %d of %d" % (n, len(c)))' 2>&1) ||
		fail "control: '$1' failed: $out; control says: $(ctl_result)"
	assert_eq "ok: $1" "$(ctl_result)" "control after '$1'"
}
# ctl_refused ERRNO CMD: write(CMD) on control must fail with ERRNO (a "\0" in
# CMD is a NUL byte); nothing may change and control must give a reason.
ctl_refused() {
	local want=$1 cmd=$2 before_stats before_ls res
	before_stats=$(stats_fixed)
	before_ls=$(ns_listing)
	CTL_CMD="$cmd" expect_errno "$want" '
c = os.environ["CTL_CMD"].replace("\\0", "\0").encode() + b"\n"
fd = os.open(M + "/.regionfs/control", os.O_WRONLY)
try:
    os.write(fd, c)
finally:
    os.close(fd)'
	res=$(ctl_result)
	if [[ "$cmd" == *'\0'* ]]; then
		[[ "$res" == "error: "?* ]] || fail "control after NUL command: '$res'"
	else
		[[ "$res" == "error: $cmd: "?* ]] ||
			fail "control after refused '$cmd' should be 'error: $cmd: REASON', is '$res'"
	fi
	assert_eq "$before_stats" "$(stats_fixed)" "stats (but resident) after refused '$cmd'"
	assert_eq "$before_ls" "$(ns_listing)" \
		"namespace after refused '$cmd'"
	rfs_alive || fail "daemon gone after refused '$cmd'"
	echo "#   $want <- $cmd  ($res)"
}

rfs_mount -c "$W/cfg.ini" -o size=48M -o allow_other
CTL=$MNT/.regionfs/control

# --- the control directory
[[ -d "$MNT/.regionfs" ]] || fail ".regionfs missing at the mount root"
[[ -z "$(ls "$MNT")" ]] || fail "ls (without -a) of a fresh mount shows: $(ls "$MNT")"
assert_eq ". .." "$(ls -a "$MNT" | xargs)" "ls -a of a fresh mount (.regionfs is not listed)"
assert_eq "600 $(id -u):$(id -g)" "$(stat -c '%a %u:%g' "$CTL")" "control mode and owner"
assert_eq "444 444" "$(stat -c %a "$MNT/.regionfs/stats" "$MNT/.regionfs/metrics" | xargs)" "stats, metrics modes"
ok ".regionfs/ reachable by name, listed by neither ls nor ls -a; control 0600 owned by the daemon's user"

# --- the issue's "Done when": view imgB, cmp, stats, metrics
snap m0
win=$W/window
dd if="$DATA/x.data" of="$win" bs=1000000 skip=4 count=2 status=none
echo "view imgB file=$DATA/x.data offset=4000000 length=2000000 access=ro" >"$CTL" ||
	fail "echo view imgB > control failed: $(ctl_result)"
assert_eq "ok: view imgB file=$DATA/x.data offset=4000000 length=2000000 access=ro" "$(ctl_result)" "control after view imgB"
[[ -f "$MNT/imgB" ]] || fail "imgB does not exist after the view command"
assert_size "$MNT/imgB" 2000000
snap m1
cmp -i 4000000:0 -n 2000000 "$DATA/x.data" "$MNT/imgB" || fail "imgB differs from bytes [4000000, 6000000) of x.data"
cmp "$win" "$MNT/imgB" || fail "imgB differs from the extracted window"
snap m2
ok "control: view imgB offset=4000000 length=2000000 access=ro; cmp equal to the window"
expect_errno EROFS,EACCES,EPERM "os.open(M + '/imgB', os.O_WRONLY)"
ok "an ro view refuses opening for writing"

assert_eq "name kind size backing offset access opens dirty resident last_flush lifetime deleted private seals" \
	"$(head -1 "$MNT/.regionfs/stats")" "stats header"
line=$(stats_of imgB)
[[ -n "$line" ]] || fail "stats has no imgB line: $(cat "$MNT/.regionfs/stats")"
read -r -a f <<<"$line"
assert_eq 14 "${#f[@]}" "number of columns in '$line'"
assert_eq "imgB view 2000000 $DATA/x.data 4000000 ro 0 0" "${f[*]:0:8}" "stats line of imgB (first 8 columns)"
[[ "${f[8]}" =~ ^[0-9]+$ ]] || fail "resident column is not a number: $line"
((f[8] <= 2000000 + 2 * 4096)) || fail "resident ${f[8]} is more than the window: $line"
assert_eq - "${f[9]}" "last_flush of a view never flushed"
assert_eq persist "${f[10]}" "lifetime of a view"
assert_eq no "${f[11]}" "deleted column of a view whose backing file exists"
assert_eq 0 "${f[12]}" "private bytes of a ro view"
assert_eq - "${f[13]}" "seals of a view"
exec 3<"$MNT/imgB"
read -r -a f <<<"$(stats_of imgB)"
assert_eq 1 "${f[6]}" "opens column with one fd open"
ok "stats: imgB line has all 13 columns right (resident ${f[8]}), opens 1 with an fd open"

prom "$W/m2.prom" >/dev/null
labels="name=imgB,kind=view,access=ro,backing=$DATA/x.data"
assert_eq "2000000 0" "$(prom "$W/m2.prom" "regionfs_mapping_size_bytes{$labels}" "regionfs_mapping_dirty_bytes{$labels}" | xargs)" \
	"metrics size and dirty of imgB"
assert_eq 0 "$(prom "$W/m2.prom" "regionfs_mapping_last_flush_timestamp_seconds{$labels}")" "metrics last flush of imgB"
prom "$W/m2.prom" "regionfs_mapping_resident_bytes{$labels}" >/dev/null
assert_eq "$CAP" "$(prom "$W/m2.prom" regionfs_memory_cap_bytes)" "regionfs_memory_cap_bytes vs -o size=48M"
for op in lookup getattr open read write release readdir statfs create; do
	prom "$W/m2.prom" "regionfs_requests_total{op=$op}" >/dev/null
done
for c in read_bytes written_bytes flushes flush_errors faults; do
	prom "$W/m2.prom" "regionfs_${c}_total" >/dev/null
done
w0=$(prom "$W/m0.prom" 'regionfs_requests_total{op=write}')
w1=$(prom "$W/m1.prom" 'regionfs_requests_total{op=write}')
((w1 > w0)) || fail "requests_total{op=write} did not grow over a control write ($w0 -> $w1)"
r1=$(prom "$W/m1.prom" regionfs_read_bytes_total)
r2=$(prom "$W/m2.prom" regionfs_read_bytes_total)
((r2 - r1 >= 2000000)) || fail "read_bytes_total grew by $((r2 - r1)) over reading imgB twice (2000000 bytes, cold)"
o1=$(prom "$W/m1.prom" 'regionfs_requests_total{op=open}')
o2=$(prom "$W/m2.prom" 'regionfs_requests_total{op=open}')
((o2 > o1)) || fail "requests_total{op=open} did not grow ($o1 -> $o2)"
snap m3
assert_eq 1 "$(prom "$W/m3.prom" "regionfs_mapping_open_files{$labels}")" "metrics open_files of imgB with an fd open"
if "$PYSYS" "$PROM" <(printf 'regionfs_x{a="b} 1\n') >/dev/null 2>&1; then
	fail "ops_prom.py accepts broken metrics text"
fi
ok "metrics parse as Prometheus text; imgB gauges; writes $w0->$w1, read bytes +$((r2 - r1)), cap $CAP"

# --- remove imgB, with an fd still open on it
echo "remove imgB" >"$CTL" || fail "echo remove imgB > control failed: $(ctl_result)"
assert_eq "ok: remove imgB" "$(ctl_result)" "control after remove"
ls "$MNT" >"$W/ls"
if grep -qx imgB "$W/ls"; then fail "ls still shows imgB after remove"; fi
expect_errno ENOENT "os.stat(M + '/imgB')"
[[ -z "$(stats_of imgB)" ]] || fail "stats still lists imgB after remove: $(stats_of imgB)"
snap m4
if grep -q 'name="imgB"' "$W/m4.prom"; then fail "metrics still list imgB after remove"; fi
cmp - "$win" <&3 || fail "an fd opened before remove no longer reads the window"
exec 3<&-
ok "remove imgB: gone from ls, stat (ENOENT), stats and metrics; an open fd still reads it"

# --- regions
ctl_ok "region r1 size=1M mode=0600"
assert_eq "regular file 1048576 600" "$(stat -c '%F %s %a' "$MNT/r1")" "r1 type, size, mode"
assert_eq "r1 region 1048576 - 0 rw 0 0" "$(stats_of r1 | cut -d' ' -f1-8)" "stats line of r1"
head -c 1M /dev/urandom >"$W/r1"
cp "$W/r1" "$MNT/r1"
cmp "$W/r1" "$MNT/r1" || fail "data written to r1 differs"
ok "region r1 size=1M mode=0600: created, in stats, holds data"
ctl_ok "view imgB file=$DATA/x.data offset=4000000 length=2000000 access=ro"
ctl_refused EEXIST "region r1 size=1M mode=0600"
ctl_refused EEXIST "region imgB size=4K"
ctl_refused EEXIST "view r1 file=$DATA/x.data"
ctl_refused EEXIST "view imgB file=$DATA/x.data offset=0 length=4096"
[[ $(ctl_result) == *": view imgB: the name exists" ]] || fail "duplicate view name: $(ctl_result)"
ok "duplicate names are EEXIST (region or view over region or view), nothing changes"

# --- refused commands
ctl_refused EACCES "view pw file=/etc/passwd"
ctl_refused EACCES "view sh file=$DATA/shadow-link"
ctl_refused EACCES "view rl file=$DATA/rel-link"
ctl_refused EACCES "view dd file=$DATA/sub/../../outside.data"
ctl_refused EACCES "view d2 file=$DATA/../outside.data"
ok "views outside allowed_roots, through symlinks (absolute, relative) or .. out of it: EACCES, no change"
ctl_refused EINVAL "frobnicate the flux capacitor"
# Lines are all parsed before any runs: a bad line anywhere changes nothing.
CTL_CMD=$'region multi size=1M\nfrobnicate' expect_errno EINVAL '
fd = os.open(M + "/.regionfs/control", os.O_WRONLY)
try:
    os.write(fd, os.environ["CTL_CMD"].encode() + b"\n")
finally:
    os.close(fd)'
[[ ! -e "$MNT/multi" ]] || fail "a write whose second line is bad still ran its first line"
[[ "$(ctl_result)" == "error: frobnicate: "?* ]] || fail "control after a bad second line: $(ctl_result)"
ctl_refused EINVAL "region r2 size=12Q"
ctl_refused EINVAL "region r2 size=-1"
ctl_refused EINVAL "region"
ctl_refused EINVAL "view"
ctl_refused EINVAL "remove"
ctl_refused EINVAL "region r2\\0 size=1M"
ctl_refused EINVAL "view v2 file=$DATA/x.data access=sideways"
ctl_refused EINVAL "region ../r2 size=1M"
ctl_refused ENOENT "remove nosuch"
ctl_refused ENOENT "view nf file=$DATA/no-such-file"
ok "garbage, bad size, missing NAME, NUL byte, bad access, bad name: EINVAL; missing names ENOENT; no change"
rfs_alive || fail "daemon not alive after the refused commands"
ok "the daemon is alive after all refused commands"

# --- other users
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${nobody[@]}" cat "$MNT/.regionfs/stats" >"$W/stats.nobody" || fail "uid 65534 cannot read stats under allow_other"
grep -q '^r1 region ' "$W/stats.nobody" || fail "stats read by uid 65534 lacks r1"
before=$(stats_fixed)
out=$("${nobody[@]}" "$PYSYS" -c '
import errno, os, sys
for flags in (os.O_WRONLY, os.O_RDWR, os.O_RDONLY):
    try:
        fd = os.open(sys.argv[1], flags)
    except OSError as e:
        print(errno.errorcode[e.errno])
        continue
    print("opened")
    if flags != os.O_RDONLY:
        os.write(fd, b"region evil size=1M\n")
    os.close(fd)' "$CTL" 2>&1)
assert_eq "EACCES EACCES EACCES" "$(xargs <<<"$out")" "uid 65534 opening control O_WRONLY, O_RDWR, O_RDONLY"
# shellcheck disable=SC2016 # $1 is for the inner sh
if "${nobody[@]}" sh -c 'echo "region evil size=1M" >"$1"' sh "$CTL" 2>/dev/null; then
	fail "uid 65534 could echo a command into control"
fi
assert_eq "$before" "$(stats_fixed)" "stats (but resident) after uid 65534 tried control"
[[ ! -e "$MNT/evil" ]] || fail "uid 65534 created a region"
ok "with allow_other, uid 65534 reads stats but cannot open control (EACCES)"

# --- flush
ctl_ok "view imgB-rw file=$DATA/rw.data offset=4096 length=65536 access=rw"
# The writer keeps its fd open: any close (even of a dup) flushes a view.
coproc WR {
	python3 -u -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.pwrite(fd, b"DIRTY BYTES", 0)
print("written")
sys.stdin.readline()
os.pwrite(fd, b"MORE", 100)
print("written")
sys.stdin.readline()
os.close(fd)' "$MNT/imgB-rw"
}
read -r ack <&"${WR[0]}" || fail "writer on imgB-rw died"
assert_eq written "$ack" "writer on imgB-rw"
read -r -a f <<<"$(stats_of imgB-rw)"
assert_eq "imgB-rw view 65536 $DATA/rw.data 4096 rw 1" "${f[*]:0:7}" "stats of imgB-rw"
((f[7] >= 11)) || fail "dirty is ${f[7]} after writing 11 bytes through an open fd"
assert_eq - "${f[9]}" "last_flush before any flush"
snap m5
ctl_ok "flush imgB-rw"
read -r -a f <<<"$(stats_of imgB-rw)"
assert_eq 0 "${f[7]}" "dirty after flush imgB-rw"
[[ "${f[9]}" =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$ ]] ||
	fail "last_flush after flush is '${f[9]}'"
flushed=$(date -u -d "${f[9]}" +%s)
(($(date +%s) - flushed <= 5)) || fail "last_flush ${f[9]} is not now"
snap m6
fl5=$(prom "$W/m5.prom" regionfs_flushes_total)
fl6=$(prom "$W/m6.prom" regionfs_flushes_total)
((fl6 == fl5 + 1)) || fail "flushes_total $fl5 -> $fl6 over flush imgB-rw"
rwl="name=imgB-rw,kind=view,access=rw,backing=$DATA/rw.data"
ts=$(prom "$W/m6.prom" "regionfs_mapping_last_flush_timestamp_seconds{$rwl}")
((ts >= flushed && ts <= flushed + 1)) || fail "metrics last flush $ts vs stats ${f[9]} ($flushed)"
assert_eq 0 "$(prom "$W/m6.prom" "regionfs_mapping_dirty_bytes{$rwl}")" "metrics dirty after flush"
cmp -i 4096:0 -n 11 "$DATA/rw.data" <(printf 'DIRTY BYTES') || fail "backing file lacks the bytes written"
echo more >&"${WR[1]}"
read -r ack <&"${WR[0]}" || fail "writer on imgB-rw died"
read -r -a f <<<"$(stats_of imgB-rw)"
((f[7] >= 4)) || fail "dirty is ${f[7]} after writing 4 more bytes"
ctl_ok "flush all"
read -r -a f <<<"$(stats_of imgB-rw)"
assert_eq 0 "${f[7]}" "dirty after flush all"
snap m7
fl7=$(prom "$W/m7.prom" regionfs_flushes_total)
((fl7 > fl6)) || fail "flushes_total did not grow over flush all ($fl6 -> $fl7)"
assert_eq 0 "$(prom "$W/m7.prom" regionfs_flush_errors_total)" "flush_errors_total"
echo close >&"${WR[1]}"
wait "$WR_PID" || fail "writer on imgB-rw failed"
ctl_refused EINVAL "flush"
ctl_refused ENOENT "flush no-such"
ok "flush imgB-rw and flush all: ok, dirty 0, last_flush set ($(date -u -d "@$ts" +%T)), flushes_total $fl5->$fl6->$fl7"

# --- commands are lines, however writers cut them
C=$MNT/.regionfs/control
# bash writes 4096 bytes at a time: the line ends in the second write.
printf 'region cut/pad%4070s size=4K\n' '' >"$C" 2>"$W/cut.err" && st=0 || st=$?
# (the padding is blanks inside the command: region NAME, then size=)
assert_eq 0 "$st" "a line split by bash's buffer: status ($(cat "$W/cut.err"))"
[[ $(stat -c %s "$MNT/cut/pad") == 4096 ]] || fail "the split line did not run whole"
# One write() the kernel splits at 1 MiB: every line runs, none is cut.
python3 -c '
import os, sys
lines = b"".join(b"region bulk/n%06d size=1\n" % i for i in range(60000))
fd = os.open(sys.argv[1], os.O_WRONLY)
assert os.write(fd, lines) == len(lines), "short write"
os.close(fd)' "$C" || fail "60,000 lines in one write()"
assert_eq 60000 "$(find "$MNT/bulk" -type f | wc -l)" "regions made by one 1.6 MB write()"
assert_eq 0 "$(find "$MNT" -maxdepth 1 -name 'bul*' ! -name bulk | wc -l)" "regions from cut lines"
rm -rf "$MNT/bulk"
# cat writes 128 KiB at a time.
for i in $(seq 10000); do echo "region cat/n$i size=1"; done >"$W/batch"
cat "$W/batch" >"$C" || fail "cat of a $(stat -c %s "$W/batch")-byte batch: $(cat "$C")"
assert_eq 10000 "$(find "$MNT/cat" -type f | wc -l)" "regions made by cat"
rm -rf "$MNT/cat"
# A last line without its newline runs at close; its error is close()'s.
echo -n "region nonl size=4K" >"$C"
assert_size "$MNT/nonl" 4096
expect_errno EINVAL '
fd = os.open(M + "/.regionfs/control", os.O_WRONLY)
os.write(fd, b"region bad size=lots")
os.close(fd)'
assert_eq "error: region bad size=lots: invalid size 'lots' (bytes, optional K/M/G/T suffix)" "$(cat "$C")" "control after a bad unended line"
ok "commands are lines: one split by bash's 4 KiB buffer, 60,000 in one 1.6 MB write(), a 10,000-line cat, a last line without newline (errors at close)"

rfs_alive || fail "daemon not alive at the end"
