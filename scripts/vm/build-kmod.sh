#!/bin/bash
# Build tests/kmod/devlink_sim.ko for a Debian kernel.
#
#   scripts/vm/build-kmod.sh [SERIES|KVER]     (default 6.1; e.g. 6.12, 6.1.0-56-amd64)
#
# The module is built in tests/kmod/build/<kver>/ (gitignored), so builds for
# several kernels coexist; prints the path of the .ko on the last line.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/lib.sh"

kver=$(installed_kver "${1:-$DEFAULT_KERNEL}")
[ -n "$kver" ] || die "kernel ${1:-$DEFAULT_KERNEL} not installed (scripts/vm/install-deps.sh ${1:-})"
out=$KMOD_SRC/build/$kver
mkdir -p "$out"
ko=$(kmod_path "$kver")
# Up to date (newer than its sources and the kernel's build tree): Kbuild
# would spend seconds finding that out (run.sh --kmod calls this every boot).
if [ "$ko" -nt "$KMOD_SRC/devlink_sim.c" ] && [ "$ko" -nt "$KMOD_SRC/Makefile" ] &&
	[ "$ko" -nt "/lib/modules/$kver/build/Makefile" ]; then
	echo "$ko"
	exit 0
fi
# Kbuild wants the sources in M=; copy only what changed (keeps builds incremental).
cp -u "$KMOD_SRC/devlink_sim.c" "$KMOD_SRC/Makefile" "$out/"
make -s -C "/lib/modules/$kver/build" M="$out" modules >&2 ||
	die "building devlink_sim for $kver failed"
[ -f "$ko" ] || die "no $ko after build"
echo "$ko"
