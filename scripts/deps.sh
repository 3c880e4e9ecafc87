#!/bin/sh
# Install the Debian packages regionfs needs to build, run and test, when
# they are missing and we may install them (root with apt-get). Otherwise
# name what is missing and leave the decision to the caller.
set -eu

pkgs="build-essential pkg-config libfuse3-dev fuse3 libinih-dev liburing-dev check"
deb="dpkg-dev debhelper fakeroot lintian"
case "${1:-build}" in
deb) pkgs="$pkgs $deb" ;;
test) pkgs="$pkgs $deb debootstrap python3 python3-prometheus-client jq sqlite3 util-linux attr acl inotify-tools fio psmisc clang libclang-rt-14-dev clang-format groff-base" ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	# One line for the set; apt's progress only if it fails, then in full.
	printf 'deps: installing%s ...' "$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	# Another apt (an engineer's, unattended-upgrades) may hold the lock: wait for it.
	lock="-o DPkg::Lock::Timeout=300"
	# shellcheck disable=SC2086
	if apt-get update -qq $lock >"$log" 2>&1 &&
		apt-get install -y -qq --no-install-recommends $lock $missing >>"$log" 2>&1; then
		echo " done" >&2
	else
		echo " failed:" >&2
		cat "$log" >&2
		exit 1
	fi
else
	echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
