#!/usr/bin/env bash
# The Debian package: make deb builds build/regionfs_VERSION_ARCH.deb,
# lintian finds nothing, and in a fresh Debian root (debootstrap, cached in
# build-deb/root) `apt-get install ./regionfs_*.deb` installs it, an fstab
# line mounts through mount -a, a region holds its bytes, umount ends the
# daemon, and purging leaves no file behind. Runs in the default pass only
# (the package does not depend on the transport or the data path).
. "$(dirname "$0")/lib.sh"

rfs_require
[[ $(id -u) == 0 ]] || skip "needs root (chroot, mount)"
[[ -z ${RFS_TRANSPORT:-} && -z ${RFS_DATA_PATH:-} && -z ${SANITIZE:-} ]] ||
	skip "the package is tested once, in the default pass of the plain build"
for t in dpkg-buildpackage lintian debootstrap; do
	command -v "$t" >/dev/null || skip "$t missing (make test's dependency step installs it)"
done

W=$RFS_WORK
ROOT=$RFS_ROOT/build-deb/root
CHROOT_MNTS=()
MiB=1048576

_deb_cleanup() {
	local rc=$? i
	set +e
	for ((i = ${#CHROOT_MNTS[@]} - 1; i >= 0; i--)); do
		mountpoint -q "${CHROOT_MNTS[i]}" && { umount -R "${CHROOT_MNTS[i]}" 2>/dev/null || umount -R -l "${CHROOT_MNTS[i]}"; }
	done
	(exit "$rc")
	_rfs_cleanup
}
trap _deb_cleanup EXIT

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

# --- build and lint
out=$(make -C "$RFS_ROOT" --no-print-directory deb 2>&1) || fail "make deb: $out"
deb=$(tail -1 <<<"$out")
version=$(sed -n 's/^#define RFS_VERSION "\(.*\)"/\1/p' "$RFS_ROOT/fs/fs.h")
assert_eq "build/regionfs_${version}_$(dpkg --print-architecture).deb" "$deb" "the package's name"
deb=$RFS_ROOT/$deb
lint=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[[ -z "$lint" ]] || fail "lintian: $lint"
dpkg -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' | grep -v '^$' | sort >"$W/files"
for f in /usr/bin/regionfs /usr/share/man/man8/regionfs.8.gz /lib/systemd/system/regionfs.service \
	/lib/systemd/system/regionfs@.service /etc/regionfs.ini /usr/share/doc/regionfs/README.md.gz \
	/usr/share/doc/regionfs/copyright /usr/share/doc/regionfs/example.ini.gz; do
	grep -qx "$f" "$W/files" || fail "the package lacks $f: $(xargs <"$W/files")"
done
dpkg-deb -f "$deb" Depends | grep -q 'fuse3' || fail "the package does not depend on fuse3"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/regionfs.ini ||
	fail "/etc/regionfs.ini is not a conffile"
grep -q '^ExecStart=/usr/bin/regionfs ' <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/regionfs@.service) ||
	fail "regionfs@.service does not run /usr/bin/regionfs"
ok "make deb: $(basename "$deb"), lintian clean, $(wc -l <"$W/files") paths (binary, man page, two units, conffile /etc/regionfs.ini, docs), Depends on fuse3"

# --- a fresh Debian root, made once and kept in build/
if [[ ! -x "$ROOT/usr/bin/apt-get" ]]; then
	mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	rm -rf "$ROOT.tmp"
	debootstrap --variant=minbase "$suite" "$ROOT.tmp" "${mirror:-http://deb.debian.org/debian}" >"$W/debootstrap.log" 2>&1 ||
		skip "debootstrap $suite cannot reach a Debian mirror: $(tail -2 "$W/debootstrap.log")"
	mv "$ROOT.tmp" "$ROOT"
fi
for d in proc sys dev; do
	mount --rbind "/$d" "$ROOT/$d" && mount --make-rslave "$ROOT/$d" || fail "cannot bind /$d into $ROOT"
	CHROOT_MNTS+=("$ROOT/$d")
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
cp "$deb" "$ROOT/tmp/"
in_root apt-get update -qq >"$W/apt.log" 2>&1 || fail "apt-get update in the root: $(tail -3 "$W/apt.log")"
in_root apt-get install -y -qq --no-install-recommends "./tmp/$(basename "$deb")" >>"$W/apt.log" 2>&1 ||
	in_root sh -c "cd /tmp && apt-get install -y -qq --no-install-recommends ./$(basename "$deb")" >>"$W/apt.log" 2>&1 ||
	fail "apt-get install ./$(basename "$deb"): $(tail -5 "$W/apt.log")"
assert_eq "install ok installed" "$(in_root dpkg-query -W -f='${Status}' regionfs)" "dpkg status of regionfs"
in_root regionfs --version | head -1 | grep -qx "regionfs $version" || fail "regionfs --version in the root: $(in_root regionfs --version 2>&1)"
ok "apt-get install ./$(basename "$deb") into a fresh $(. "$ROOT/etc/os-release" && echo "$PRETTY_NAME") root: installed with its dependencies; regionfs --version says $version"

# --- fstab and mount -a
mkdir -p "$ROOT/mnt/regions"
echo "tenantD /mnt/regions fuse.regionfs config=/etc/regionfs.ini,size=16M,nofail,_netdev 0 0" >>"$ROOT/etc/fstab"
out=$(in_root mount -a 2>&1) || fail "mount -a in the root: $out"
CHROOT_MNTS+=("$ROOT/mnt/regions")
line=$(findmnt -n -r -o SOURCE,FSTYPE "$ROOT/mnt/regions") || fail "nothing mounted at $ROOT/mnt/regions"
assert_eq "tenantD fuse.regionfs" "$line" "findmnt of the fstab mount"
head -c $MiB /dev/urandom >"$W/data"
cp "$W/data" "$ROOT/mnt/regions/ring" && cmp "$W/data" "$ROOT/mnt/regions/ring" || fail "a region's bytes differ"
assert_eq "tenantD $((16 * MiB))" "$(df -B1 --output=source,size "$ROOT/mnt/regions" | tail -1 | xargs)" "df of the fstab mount"
# The packaged daemons: processes running the root's /usr/bin/regionfs
# (mount.fuse3 starts it as plain "regionfs", so its command line says less).
pkg_daemons() {
	local p
	for p in /proc/[0-9]*; do
		[[ "$(readlink "$p/exe" 2>/dev/null)" == "$ROOT/usr/bin/regionfs" ]] && echo "${p#/proc/}"
	done
	return 0
}
no_pkg_daemon() { [[ -z "$(pkg_daemons)" ]]; }
[[ -n "$(pkg_daemons)" ]] || fail "no process runs $ROOT/usr/bin/regionfs for the fstab mount"
in_root umount /mnt/regions || fail "umount in the root"
wait_until 5 no_pkg_daemon || fail "the packaged daemon still runs after umount: $(pkg_daemons)"
ok "fstab line 'tenantD /mnt/regions fuse.regionfs config=/etc/regionfs.ini,size=16M,nofail,_netdev' mounted by mount -a; 1 MiB region intact; umount ends the daemon"

# --- removal
in_root apt-get purge -y -qq regionfs >>"$W/apt.log" 2>&1 || fail "apt-get purge regionfs: $(tail -3 "$W/apt.log")"
left=""
while read -r f; do
	[[ -e "$ROOT$f" && ! -d "$ROOT$f" ]] && left="$left $f"
done <"$W/files"
[[ -z "$left" ]] || fail "files left after purge:$left"
in_root dpkg-query -W regionfs >/dev/null 2>&1 && [[ "$(in_root dpkg-query -W -f='${Status}' regionfs)" != *not-installed* ]] &&
	fail "regionfs still known to dpkg after purge: $(in_root dpkg-query -W -f='${Status}' regionfs)"
sed -i '/^tenantD /d' "$ROOT/etc/fstab"
rm -f "$ROOT/tmp/$(basename "$deb")"
ok "apt-get purge regionfs: no file of the package left, /etc/regionfs.ini included"
