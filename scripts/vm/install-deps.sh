#!/bin/bash
# Install everything the VM test bed needs, from package registries only.
# Idempotent: a second run installs nothing and takes a few seconds.
#
#   scripts/vm/install-deps.sh [SERIES...]     (default: 6.1; e.g. "6.1 6.12")
#
# Installs (apt): qemu-system-x86, udev (vng needs it to return the guest's
# exit status), kmod, iproute2, busybox-static, python3-venv, build tools,
# linux-compiler-gcc-12-x86 and, per kernel series, the Debian kernel image +
# matching headers. The image's /lib/modules/<ver> is where the guest's
# modprobe looks (the guest sees the host's filesystem); we run depmod.
# Installs (PyPI): virtme-ng and its dependencies, versions pinned in
# scripts/vm/vng-requirements.txt, into a venv under $CACHE (default
# /var/cache/ovn-vif-rs).
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "run as root (apt-get)"
series=("$@")
[ ${#series[@]} -gt 0 ] || series=("$DEFAULT_KERNEL")

pkgs=(qemu-system-x86 udev kmod iproute2 busybox-static python3-venv jq
      make gcc libelf-dev linux-compiler-gcc-12-x86)
for s in "${series[@]}"; do
	have=$(installed_kver "$s")
	if [ -n "$have" ]; then
		echo "kernel $s: $have already installed"
		continue
	fi
	v=$(apt_kver "$s")
	if [ -z "$v" ]; then
		apt-get update -qq || true
		v=$(apt_kver "$s")
	fi
	[ -n "$v" ] || die "no Debian kernel package found for series '$s'"
	pkgs+=("linux-image-$v" "linux-headers-$v")
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "apt-get install ${missing[*]}"
	# INITRD=No: vng boots without the distro initramfs, so skip generating it.
	export DEBIAN_FRONTEND=noninteractive INITRD=No
	# DPkg::Lock::Timeout: wait for another apt (e.g. apt-daily) instead of failing.
	apt=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900)
	"${apt[@]}" "${missing[@]}" || { apt-get update -qq && "${apt[@]}" "${missing[@]}"; }
fi

for s in "${series[@]}"; do
	r=$(installed_kver "$s")
	[ -n "$r" ] || die "kernel series $s not installed correctly"
	# Make sure modules.dep exists so modprobe in the guest works.
	[ -s "/lib/modules/$r/modules.dep" ] || depmod -a "$r"
	echo "kernel $s: $r ok (/boot/vmlinuz-$r)"
done

# virtme-ng and its dependencies, each pinned (scripts/vm/vng-requirements.txt).
req=$REPO/scripts/vm/vng-requirements.txt
vng_version=$(sed -n 's/^virtme-ng==//p' "$req")
mkdir -p "$CACHE"
if ! "$VNG" --version 2>/dev/null | grep -qx "virtme-ng $vng_version" ||
	! cmp -s "$req" "$VENV/requirements.txt"; then
	rm -rf "$VENV"
	/usr/bin/python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -r "$req"
	cp "$req" "$VENV/requirements.txt"
fi
"$VNG" --version
