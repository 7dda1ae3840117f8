# shellcheck shell=bash disable=SC2034  # variables used by the scripts that source this
# Common settings for the VM test bed scripts (sourced, not executed).
#
# Kernel "series" accepted everywhere: 6.1 (Debian 12's linux-image-amd64),
# 6.12 (Debian 12's linux-image-6.12.*+deb12-amd64), or an exact release
# string such as 6.1.0-56-amd64.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The virtme-ng venv lives outside the clone, so clones and work trees on one
# machine share it.
CACHE=${OVN_VIF_CACHE:-/var/cache/ovn-vif-rs}
VENV=$CACHE/vng-venv
VNG=$VENV/bin/vng
KMOD_SRC=$REPO/tests/kmod
DEFAULT_KERNEL=${OVN_VIF_KERNEL:-6.1}

die() { echo "ERROR: $*" >&2; exit 1; }

# Glob of installed kernel releases for a series.
kver_glob() {
	case $1 in
	6.1) echo '6.1.0-*-amd64' ;;
	6.12) echo '6.12.*+deb12-amd64' ;;
	*) echo "$1" ;;
	esac
}

# Newest kernel release of a series that the package registry offers.
apt_kver() {
	case $1 in
	6.1) apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/.*Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1 ;;
	6.12) apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
		sed 's/^linux-image-//' | sort -V | tail -n1 ;;
	*) echo "$1" ;;
	esac
}

# Newest *installed* kernel release of a series (image, modules and headers present).
installed_kver() {
	local d r
	for d in /lib/modules/$(kver_glob "$1"); do
		r=${d##*/}
		if [ -e "/boot/vmlinuz-$r" ] && [ -d "/usr/src/linux-headers-$r" ]; then
			echo "$r"
		fi
	done | sort -V | tail -n1 || true
}

# Where build-kmod.sh puts devlink_sim.ko for a kernel release.
kmod_path() { echo "$KMOD_SRC/build/$1/devlink_sim.ko"; }
