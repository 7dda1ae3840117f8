#!/usr/bin/env bash
# Build a static libopenvswitch (lib/.libs/libopenvswitch.a) and
# utilities/ovs-appctl from Debian's `openvswitch-source` package, out of tree,
# into a per-version cache directory.  Used by tests/harness/ to host the VIF
# plug provider the way ovn-controller does (OVS vlog, poll-loop, unixctl).
#
# Usage: scripts/ovs/build-libopenvswitch.sh [--print-env] [--force]
#
# Environment:
#   OVS_BUILD_DIR   cache dir (default /var/cache/ovn-vif-rs/ovs-<deb version>)
#   OVS_TARBALL     source tarball (default: the one openvswitch-source ships)
#   OVS_NO_APT=1    never call apt-get (fail if something is missing)
#   OVS_CONFIGURE_FLAGS  extra ./configure flags
#   JOBS            make parallelism (default 2)
#
# Layout of $OVS_BUILD_DIR:
#   src/        the unpacked, already bootstrapped OVS tree (OVS_SRCDIR)
#   build/      the out-of-tree build (OVS_BUILDDIR: config.h, generated
#               headers, lib/.libs/libopenvswitch.a, utilities/ovs-appctl)
#   ovs.env     shell-sourceable OVS_SRCDIR/OVS_BUILDDIR/OVS_CFLAGS/OVS_LIBS/...
#   build.log   configure + make output
#   .stamp      written last; its presence means "built" for this version
#
# Idempotent: when .stamp exists and matches the version, nothing is rebuilt
# and only ovs.env's path is printed.  Concurrent callers serialize on a lock.
set -euo pipefail

JOBS=${JOBS:-2}
FORCE=0
PRINT_ENV=0
for a in "$@"; do
    case $a in
        --force) FORCE=1 ;;
        --print-env) PRINT_ENV=1 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

log() { echo "build-libopenvswitch: $*" >&2; }

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# Debian packages needed: the source and what OVS' configure/make wants.
# (autoconf/automake/libtool are only needed if the tarball were not
# bootstrapped, but they are cheap and OVN's build needs them anyway.)
DEPS=(openvswitch-source gcc make autoconf automake libtool pkg-config
      python3 libssl-dev libcap-ng-dev libunbound-dev)

missing=()
for p in "${DEPS[@]}"; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${OVS_NO_APT:-0}" = 1 ]; then
        log "missing packages: ${missing[*]} (OVS_NO_APT=1)"; exit 1
    fi
    log "installing: ${missing[*]}"
    # Other users of this machine may hold the dpkg lock: wait for it.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=900 "${missing[@]}" >&2
fi

OVS_TARBALL=${OVS_TARBALL:-/usr/src/openvswitch/openvswitch.tar.gz}
[ -r "$OVS_TARBALL" ] || { log "no OVS source tarball at $OVS_TARBALL"; exit 1; }

if [ "$OVS_TARBALL" = /usr/src/openvswitch/openvswitch.tar.gz ]; then
    VERSION=$(dpkg-query -W -f='${Version}' openvswitch-source)
else
    VERSION=$(basename "$OVS_TARBALL" | sed -E 's/\.tar\.(gz|xz|bz2)$//')-$(sha256sum "$OVS_TARBALL" | cut -c1-12)
fi
SAFE_VERSION=$(echo "$VERSION" | tr -c 'A-Za-z0-9._\n-' '_')
OVS_BUILD_DIR=${OVS_BUILD_DIR:-/var/cache/ovn-vif-rs/ovs-$SAFE_VERSION}

if ! mkdir -p "$OVS_BUILD_DIR" 2>/dev/null || [ ! -w "$OVS_BUILD_DIR" ]; then
    $SUDO mkdir -p "$OVS_BUILD_DIR"
    $SUDO chown "$(id -u):$(id -g)" "$OVS_BUILD_DIR"
fi
OVS_BUILD_DIR=$(cd "$OVS_BUILD_DIR" && pwd)
ENV_FILE=$OVS_BUILD_DIR/ovs.env
STAMP=$OVS_BUILD_DIR/.stamp
STAMP_WANT="version=$VERSION tarball=$OVS_TARBALL flags=${OVS_CONFIGURE_FLAGS:-}"

finish() {
    if [ "$PRINT_ENV" = 1 ]; then cat "$ENV_FILE"; else echo "$ENV_FILE"; fi
}

# Serialize concurrent builds of the same cache dir.
exec 9>"$OVS_BUILD_DIR/.lock"
flock 9

SRC=$OVS_BUILD_DIR/src
BUILD=$OVS_BUILD_DIR/build
LOG=$OVS_BUILD_DIR/build.log

build() {
    rm -f "$STAMP"
    local start end
    start=$(date +%s)
    log "building OVS $VERSION in $OVS_BUILD_DIR (log: $LOG)"
    rm -rf "$SRC" "$BUILD"
    mkdir -p "$SRC" "$BUILD"
    tar -xzf "$OVS_TARBALL" -C "$SRC" --strip-components=1
    : >"$LOG"

    if [ ! -x "$SRC/configure" ]; then
        log "tarball not bootstrapped: running boot.sh"
        (cd "$SRC" && ./boot.sh) >>"$LOG" 2>&1
    fi

    # Prefer the distribution's python3 over whatever shim is first in PATH.
    local py=
    if [ -x /usr/bin/python3 ]; then py=PYTHON3=/usr/bin/python3; fi

    # Static only, like ovn-controller links it.  Out of tree.
    # shellcheck disable=SC2086
    if ! (cd "$BUILD" && "$SRC/configure" --enable-static --disable-shared \
            --localstatedir=/var --sysconfdir=/etc --prefix=/usr \
            ${py:+"$py"} ${OVS_CONFIGURE_FLAGS:-}) >>"$LOG" 2>&1; then
        log "configure failed; tail of $LOG:"; tail -30 "$LOG" >&2; exit 1
    fi
    # Only the two targets we need, but generated headers (BUILT_SOURCES,
    # e.g. odp-netlink.h) first: automake builds them only for `make all`.
    # shellcheck disable=SC2016 # $(BUILT_SOURCES) is for make, not bash.
    if ! make -C "$BUILD" -j"$JOBS" -f Makefile -f - ovn-vif-rs-built-sources \
            <<<'ovn-vif-rs-built-sources: $(BUILT_SOURCES)' >>"$LOG" 2>&1 \
       || ! make -C "$BUILD" -j"$JOBS" lib/libopenvswitch.la utilities/ovs-appctl \
            >>"$LOG" 2>&1; then
        log "make failed; tail of $LOG:"; tail -30 "$LOG" >&2; exit 1
    fi
    end=$(date +%s)
    echo "$((end - start)) s with -j$JOBS on $(nproc) cores, $(date -u +%FT%TZ)" \
        >"$OVS_BUILD_DIR/.build-time"
    echo "$STAMP_WANT" >"$STAMP"
    log "built OVS $VERSION in $((end - start)) s"
}

if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_WANT" ] \
   && [ -f "$BUILD/lib/.libs/libopenvswitch.a" ] \
   && [ -x "$BUILD/utilities/ovs-appctl" ]; then
    log "cached: OVS $VERSION in $OVS_BUILD_DIR"
else
    build
fi

# ovs.env is regenerated on every call (cheap) from the build tree.
# Libraries libopenvswitch.a depends on: libtool's dependency_libs plus the
# configure-level LIBS (pthread, rt, m, atomic, ...).
dep_libs=$(sed -n "s/^dependency_libs='\(.*\)'$/\1/p" "$BUILD/lib/libopenvswitch.la")
make_libs=$(sed -n 's/^LIBS = //p' "$BUILD/Makefile")
# Turn libtool archives (e.g. lib/libopenvswitchavx512.la) into their .a and
# drop repeated words.
libs=
for w in $dep_libs $make_libs; do
    if [[ $w == *.la ]]; then
        old=$(sed -n "s/^old_library='\(.*\)'$/\1/p" "$w")
        w=$(dirname "$w")/.libs/$old
    fi
    case " $libs " in *" $w "*) ;; *) libs="$libs $w" ;; esac
done
pkg_version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$BUILD/config.h")

cat >"$ENV_FILE" <<EOF
# Generated by scripts/ovs/build-libopenvswitch.sh
# Cold build took: $(cat "$OVS_BUILD_DIR/.build-time" 2>/dev/null || echo unknown)
OVS_DEB_VERSION='$VERSION'
OVS_VERSION='$pkg_version'
OVS_SRCDIR='$SRC'
OVS_BUILDDIR='$BUILD'
# Same include order as OVN's Makefile (config.h is in OVS_BUILDDIR).
OVS_CFLAGS='-I$SRC/include -I$BUILD/include -I$SRC/lib -I$BUILD/lib -I$SRC -I$BUILD'
OVS_LIBOPENVSWITCH='$BUILD/lib/.libs/libopenvswitch.a'
OVS_LIBS='$BUILD/lib/.libs/libopenvswitch.a$libs'
OVS_APPCTL='$BUILD/utilities/ovs-appctl'
EOF
finish
