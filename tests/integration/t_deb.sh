#!/usr/bin/env bash
# The Debian package: make deb builds build/regionfs_VERSION_ARCH.deb,
# lintian finds nothing, and in a fresh Debian root (debootstrap, cached in
# build/deb/root) `apt-get install ./regionfs_*.deb` installs it with its
# dependencies, dpkg -L lists what the .deb holds, the fstab lines
# `regionfs /mnt/x fuse.regionfs defaults,allow_other 0 0` (mount /mnt/x) and
# one with config= (mount -a) mount it, a region holds its bytes, umount ends
# the daemon, dpkg -r leaves only the conffile and purging leaves nothing.
# Runs in the default pass of the plain build only (the package does not
# depend on the transport or the data path); the host is not touched: the
# root's mounts live in a mount namespace of this test's own.

# Before the harness (whose EXIT trap would not run across exec): on with
# mounts private to this test, so none outlives it, even when it is killed.
if [[ -z ${RFS_DEB_NS:-} && $(id -u) == 0 ]] && unshare -m true 2>/dev/null; then
	RFS_DEB_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

rfs_require
[[ $(id -u) == 0 ]] || skip "needs root (chroot, mount)"
[[ -z ${RFS_TRANSPORT:-} && -z ${RFS_DATA_PATH:-} && -z ${SANITIZE:-} ]] ||
	skip "the package is tested once, in the default pass of the plain build"
[[ -n ${RFS_DEB_NS:-} ]] || skip "unshare -m failed: no mount namespace for the root's mounts"
for t in dpkg-buildpackage lintian debootstrap; do
	command -v "$t" >/dev/null || skip "$t missing (make test's dependency step installs it)"
done

W=$RFS_WORK
ROOT=$RFS_ROOT/build/deb/root
ROOT_MNTS=() # what this test mounted in the root, unmounted at exit
MiB=1048576

_deb_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#ROOT_MNTS[@]} - 1; i >= 0; i--)); do
		mountpoint -q "${ROOT_MNTS[i]}" && { umount -R "${ROOT_MNTS[i]}" 2>/dev/null || umount -R -l "${ROOT_MNTS[i]}"; }
	done
	# The root stays cached for the next run, as it was before this one.
	[[ -f "$ROOT/etc/fstab" ]] && sed -i '/fuse\.regionfs/d' "$ROOT/etc/fstab"
	rm -f "$ROOT"/tmp/regionfs_*.deb
	(exit "$rc")
	_rfs_cleanup
}
trap _deb_cleanup EXIT

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# pkg_daemons: how many processes run the root's /usr/bin/regionfs. Found
# by executable, not command line: mount.fuse3 starts it as plain
# "regionfs", so its command line does not name the mount.
pkg_daemons() {
	local p n=0
	for p in /proc/[0-9]*; do
		[[ "$(readlink "$p/exe" 2>/dev/null)" == "$ROOT/usr/bin/regionfs" ]] && n=$((n + 1))
	done
	echo $n
}

# mounted_ok MNT SOURCE N: findmnt in the root names SOURCE and fuse.regionfs;
# a 1 MiB region written there reads back the same; N packaged daemons run.
mounted_ok() {
	local line
	line=$(findmnt -n -r -o SOURCE,FSTYPE "$ROOT$1") || fail "nothing mounted at $ROOT$1"
	assert_eq "$2 fuse.regionfs" "$line" "findmnt of $1"
	head -c $MiB /dev/urandom >"$W/data"
	cp "$W/data" "$ROOT$1/ring" && cmp "$W/data" "$ROOT$1/ring" || fail "$1: a region's bytes differ"
	assert_eq "$3" "$(pkg_daemons)" "packaged daemons with $1 mounted"
}

# unmounted_ok MNT N: umount in the root ends its daemon within 5 s, leaving N.
unmounted_ok() {
	local i
	in_root umount "$1" || fail "umount $1 in the root"
	for ((i = 0; i < 50; i++)); do
		[[ "$(pkg_daemons)" == "$2" ]] && return 0
		sleep 0.1
	done
	fail "$(pkg_daemons) packaged daemons still run after umount $1, not $2"
}

# --- build and lint
start=$SECONDS
out=$(make -C "$RFS_ROOT" --no-print-directory deb 2>&1) || fail "make deb: $out"
deb=$(tail -1 <<<"$out")
version=$(sed -n 's/^#define RFS_VERSION "\(.*\)"/\1/p' "$RFS_ROOT/fs/fs.h")
assert_eq "build/regionfs_${version}_$(dpkg --print-architecture).deb" "$deb" "the package's name"
deb=$RFS_ROOT/$deb
debname=$(basename "$deb")
lint=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[[ -z "$lint" ]] || fail "lintian: $lint"
# The paths the package holds (directories included), as dpkg -L writes them.
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; s|/$||; s|^$|/.|' | sort >"$W/paths"
for f in /usr/bin/regionfs /usr/share/man/man8/regionfs.8.gz /lib/systemd/system/regionfs.service \
	/lib/systemd/system/regionfs@.service /etc/regionfs.ini /usr/share/doc/regionfs/README.md.gz \
	/usr/share/doc/regionfs/copyright /usr/share/doc/regionfs/example.ini.gz \
	/usr/share/doc/regionfs/fstab.example; do
	grep -qx "$f" "$W/paths" || fail "the package lacks $f: $(xargs <"$W/paths")"
done
dpkg-deb -f "$deb" Version | grep -qx "$version" || fail "package version $(dpkg-deb -f "$deb" Version), RFS_VERSION $version"
dpkg-deb -f "$deb" Depends | grep -qE '(^|, )fuse3(,|$| )' || fail "the package does not depend on fuse3: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -q 'libfuse3-' || fail "no shared-library dependency (shlibs): $(dpkg-deb -f "$deb" Depends)"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/regionfs.ini ||
	fail "/etc/regionfs.ini is not a conffile"
unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/regionfs@.service)
grep -q '^ExecStart=/usr/bin/regionfs ' <<<"$unit" || fail "regionfs@.service does not run /usr/bin/regionfs"
grep -q '^ExecStart=.* -o allow_other,restart %i %f$' <<<"$unit" || fail "regionfs@.service: no -o restart"
[[ "$(grep '^ExecReload=' <<<"$unit")" == $'ExecReload=-/usr/bin/regionfs --upgrade %f\nExecReload=/bin/kill -HUP $MAINPID' ]] ||
	fail "regionfs@.service: ExecReload is not a live upgrade, then a HUP: $(grep '^ExecReload=' <<<"$unit")"
ok "make deb: $debname in $((SECONDS - start)) s, lintian clean, $(grep -c . "$W/paths") paths (binary, man page, two units, conffile /etc/regionfs.ini, docs), Depends: $(dpkg-deb -f "$deb" Depends)"

# --- a fresh Debian root, made once and kept in build/deb/root
start=$SECONDS
if [[ ! -x "$ROOT/usr/bin/apt-get" ]]; then
	mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	rm -rf --one-file-system "$ROOT.tmp"
	mkdir -p "$(dirname "$ROOT")"
	debootstrap --variant=minbase "$suite" "$ROOT.tmp" "${mirror:-http://deb.debian.org/debian}" >"$W/debootstrap.log" 2>&1 ||
		skip "debootstrap $suite cannot reach a Debian mirror: $(tail -2 "$W/debootstrap.log")"
	mv "$ROOT.tmp" "$ROOT"
	made="made by debootstrap in $((SECONDS - start)) s"
else
	made="cached"
fi
for d in proc sys dev; do
	mount --rbind "/$d" "$ROOT/$d" && mount --make-rslave "$ROOT/$d" || fail "cannot bind /$d into $ROOT"
	ROOT_MNTS+=("$ROOT/$d")
done
# installed: the packages dpkg has installed in the root, one a line.
installed() { in_root dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort; }
# A run killed half way left the package or its dependencies: back to debootstrap's root.
if in_root dpkg-query -W regionfs >/dev/null 2>&1 || [[ -n "$(in_root apt-mark showauto)" ]]; then
	{ in_root dpkg --purge regionfs && in_root apt-get autoremove --purge -y -qq; } >"$W/restore.log" 2>&1 ||
		fail "cannot restore $ROOT as debootstrap left it: $(tail -3 "$W/restore.log")"
fi
installed >"$W/before"
grep -qx fuse3 "$W/before" && fail "fuse3 already in the root, not as debootstrap left it"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$ROOT/tmp/"
in_root apt-get update -qq >"$W/apt.log" 2>&1 || fail "apt-get update in the root: $(tail -3 "$W/apt.log")"
in_root sh -c "cd /tmp && apt-get install -y -qq --no-install-recommends ./$debname" >>"$W/apt.log" 2>&1 ||
	fail "apt-get install ./$debname: $(tail -5 "$W/apt.log")"
assert_eq "install ok installed" "$(in_root dpkg-query -W -f='${Status}' regionfs)" "dpkg status of regionfs"
installed >"$W/after"
added=$(comm -13 "$W/before" "$W/after" | xargs)
[[ " $added " == *" fuse3 "* && " $added " == *" regionfs "* ]] || fail "apt-get installed '$added', want regionfs and fuse3 among them"
in_root regionfs --version | head -1 | grep -qx "regionfs $version" || fail "regionfs --version in the root: $(in_root regionfs --version 2>&1)"
in_root dpkg -L regionfs | sort >"$W/listed"
diff "$W/paths" "$W/listed" >"$W/diff" || fail "dpkg -L regionfs differs from the .deb's contents: $(cat "$W/diff")"
ok "apt-get install ./$debname into a fresh $(. "$ROOT/etc/os-release" && echo "$PRETTY_NAME") root ($made): installed $added; dpkg -L lists the .deb's $(grep -c . "$W/listed") paths; regionfs --version says $version"

# --- fstab: the plain line (mount MOUNTPOINT), then one with a config (mount -a)
mkdir -p "$ROOT/mnt/x" "$ROOT/mnt/regions"
cat >>"$ROOT/etc/fstab" <<'EOF'
regionfs /mnt/x fuse.regionfs defaults,allow_other 0 0
tenantD /mnt/regions fuse.regionfs config=/etc/regionfs.ini,size=16M,nofail,_netdev 0 0
EOF
ROOT_MNTS+=("$ROOT/mnt/x" "$ROOT/mnt/regions")
out=$(in_root mount /mnt/x 2>&1) || fail "mount /mnt/x in the root: $out"
mounted_ok /mnt/x regionfs 1
findmnt -n -o OPTIONS "$ROOT/mnt/x" | grep -q allow_other || fail "/mnt/x: no allow_other: $(findmnt -n -o OPTIONS "$ROOT/mnt/x")"
out=$(in_root mount -a 2>&1) || fail "mount -a in the root: $out"
mounted_ok /mnt/regions tenantD 2
assert_eq "tenantD $((16 * MiB))" "$(df -B1 --output=source,size "$ROOT/mnt/regions" | tail -1 | xargs)" "df of the fstab mount"
assert_eq 1 "$(findmnt -n -r -o TARGET -t fuse.regionfs | grep -cx "$ROOT/mnt/x")" "mounts at /mnt/x after mount -a"
unmounted_ok /mnt/x 1
unmounted_ok /mnt/regions 0
ok "fstab 'regionfs /mnt/x fuse.regionfs defaults,allow_other 0 0' by mount /mnt/x and 'tenantD /mnt/regions ... config=/etc/regionfs.ini,size=16M,nofail,_netdev' by mount -a: findmnt names each, 1 MiB regions intact, umount ends each daemon"

# --- removal: dpkg -r keeps the conffile, purge removes it; nothing left
in_root dpkg -r regionfs >>"$W/apt.log" 2>&1 || fail "dpkg -r regionfs: $(tail -3 "$W/apt.log")"
assert_eq "deinstall ok config-files" "$(in_root dpkg-query -W -f='${Status}' regionfs)" "dpkg status after dpkg -r"
left=""
while read -r f; do
	[[ -e "$ROOT$f" && ! -d "$ROOT$f" ]] && left="$left $f"
done <"$W/paths"
assert_eq " /etc/regionfs.ini" "$left" "files left after dpkg -r (the conffile only)"
in_root dpkg --purge regionfs >>"$W/apt.log" 2>&1 || fail "dpkg --purge regionfs: $(tail -3 "$W/apt.log")"
left=""
while read -r f; do
	[[ -e "$ROOT$f" && ! -d "$ROOT$f" ]] && left="$left $f"
done <"$W/paths"
[[ -z "$left" ]] || fail "files left after purge:$left"
for d in /usr/share/doc/regionfs /etc/regionfs; do
	[[ ! -e "$ROOT$d" ]] || fail "$d left after purge: $(ls -A "$ROOT$d")"
done
st=$(in_root dpkg-query -W -f='${Status}' regionfs 2>/dev/null) || st="unknown"
[[ "$st" == unknown || "$st" == *not-installed ]] || fail "regionfs still known to dpkg after purge: $st"
# What apt brought in with it goes too: the cached root is as debootstrap left it.
in_root apt-get autoremove --purge -y -qq >>"$W/apt.log" 2>&1 || fail "apt-get autoremove --purge: $(tail -3 "$W/apt.log")"
installed >"$W/end"
diff "$W/before" "$W/end" >"$W/diff" || fail "the root's packages after autoremove differ from before the install: $(xargs <"$W/diff")"
ok "dpkg -r regionfs left only the conffile /etc/regionfs.ini; dpkg --purge left no file or directory of the package; autoremove took its dependencies ($(grep -c . "$W/end") packages, as before)"
