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

m1=$(mktemp -d "${TMPDIR:-/tmp}/rfs-mnt.XXXXXX")
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
m2=$(mktemp -d "${TMPDIR:-/tmp}/rfs-mnt.XXXXXX")
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

ops_man_check
