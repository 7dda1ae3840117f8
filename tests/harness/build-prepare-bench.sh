#!/usr/bin/env bash
# Build tests/harness/prepare_bench (prepare_bench.c) with one or more VIF
# plug provider shared libraries linked in, for measuring them side by side
# in one process (BENCHMARKS.md, "The real C provider, side by side").
#
# Usage: tests/harness/build-prepare-bench.sh [-o OUT_DIR] PROVIDER.so...
#   OUT_DIR  default: target/harness of this repository
# Environment: OVS_ENV=path/to/ovs.env (format of
#   scripts/ovs/build-libopenvswitch.sh's output: OVS_CFLAGS, OVS_LIBS);
#   default: that script's (Debian's OVS 3.1).  A provider compiled against
#   another OVS release (C ovn-vif v26.03.0 is built against OVN v26.03.2's
#   OVS v3.7.0) must be linked with that release's libopenvswitch.a: write
#   an ovs.env for it.  CC (default gcc).
#
# Link order is ovn-controller's: every provider .so before
# libopenvswitch.a, so ld pulls into the executable, and exports, exactly
# the OVS symbols the providers reference.  The link line is saved in
# OUT_DIR/prepare_bench.link.  Prints the executable's path.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OUT=$REPO/target/harness
if [ "${1:-}" = -o ]; then
    OUT=$2
    shift 2
fi
[ $# -gt 0 ] || { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
CC=${CC:-gcc}

if [ -z "${OVS_ENV:-}" ]; then
    OVS_ENV=$("$REPO/scripts/ovs/build-libopenvswitch.sh")
fi
# shellcheck disable=SC1090
. "$OVS_ENV"
mkdir -p "$OUT"

provs=() rpath=
for p in "$@"; do
    [ -f "$p" ] || { echo "build-prepare-bench.sh: no provider at $p" >&2; exit 1; }
    p=$(cd "$(dirname "$p")" && pwd)/$(basename "$p")
    provs+=("$p")
    rpath=${rpath:+$rpath:}$(dirname "$p")
    # A SONAME whose file is not next to the library (cargo's
    # target/release has only libovn_vif_rs.so): a symlink in OUT.
    soname=$(readelf -d "$p" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    if [ -n "$soname" ] && [ ! -e "$(dirname "$p")/$soname" ]; then
        ln -sf "$p" "$OUT/$soname"
        rpath=$OUT:$rpath
    fi
done

# shellcheck disable=SC2086
$CC -std=gnu11 -g -O2 -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter \
    -Wno-missing-field-initializers -Werror \
    -DHAVE_CONFIG_H $OVS_CFLAGS -I"$HERE" \
    -c "$HERE/prepare_bench.c" -o "$OUT/prepare_bench.o"

# --no-as-needed: the providers are reached only through dlopen(RTLD_NOLOAD)
# at run time, so ld must keep them as DT_NEEDED.
# shellcheck disable=SC2054 # the commas are ld's.
link=("$CC" -o "$OUT/prepare_bench" "$OUT/prepare_bench.o" -Wl,--no-as-needed "${provs[@]}")
# shellcheck disable=SC2206,SC2054 # word-split OVS_LIBS; the commas are ld's.
link+=(-Wl,--as-needed $OVS_LIBS -ldl -Wl,-rpath,"$rpath")
printf '%q ' "${link[@]}" >"$OUT/prepare_bench.link"
echo >>"$OUT/prepare_bench.link"
"${link[@]}"
echo "$OUT/prepare_bench"
