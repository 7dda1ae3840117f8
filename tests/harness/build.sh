#!/usr/bin/env bash
# Build tests/harness/vif_plug_host against a VIF plug provider .so and a
# static libopenvswitch (scripts/ovs/build-libopenvswitch.sh).
#
# Usage: tests/harness/build.sh [PROVIDER_SO] [OUT_DIR]
#   PROVIDER_SO  default: target/release/libovn_vif_rs.so of this repository
#   OUT_DIR      default: target/harness of this repository
# Environment: OVS_ENV=path/to/ovs.env to skip calling the OVS build script
#   (otherwise it is called; it is cached and returns in well under 1 s),
#   CC (default gcc), HARNESS_CFLAGS (extra compiler flags).
#
# Link order is ovn-controller's: the provider .so comes BEFORE
# libopenvswitch.a, so ld pulls in (and exports from the executable) exactly
# the OVS symbols the .so references; the .so must not carry its own copy.
# Prints the path of the built executable; the link line is saved next to it
# in link.cmd.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROVIDER=${1:-$REPO/target/release/libovn_vif_rs.so}
OUT=${2:-$REPO/target/harness}
CC=${CC:-gcc}

[ -f "$PROVIDER" ] || { echo "build.sh: no provider at $PROVIDER" >&2; exit 1; }
PROVIDER=$(cd "$(dirname "$PROVIDER")" && pwd)/$(basename "$PROVIDER")

if [ -z "${OVS_ENV:-}" ]; then
    OVS_ENV=$("$REPO/scripts/ovs/build-libopenvswitch.sh")
fi
# shellcheck disable=SC1090
. "$OVS_ENV"

mkdir -p "$OUT"

# Where the dynamic loader will look for the provider: its directory, and
# OUT for a SONAME symlink when the SONAME file does not exist there.
rpath=$(dirname "$PROVIDER")
soname=$(readelf -d "$PROVIDER" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ -n "$soname" ] && [ ! -e "$(dirname "$PROVIDER")/$soname" ]; then
    ln -sf "$PROVIDER" "$OUT/$soname"
    rpath=$OUT:$rpath
fi

# The provider must reference OVS, not contain it (NOTES.md).
if nm -D --defined-only "$PROVIDER" 2>/dev/null | grep -qwE 'smap_add|vlog_insert_module|poll_block'; then
    echo "build.sh: warning: $PROVIDER defines OVS symbols itself (second copy of OVS state?)" >&2
fi

# shellcheck disable=SC2086
$CC -std=gnu11 -g -O1 -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter \
    -Wno-missing-field-initializers -Werror \
    -DHAVE_CONFIG_H $OVS_CFLAGS ${HARNESS_CFLAGS:-} \
    -c "$HERE/vif_plug_host.c" -o "$OUT/vif_plug_host.o"

link=("$CC" -o "$OUT/vif_plug_host" "$OUT/vif_plug_host.o" "$PROVIDER")
# shellcheck disable=SC2206,SC2054 # word-split OVS_LIBS; the commas are ld's.
link+=($OVS_LIBS -Wl,-rpath,"$rpath")
printf '%q ' "${link[@]}" >"$OUT/link.cmd"
echo >>"$OUT/link.cmd"
"${link[@]}"
echo "$OUT/vif_plug_host"
