#!/usr/bin/env bash
# Mount integration: mount -t fuse.regionfs ... -o config=FILE and an fstab
# line (mount -T ALT_FSTAB) start a daemonized regionfs that umount stops;
# every option in regionfs's --help is documented in doc/regionfs.8.
#
# mount(8) runs mount.fuse3, which runs "regionfs" from a fixed safe PATH
# (/usr/local/sbin, /usr/local/bin, /usr/sbin, ...): this test links
# /usr/local/sbin/regionfs -> $REGIONFS if nothing is there yet, and removes
# that link at exit. It needs root (mount -t), else it is skipped.
. "$(dirname "$0")/lib.sh"

rfs_require
W=$RFS_WORK
LINK=/usr/local/sbin/regionfs
OURS=""        # set when this test created $LINK
OPS_MNTS=()    # mount points this test made
MiB=1048576

# daemon_pids MNT: pids of live (not zombie) regionfs processes serving MNT.
daemon_pids() {
	local p args state
	for p in /proc/[0-9]*; do
		[[ -r "$p/cmdline" ]] || continue
		mapfile -d '' -t args <"$p/cmdline" 2>/dev/null || continue
		((${#args[@]} > 0)) || continue
		[[ "$(basename -- "${args[0]}")" == regionfs ]] || continue
		printf '%s\n' "${args[@]:1}" | grep -qxF -- "$1" || continue
		state=$(awk '/^State:/ { print $2 }' "$p/status" 2>/dev/null) || continue
		[[ -n "$state" && "$state" != Z ]] || continue
		echo "${p#/proc/}"
	done
}
no_daemon() { [[ -z "$(daemon_pids "$1")" ]]; }

# ops_umount MNT: unmount MNT (umount, else fusermount3 -u, else umount -l)
# and wait up to 10 s for its daemon to end; print a problem and return 1.
ops_umount() {
	local m=$1 bad=0 p
	if _rfs_mounted "$m"; then
		umount "$m" 2>>"$W/umount.err" || fusermount3 -u "$m" 2>>"$W/umount.err" ||
			{ echo "# umount $m failed: $(tail -1 "$W/umount.err")" >&2; umount -l "$m"; bad=1; }
	fi
	if ! wait_until 10 no_daemon "$m"; then
		echo "# regionfs for $m still running after unmount: $(daemon_pids "$m"); killing it" >&2
		for p in $(daemon_pids "$m"); do kill -KILL "$p" 2>/dev/null; done
		bad=1
	fi
	return "$bad"
}

_ops_cleanup() {
	local rc=$? m
	set +e
	cd / || true
	for m in "${OPS_MNTS[@]}"; do
		ops_umount "$m" || { ((rc != 0 && rc != 77)) || rc=1; }
		rmdir "$m" 2>/dev/null
	done
	if [[ -n "$OURS" && -L "$LINK" && "$(readlink "$LINK")" == "$REGIONFS" ]]; then
		rm -f "$LINK"
	fi
	(exit "$rc")
	_rfs_cleanup
}
trap _ops_cleanup EXIT

# ops_man_check: every regionfs option of --help is in doc/regionfs.8 (run last).
ops_man_check() {
	local man missing extra
	"$REGIONFS" --help >"$W/help" 2>&1 || fail "regionfs --help failed: $(head -3 "$W/help")"
	man=$RFS_ROOT/doc/regionfs.8
	[[ -f "$man" ]] || fail "no man page $man"
	command -v groff >/dev/null || fail "groff missing (needed to render $man)"
	groff -man -Tascii -rLL=300n -rHY=0 -P-cbou "$man" >"$W/man.txt" 2>"$W/man.err" || fail "groff $man: $(cat "$W/man.err")"
	[[ ! -s "$W/man.err" ]] || fail "groff warns about $man: $(head -3 "$W/man.err")"
	grep -q '^REGIONFS(8)' "$W/man.txt" || fail "$man does not render as REGIONFS(8): $(head -2 "$W/man.txt")"
	# option keys: "-c FILE, -o config=FILE" -> "-c" "-o config"; "--help" -> "--help"
	keys() { sed -E 's/, +/\n/g' | awk '{ k = $1; if (k == "-o") { split($2, a, "="); k = k " " a[1] } print k }' | sort -u; }
	# The "regionfs options:" section of --help: option lines up to the next blank line.
	awk '/^regionfs options:/ { on = 1; next } on && /^$/ { exit } on && /^    -/' "$W/help" |
		sed -E 's/^ +//; s/ {2,}.*//' | keys >"$W/help.keys"
	(($(wc -l <"$W/help.keys") >= 5)) || fail "could not parse the regionfs options of --help: $(cat "$W/help")"
	# The OPTIONS section of the man page: its tags (7-space indented lines starting with -).
	awk '/^OPTIONS/ { on = 1; next } on && /^[A-Z]/ { exit } on && /^       -/' "$W/man.txt" |
		sed -E 's/^ +//; s/ {2,}.*//' | keys >"$W/man.keys"
	missing=$(comm -23 "$W/help.keys" "$W/man.keys")
	[[ -z "$missing" ]] || fail "options in --help but not in the OPTIONS of doc/regionfs.8: $(xargs <<<"$missing") (man has: $(xargs <"$W/man.keys"))"
	extra=$(comm -13 "$W/help.keys" "$W/man.keys")
	[[ -z "$extra" ]] || echo "# in the man page but not in --help: $(xargs <<<"$extra")"
	ok "every option of --help's regionfs section is in regionfs(8): $(xargs <"$W/help.keys")"
}

# --- mount -t fuse.regionfs
if [[ $(id -u) != 0 ]]; then
	echo "# SKIP mount -t and mount -T: they need root"
	ops_man_check
	exit 0
fi
command -v mount.fuse3 >/dev/null || [[ -x /sbin/mount.fuse3 ]] || skip "mount.fuse3 missing (fuse3)"
if [[ -e "$LINK" || -L "$LINK" ]]; then
	echo "# $LINK exists ($(readlink -f "$LINK")): using it, not $REGIONFS" >&2
	[[ -x "$LINK" ]] || fail "$LINK exists but is not executable"
else
	ln -s "$REGIONFS" "$LINK" || skip "cannot create $LINK"
	OURS=1
fi

CFG=$W/regionfs.ini
cat >"$CFG" <<'EOF'
[regionfs]
size = 24M

[region:telemetry]
size = 1M
mode = 0640

[region:ipc/ring]
size = 64K
EOF
# check_mounted MNT WHAT: the mount is a working regionfs from $CFG.
check_mounted() {
	local m=$1 line
	mountpoint -q "$m" || fail "$2: $m is not a mount point"
	line=$(mount | awk -v m="$m" '$2 == "on" && $3 == m')
	[[ -n "$line" ]] || fail "$2: mount does not list $m"
	read -r -a f <<<"$line"
	assert_eq "regionfs on $m type fuse.regionfs" "${f[*]:0:5}" "$2: mount output"
	assert_eq "regular file $MiB 640" "$(stat -c '%F %s %a' "$m/telemetry")" "$2: telemetry"
	assert_eq 65536 "$(stat -c %s "$m/ipc/ring")" "$2: ipc/ring size"
	grep -q '^telemetry region 1048576 ' "$m/.regionfs/stats" || fail "$2: stats lacks telemetry: $(cat "$m/.regionfs/stats")"
	assert_eq "regionfs $((24 * MiB))" "$(df -B1 --output=source,size "$m" | tail -1 | xargs)" "$2: df source and size"
	head -c 100000 /dev/urandom >"$W/data"
	cp "$W/data" "$m/file"
	cmp "$W/data" "$m/file" || fail "$2: data written differs"
	pids=$(daemon_pids "$m")
	[[ -n "$pids" ]] || fail "$2: no regionfs process serves $m"
	(($(wc -w <<<"$pids") == 1)) || fail "$2: several daemons for $m: $pids"
	ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pids/status")
	[[ "$ppid" != "$$" ]] || fail "$2: the daemon is a child of the test shell (not daemonized)"
	echo "# $2: daemon pid $pids (parent $ppid): $(tr '\0' ' ' <"/proc/$pids/cmdline")"
}
# check_unmount MNT WHAT
check_unmount() {
	umount "$1" || fail "$2: umount $1 failed"
	! mountpoint -q "$1" || fail "$2: $1 still mounted after umount"
	wait_until 5 no_daemon "$1" || fail "$2: regionfs still running 5 s after umount: $(daemon_pids "$1")"
}

m1=$(rfs_mnt_dir)
OPS_MNTS+=("$m1")
out=$(mount -t fuse.regionfs regionfs "$m1" -o config="$CFG" 2>&1) ||
	fail "mount -t fuse.regionfs regionfs $m1 -o config=$CFG: $out"
check_mounted "$m1" "mount -t fuse.regionfs"
ok "mount -t fuse.regionfs regionfs MNT -o config=FILE: type fuse.regionfs, regions there, df 24M, daemonized"
check_unmount "$m1" "mount -t"
ok "umount: unmounted, the daemon is gone"

# --- mount -T ALT_FSTAB with the line of conf/fstab.example
example=$(grep -v '^[[:space:]]*#' "$RFS_ROOT/conf/fstab.example" | awk 'NF')
(($(wc -l <<<"$example") == 1)) || fail "conf/fstab.example should hold one fstab line: $example"
read -r src _ type opts dump pass <<<"$example"
assert_eq "regionfs fuse.regionfs" "$src $type" "source and type of the conf/fstab.example line"
[[ "$opts" == *config=* ]] || fail "conf/fstab.example options lack config=: $opts"
opts=$(sed -E "s|config=[^,]*|config=$CFG|" <<<"$opts")
m2=$(rfs_mnt_dir)
OPS_MNTS+=("$m2")
printf '# test fstab\n%s %s %s %s %s %s\n' "$src" "$m2" "$type" "$opts" "$dump" "$pass" >"$W/fstab"
out=$(mount -T "$W/fstab" "$m2" 2>&1) || fail "mount -T $W/fstab $m2 ($(tail -1 "$W/fstab")): $out"
check_mounted "$m2" "mount -T fstab"
if [[ ",$opts," == *,allow_other,* ]]; then
	grep -q "^regionfs on $m2 type fuse.regionfs (.*allow_other" <(mount) || fail "allow_other missing from the mount options"
	other=$(setpriv --reuid=65534 --regid=65534 --clear-groups ls "$m2" 2>&1) || fail "with allow_other, uid 65534 cannot list $m2: $other"
	setpriv --reuid=65534 --regid=65534 --clear-groups cat "$m2/telemetry" >/dev/null 2>&1 && fail "uid 65534 read a 0640 region of root"
fi
check_unmount "$m2" "mount -T fstab"
ok "mount -T ALT_FSTAB MNT with the conf/fstab.example line ($opts): mounted, allow_other honoured, umount ends the daemon"

# --- a bad config through mount(8): mount fails, nothing is left behind
printf '[regionfs]\nsize = lots\n' >"$W/bad.ini"
if out=$(mount -t fuse.regionfs regionfs "$m1" -o config="$W/bad.ini" 2>&1); then
	fail "mount with a bad config succeeded"
fi
! mountpoint -q "$m1" || fail "$m1 mounted despite a bad config"
wait_until 2 no_daemon "$m1" || fail "a daemon for the bad config is still running: $(daemon_pids "$m1")"
ok "mount -t with a bad config fails (${out//$'\n'/ }) and leaves no daemon"

# --- mount(8) as for any file system: SOURCE, generic options, remount, logs
# mount_line MNT: "SOURCE FSTYPE OPTIONS" as findmnt shows the mount.
mount_line() { findmnt -n -r -o SOURCE,FSTYPE,OPTIONS --target "$1"; }
# mount_flag MNT FLAG: is FLAG among the mount's options?
mount_flag() { [[ ",$(findmnt -n -r -o OPTIONS --target "$1")," == *",$2,"* ]]; }

m3=$(rfs_mnt_dir)
m4=$(rfs_mnt_dir)
OPS_MNTS+=("$m3" "$m4")
out=$(mount -t fuse.regionfs "tenant A" "$m3" -o size=8M,log="$W/a.log",relatime,nofail,_netdev 2>&1) ||
	fail "mount -t fuse.regionfs 'tenant A' $m3 -o size=8M,...: $out"
out=$(mount -t fuse.regionfs tenant,B "$m4" -o size=4M,strictatime,nodiratime 2>&1) ||
	fail "mount -t fuse.regionfs tenant,B $m4: $out"
read -r src type _ <<<"$(mount_line "$m3")"
assert_eq 'tenant\x20A fuse.regionfs' "$src $type" "findmnt source and type of $m3"
assert_eq "$m3" "$(findmnt -n -o TARGET -S 'tenant A')" "findmnt -S 'tenant A'"
assert_eq "$m4" "$(findmnt -n -o TARGET -S tenant,B)" "findmnt -S tenant,B"
assert_eq "tenant A $((8 * MiB))" "$(df -B1 --output=source,size "$m3" | tail -1 | sed 's/ *$//;s/  */ /g')" "df of $m3"
grep -q "^tenant\\\\040A $m3 fuse.regionfs " /proc/mounts || fail "/proc/mounts lacks 'tenant\\040A $m3': $(grep "$m3" /proc/mounts)"
mount_flag "$m3" relatime || fail "$m3 not relatime: $(mount_line "$m3")"
mount_flag "$m4" nodiratime || fail "$m4 not nodiratime: $(mount_line "$m4")"
! mount_flag "$m4" relatime && ! mount_flag "$m4" noatime || fail "$m4 not strictatime: $(mount_line "$m4")"
ok "mount -t fuse.regionfs SOURCE: findmnt, df and /proc/mounts show each SOURCE (spaces, commas); relatime, strictatime, nodiratime, nofail, _netdev accepted"

# remount ro and back, with and without -t: same daemon, bytes kept.
head -c 300000 /dev/urandom >"$W/r.data"
cp "$W/r.data" "$m3/region"
pid=$(daemon_pids "$m3")
out=$(mount -o remount,ro "$m3" 2>&1) || fail "mount -o remount,ro $m3: $out"
mount_flag "$m3" ro || fail "after remount,ro: $(mount_line "$m3")"
mount_flag "$m3" relatime || fail "remount,ro dropped relatime: $(mount_line "$m3")"
expect_fail=$(python3 -c 'import os,sys
try:
    os.open(sys.argv[1], os.O_WRONLY)
except OSError as e:
    print(e.errno)' "$m3/region")
assert_eq "$(python3 -c 'import errno; print(errno.EROFS)')" "$expect_fail" "open(O_WRONLY) on a ro remount"
cmp "$W/r.data" "$m3/region" || fail "region bytes differ after remount,ro"
out=$(mount -t fuse.regionfs -o remount,rw "tenant A" "$m3" 2>&1) || fail "mount -t ... -o remount,rw: $out"
! mount_flag "$m3" ro || fail "after remount,rw: $(mount_line "$m3")"
echo more >>"$m3/region" || fail "cannot write after remount,rw"
cmp -n 300000 "$W/r.data" "$m3/region" || fail "region bytes differ after remount,rw"
assert_eq "$pid" "$(daemon_pids "$m3")" "the daemon serving $m3 after two remounts"
if out=$(mount -o remount,size=16M "$m3" 2>&1); then
	fail "mount -o remount,size=16M succeeded, but the size cannot change"
fi
[[ "$out" == *"keeps the size it was mounted with"* ]] || fail "remount,size=16M: unclear message: $out"
assert_eq "$((8 * MiB))" "$(df -B1 --output=size "$m3" | tail -1 | xargs)" "size after a refused remount,size="
if out=$(mount -o remount,ro "$W" 2>&1); then fail "remount of a non-mount succeeded"; fi
ok "mount -o remount,ro / remount,rw (with and without -t): EROFS then writes again, bytes intact, same daemon ($pid); remount,size=16M refused, size unchanged"

# An fstab line with the generic options an fstab carries; remount through it.
m5=$(rfs_mnt_dir)
OPS_MNTS+=("$m5")
printf 'tenantC %s fuse.regionfs size=8M,nofail,_netdev,noatime,nosuid,nodev,noexec,x-systemd.automount,x-systemd.idle-timeout=60,comment=x,defaults 0 0\n' "$m5" >"$W/fstab2"
out=$(mount -T "$W/fstab2" "$m5" 2>&1) || fail "mount -T with generic options: $out"
for f in noatime nosuid nodev noexec; do mount_flag "$m5" "$f" || fail "$m5 lacks $f: $(mount_line "$m5")"; done
assert_eq tenantC "$(findmnt -n -o SOURCE --target "$m5")" "source of the fstab mount"
echo hello >"$m5/r"
out=$(mount -T "$W/fstab2" -o remount,ro "$m5" 2>&1) || fail "remount,ro through the fstab line: $out"
mount_flag "$m5" ro && mount_flag "$m5" noatime || fail "after an fstab remount,ro: $(mount_line "$m5")"
assert_content "$m5/r" $'hello\n'
ok "fstab line with nofail, _netdev, noatime, nosuid, nodev, noexec, x-systemd.*, comment=, defaults: mounted; remount,ro through it keeps the flags and the bytes"
check_unmount "$m5" "fstab generic options"

# The daemons' logs: -o log=FILE in the background, stderr without /dev/log.
check_unmount "$m3" "mount -t tenant A"
wait_until 5 grep -q 'session ended; exit status 0' "$W/a.log" ||
	fail "-o log=$W/a.log lacks the exit line: $(cat "$W/a.log")"
grep -q 'logging to the -o log= file' "$W/a.log" || fail "log file lacks its sink line: $(cat "$W/a.log")"
ok "-o log=FILE: the daemon's lines are in FILE, the last one 'exit status 0' after umount"
pid4=$(daemon_pids "$m4")
check_unmount "$m4" "mount -t tenant,B"
wait_until 5 grep -q "regionfs\[$pid4\]: .*session ended; exit status 0" <(dmesg 2>/dev/null) ||
	{ [[ -S /dev/log ]] || fail "the daemon of $m4 (pid $pid4; stderr a pipe, no /dev/log) logged nothing to dmesg: $(dmesg | grep regionfs | tail -3)"; }
ok "no -o log=, stderr a pipe ($(
	[[ -S /dev/log ]] && echo "syslog at /dev/log" || echo "no /dev/log"
)): the daemon logs to the kernel log, 'exit status 0' in dmesg"

# With a syslog at /dev/log (a private /dev in a mount namespace), lines go there.
cat >"$W/syslog.py" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
s.settimeout(20)
with open(sys.argv[1], "ab") as out:
    while True:
        try:
            m = s.recv(4096)
        except socket.timeout:
            break
        out.write(m + b"\n")
        out.flush()
        if b"session ended" in m:
            break
EOF
m6=$(rfs_mnt_dir)
OPS_MNTS+=("$m6")
unshare -m --propagation private bash -euc '
	W=$1 M=$2 B=$3
	mkdir -p "$W/olddev" && mount --rbind /dev "$W/olddev"
	mount -t tmpfs -o mode=0755 devtmp /dev
	for n in null zero fuse urandom random tty kmsg; do
		[[ -e "$W/olddev/$n" ]] || continue
		touch "/dev/$n" && mount --bind "$W/olddev/$n" "/dev/$n"
	done
	ln -s /proc/self/fd /dev/fd
	python3 "$W/syslog.py" "$W/syslog.out" &
	for _ in $(seq 100); do [[ -e "$W/syslog.out.ready" ]] && break; sleep 0.05; done
	"$B" -o size=4M "$M"
	echo bogus >"$M/.regionfs/control" 2>/dev/null || true
	umount "$M"
	wait
' _ "$W" "$m6" "$REGIONFS" >"$W/ns.out" 2>&1 || fail "syslog run in a mount namespace failed: $(cat "$W/ns.out")"
grep -q 'regionfs\[[0-9]*\]: serving .*logging to syslog' "$W/syslog.out" || fail "syslog got no 'logging to syslog' line: $(cat "$W/syslog.out" "$W/ns.out")"
grep -q 'regionfs\[[0-9]*\]: control: bogus: unknown command' "$W/syslog.out" || fail "syslog lacks the control warning: $(cat "$W/syslog.out")"
grep -q 'session ended; exit status 0' "$W/syslog.out" || fail "syslog lacks the exit line: $(cat "$W/syslog.out")"
ok "with a syslog listening at /dev/log, the background daemon's lines (start, a warning, exit status 0) go there"

ops_man_check
