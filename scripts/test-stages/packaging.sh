#!/usr/bin/env bash
# Packaging stage (run by scripts/test-all): builds the .debs with
# scripts/package-deb into a temporary directory, runs lintian (fails on
# errors), installs the packages, checks what they install (exported
# symbols, pkg-config, a C program built against the installed header and
# library, the CLI, its man page and bash completion), then removes and purges them and checks
# that nothing is left.  Needs root (or sudo) for apt and dpkg.
#
# Timings on this project's 2-core machine (each step prints its time):
# warm (crate unchanged since the last run) 30 s, of which 24 s are
# dpkg-buildpackage; cold (empty cargo cache for the package build,
# ~/.cache/ovn-vif-rs/deb/target) about 1.5 min idle, 4-7 min while other
# jobs load the machine (load average 10+); only the crate changed: 3-4 min
# under that load (release profile: thin LTO).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

sudo=
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "packaging: needs root (or sudo) for apt and dpkg" >&2; exit 1; }
    sudo=sudo
fi
pkgs=(ovn-vif-rs libovn-vif-rs-dev libovn-vif-rs0)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
libdir=/usr/lib/$multiarch

# dpkg, waiting (up to 15 min) while another apt or dpkg holds its lock (on
# a fresh machine apt-daily may run at any time; dpkg itself does not wait).
dpkg_() {
    local i rc out
    for i in $(seq 900); do
        rc=0
        out=$($sudo dpkg "$@" 2>&1) || rc=$?
        if [ $rc != 0 ] && grep -Eq 'dpkg frontend lock|status database (area )?is locked' <<<"$out"; then
            [ "$i" != 1 ] || echo "packaging: dpkg $1: waiting for the dpkg lock"
            sleep 1
            continue
        fi
        [ -z "$out" ] || printf '%s\n' "$out"
        return $rc
    done
    echo "packaging: dpkg $1: the dpkg lock was held for 15 min" >&2
    return 1
}

work=$(mktemp -d /tmp/ovn-vif-rs-packaging.XXXXXX)
installed=0
cleanup() {
    if [ $installed = 1 ]; then
        dpkg_ -P "${pkgs[@]}" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

t=$SECONDS
step() {
    echo "--- packaging: $* (+$((SECONDS - t)) s)"
}
fail() {
    echo "packaging: FAIL: $*" >&2
    exit 1
}

# Never test over an installed copy (e.g. left by an interrupted run).
for p in "${pkgs[@]}"; do
    if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
        echo "packaging: purging a previously installed $p"
        dpkg_ -P "$p" >/dev/null
    fi
done

# ---------------------------------------------------------------- build
step "build (scripts/package-deb)"
t_build=$SECONDS
scripts/package-deb "$work/debs" > "$work/build.log" 2>&1 || {
    tail -n 60 "$work/build.log"
    fail "scripts/package-deb failed (log above)"
}
grep -E '^package-deb:|Finished .release' "$work/build.log" || true
echo "packaging: build took $((SECONDS - t_build)) s"
ver=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg --print-architecture)
debs=()
for p in libovn-vif-rs0 libovn-vif-rs-dev ovn-vif-rs; do
    f=$work/debs/${p}_${ver}_${arch}.deb
    [ -f "$f" ] || fail "$f was not built"
    debs+=("$f")
done

# ---------------------------------------------------------------- lintian
step "lintian"
changes=$work/debs/ovn-vif-rs_${ver}_${arch}.changes
lintian --fail-on error --pedantic \
    "$changes" > "$work/lintian.txt" 2> "$work/lintian.err" || lintian_rc=$?
grep -v "running with root privileges" "$work/lintian.err" >&2 || true
cat "$work/lintian.txt"
if grep -q '^E: ' "$work/lintian.txt"; then fail "lintian errors"; fi
[ "${lintian_rc:-0}" = 0 ] || fail "lintian exited with ${lintian_rc}"
echo "packaging: lintian: $(grep -c '^E: ' "$work/lintian.txt") errors," \
    "$(grep -c '^W: ' "$work/lintian.txt") warnings," \
    "$(grep -c '^I: ' "$work/lintian.txt") info, $(grep -c '^P: ' "$work/lintian.txt") pedantic"

# Contents: the expected files in the expected packages.
step "package contents"
contents() { dpkg-deb -c "$1" | awk '{print $6}' | sed 's|^\./|/|'; }
want() { # PACKAGE-FILE PATH...
    local deb=$1; shift
    local list
    list=$(contents "$deb")
    for p in "$@"; do
        grep -qx -- "$p" <<<"$list" || fail "$(basename "$deb") lacks $p"
    done
}
want "${debs[0]}" "$libdir/libovn_vif_rs.so.0.1.0" "$libdir/libovn_vif_rs.so.0"
want "${debs[1]}" /usr/include/ovn-vif-rs/ovn-vif-rs.h "$libdir/libovn_vif_rs.so" \
    "$libdir/pkgconfig/ovn-vif-rs.pc"
want "${debs[2]}" /usr/bin/ovn-vif-rs /usr/share/man/man1/ovn-vif-rs.1.gz \
    /usr/share/bash-completion/completions/ovn-vif-rs /usr/share/zsh/vendor-completions/_ovn-vif-rs \
    /usr/share/fish/vendor_completions.d/ovn-vif-rs.fish \
    /usr/share/doc/ovn-vif-rs/lsp-options.md /usr/share/doc/ovn-vif-rs/README.md.gz
# The generator is a build tool, not shipped.
if contents "${debs[2]}" | grep -q 'ovn-vif-rs-gen'; then fail "ovn-vif-rs ships ovn-vif-rs-gen"; fi
dpkg-deb -I "${debs[0]}" symbols | grep -q '^ vif_plug_provider_classes@' ||
    fail "libovn-vif-rs0 has no symbols file"

# ---------------------------------------------------------------- install
step "install (dpkg -i)"
installed=1
dpkg_ -i "${debs[@]}"
for p in "${pkgs[@]}"; do
    [ "$(dpkg-query -W -f '${Status}' "$p")" = "install ok installed" ] || fail "$p not installed"
done
dpkg -L libovn-vif-rs0 libovn-vif-rs-dev ovn-vif-rs | grep -E '\.so|\.h$|\.pc$|bin/|man1' 

step "library: SONAME, symlinks, exported symbols"
lib=$libdir/libovn_vif_rs.so.0
[ "$(readlink "$lib")" = libovn_vif_rs.so.0.1.0 ] || fail "$lib -> $(readlink "$lib")"
[ "$(readlink "$libdir/libovn_vif_rs.so")" = libovn_vif_rs.so.0 ] || fail "dev symlink"
readelf -d "$lib" | grep -q 'SONAME.*\[libovn_vif_rs.so.0\]' || fail "SONAME"
grep -q 'libovn_vif_rs.so.0 ' <<<"$(ldconfig -p)" || fail "libovn_vif_rs.so.0 not in the ld.so cache"
echo "nm -D --defined-only $lib:"
nm -D --defined-only "$lib" | tee "$work/nm.txt"
# Version-node symbols (type A) aside, exactly the provider's three.
defined=$(awk '$2 != "A" {sub(/@.*/, "", $3); print $3}' "$work/nm.txt" | sort | tr '\n' ' ')
[ "$defined" = "ovn_vif_rs_version vif_plug_provider_classes vif_plug_representor_class " ] ||
    fail "exports: $defined"
# Undefined ones are libc/libgcc or weak (OVS's, when hosted): nothing
# strong outside the system libraries.
nm -D --undefined-only "$lib" | awk '$1 != "w" && $1 != "v" && $2 !~ /@(GLIBC|GCC)_/ {print}' > "$work/undef.txt"
[ ! -s "$work/undef.txt" ] || { cat "$work/undef.txt"; fail "unexpected strong undefined symbols"; }

step "pkg-config"
[ "$(pkg-config --modversion ovn-vif-rs)" = 0.1.0 ] || fail "pkg-config --modversion"
echo "pkg-config --libs ovn-vif-rs: $(pkg-config --libs ovn-vif-rs)"
echo "pkg-config --cflags ovn-vif-rs: $(pkg-config --cflags ovn-vif-rs)"
pkg-config --libs ovn-vif-rs | grep -qw -- -lovn_vif_rs || fail "pkg-config --libs"
# shellcheck disable=SC2016 # the .pc file holds a literal ${libdir}
grep -qx 'Libs: -L${libdir} -lovn_vif_rs' "$libdir/pkgconfig/ovn-vif-rs.pc" || fail ".pc Libs"
pkg-config --cflags ovn-vif-rs | grep -q -- -I/usr/include/ovn-vif-rs || fail "pkg-config --cflags"

step "a C program against the installed header and library"
cat > "$work/t.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <ovn-vif-rs.h>

/* The header only forward-declares OVN's struct; its first member is the
 * type name (lib/vif-plug-provider.h). */
struct vif_plug_class {
    const char *type;
};

int main(void)
{
    const struct vif_plug_class *c = vif_plug_provider_classes[0];
    if (!c || strcmp(c->type, "representor") || vif_plug_provider_classes[1]
        || c != &vif_plug_representor_class) {
        fprintf(stderr, "unexpected provider classes\n");
        return 1;
    }
    printf("%s %s\n", c->type, ovn_vif_rs_version());
    return 0;
}
EOF
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror $(pkg-config --cflags ovn-vif-rs) -o "$work/t" "$work/t.c" \
    $(pkg-config --libs ovn-vif-rs)
readelf -d "$work/t" | grep -q 'NEEDED.*\[libovn_vif_rs.so.0\]' || fail "t does not need libovn_vif_rs.so.0"
out=$(env -u LD_LIBRARY_PATH "$work/t")
echo "t: $out"
[ "$out" = "representor $(pkg-config --modversion ovn-vif-rs)" ] || fail "t printed $out"
# (/lib is /usr/lib on a merged-/usr system.)
loaded=$(env -u LD_LIBRARY_PATH ldd "$work/t" | awk '$1 == "libovn_vif_rs.so.0" {print $3}')
if [ -z "$loaded" ] || [ "$(readlink -f "$loaded")" != "$(readlink -f "$lib")" ]; then
    fail "t loads ${loaded:-no libovn_vif_rs.so.0}, not $lib"
fi
echo "t loads $loaded"

step "OVN's --with-vif-plug-provider layout (libovn-vif-rs-dev)"
# OVN's configure (OVN_CHECK_VIF_PLUG_PROVIDER) tests for
# DIR/lib/.libs/lib<basename DIR>.la and links "-L DIR/lib/.libs -l<basename>"
# through libtool, which then reads that .la.
command -v libtool >/dev/null || {
    echo "packaging: installing libtool-bin (libtool reads the .la below)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=900 libtool-bin >/dev/null
}
pdir=$libdir/ovn-vif-rs/ovn_vif_rs
check_provider_dir() { # DIR LIBDIR-IN-.la RUNPATH-WANTED(yes|no) EXPECTED-LIB
    local dir=$1 la_libdir=$2 want_rpath=$3 expect=$4 name la
    name=$(basename "$dir")
    la=$dir/lib/.libs/lib$name.la
    [ -f "$la" ] || fail "$la missing (OVN's configure: not a configured and built VIF plug provider)"
    # libtool's own test of a .la (func_lalib_p): this line in the first four.
    sed -e 4q "$la" | grep -q '^# Generated by .*libtool' || fail "$la: libtool would not take it"
    # libtool sources the file: check what it would read.
    # shellcheck disable=SC1090,SC2154 # the variables come from the .la
    (
        . "$la"
        [ "$dlname" = libovn_vif_rs.so.0 ] || fail "$la: dlname=$dlname"
        [ "${library_names##* }" = libovn_vif_rs.so ] || fail "$la: library_names=$library_names"
        if [ -n "$old_library" ] || [ -n "$dependency_libs" ]; then
            fail "$la: old_library/dependency_libs not empty"
        fi
        if [ "$installed" != yes ] || [ "$libdir" != "$la_libdir" ]; then
            fail "$la: installed=$installed libdir=$libdir"
        fi
    )
    # The link OVN's libtool does, with the test program of the last step.
    (cd "$work" && cc -Wall -Werror -I"$dir/include/ovn-vif-rs" -c -o tl.o t.c &&
        libtool --mode=link --tag=CC cc -o tl tl.o -L"$dir/lib/.libs" -lovn_vif_rs) \
        > "$work/libtool.log" 2>&1 || { cat "$work/libtool.log"; fail "libtool link against $la"; }
    cat "$work/libtool.log"
    grep -q "lovn_vif_rs\|libovn_vif_rs.so" "$work/libtool.log" || fail "libtool did not link the provider"
    readelf -d "$work/tl" | grep -q 'NEEDED.*\[libovn_vif_rs.so.0\]' || fail "tl does not need libovn_vif_rs.so.0"
    local rpath
    rpath=$(readelf -d "$work/tl" | sed -n 's/.*(\(RPATH\|RUNPATH\)).*\[\(.*\)\]/\2/p')
    if [ "$want_rpath" = yes ]; then
        [ "$rpath" = "$dir/lib/.libs" ] || fail "tl: RUNPATH '$rpath', want $dir/lib/.libs"
    else
        [ -z "$rpath" ] || fail "tl: RUNPATH '$rpath' for a system libdir"
    fi
    out=$(env -u LD_LIBRARY_PATH "$work/tl") || fail "tl failed"
    [ "$out" = "representor $(pkg-config --modversion ovn-vif-rs)" ] || fail "tl printed $out"
    loaded=$(env -u LD_LIBRARY_PATH ldd "$work/tl" | awk '$1 == "libovn_vif_rs.so.0" {print $3}')
    if [ -z "$loaded" ] || [ "$(readlink -f "$loaded")" != "$(readlink -f "$expect")" ]; then
        fail "tl loads ${loaded:-no libovn_vif_rs.so.0}, not $expect"
    fi
    echo "$dir: libtool links it; tl (RUNPATH '${rpath}') loads $loaded"
}
check_provider_dir "$pdir" "$libdir" no "$lib"
[ "$(readlink -f "$pdir/include/ovn-vif-rs/ovn-vif-rs.h")" = /usr/include/ovn-vif-rs/ovn-vif-rs.h ] ||
    fail "$pdir/include: header link"
# The same layout from a build tree (scripts/ovn-provider-dir, no package).
scripts/ovn-provider-dir --lib "$lib" "$work/bt/ovn_vif_rs"
check_provider_dir "$work/bt/ovn_vif_rs" "$work/bt/ovn_vif_rs/lib/.libs" yes \
    "$work/bt/ovn_vif_rs/lib/.libs/libovn_vif_rs.so.0"
cmp -s "$work/bt/ovn_vif_rs/include/ovn-vif-rs/ovn-vif-rs.h" include/ovn-vif-rs.h || fail "build-tree header"
# OVN derives -l<name> from the directory's name: any other name is refused.
rc=0
scripts/ovn-provider-dir --lib "$lib" "$work/bt/ovn-vif-rs" 2>"$work/err" || rc=$?
if [ $rc != 2 ] || ! grep -q 'must be named ovn_vif_rs' "$work/err"; then fail "a wrongly named DEST: rc $rc"; fi
rc=0
scripts/ovn-provider-dir --lib "$work/nonexistent.so" "$work/bt2/ovn_vif_rs" 2>"$work/err" || rc=$?
if [ $rc != 1 ] || ! grep -q 'not found' "$work/err"; then fail "a missing library: rc $rc"; fi

step "the CLI, its man page and completions"
cli=/usr/bin/ovn-vif-rs
help=$($cli --help)
grep -q '^usage: ovn-vif-rs \[--snapshot FILE\] COMMAND' <<<"$help" || fail "--help"
$cli --snapshot "$src/tests/data/dpu.snapshot" lookup --pf-mac 00:53:00:00:10:00 --vf-num 3
rc=0
$cli --snapshot "$src/tests/data/dpu.snapshot" lookup --pf-mac 00:53:00:00:10:00 --vf-num 9 || rc=$?
[ $rc = 1 ] || fail "a miss exits $rc"
man=$(MANWIDTH=80 MAN_KEEP_FORMATTING='' man -P cat -l /usr/share/man/man1/ovn-vif-rs.1.gz 2>"$work/man.err")
[ ! -s "$work/man.err" ] || { cat "$work/man.err"; fail "man -l warnings"; }
echo "$man" | sed -n '1,12p'
# The man page names every command, option and variable of --help.
for w in dump --json lookup --pf-mac --vf-num --sf-num resolve monitor --snapshot \
    OVN_VIF_RS_SNAPSHOT vif-plug:representor:pf-mac vif-plug:representor:vf-num \
    vif-plug:representor:sf-num; do
    grep -qF -- "$w" <<<"$help" || fail "--help lacks $w (update this list)"
    grep -qF -- "$w" <<<"$man" || fail "the man page lacks $w (cli/src/args.rs, cli/src/man-extra.roff)"
done
# The man page is dated by the package's changelog (SOURCE_DATE_EPOCH).
date=$(date -u -d "@$(dpkg-parsechangelog -l debian/changelog -S Timestamp)" +%Y-%m-%d)
zcat /usr/share/man/man1/ovn-vif-rs.1.gz | grep -q "^\.TH OVN-VIF-RS 1 $date " || fail "man page date (want $date)"
# bash completion, installed where bash-completion looks, completes a command.
compl=$(bash --norc -c 'source /usr/share/bash-completion/completions/ovn-vif-rs
    COMP_WORDS=(ovn-vif-rs loo); COMP_CWORD=1
    _ovn-vif-rs ovn-vif-rs loo ovn-vif-rs; echo "${COMPREPLY[*]}"')
echo "bash completion of 'ovn-vif-rs loo': $compl"
[ "$compl" = lookup ] || fail "bash completion: '$compl'"
grep -q 'vif-plug:representor:vf-num' /usr/share/doc/ovn-vif-rs/lsp-options.md ||
    fail "lsp-options.md"

# ---------------------------------------------------------------- remove, purge
step "remove (dpkg -r), purge (dpkg -P)"
files=$(dpkg -L "${pkgs[@]}" | sort -u)
dpkg_ -r "${pkgs[@]}"
for p in "${pkgs[@]}"; do
    s=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || echo "not-installed")
    case $s in *not-installed*|*config-files*) ;; *) fail "$p after -r: $s" ;; esac
done
dpkg_ -P "${pkgs[@]}"
installed=0
for p in "${pkgs[@]}"; do
    s=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || echo "not-installed")
    case $s in *not-installed*) ;; *) fail "$p after -P: $s" ;; esac
done
left=0
while IFS= read -r f; do
    case $f in /usr|/usr/bin|/usr/lib|/usr/include|/usr/share|/usr/share/doc|/usr/share/man|/usr/share/man/man1|/usr/share/lintian|/usr/share/lintian/overrides|"$libdir"|"$libdir/pkgconfig"|/.) continue ;;
        /usr/share/bash-completion|/usr/share/bash-completion/completions|/usr/share/zsh|/usr/share/zsh/vendor-completions|/usr/share/fish|/usr/share/fish/vendor_completions.d) continue ;; esac
    if [ -e "$f" ] || [ -L "$f" ]; then echo "left behind: $f"; left=1; fi
done <<<"$files"
[ $left = 0 ] || fail "files left after purge"
if grep -q 'libovn_vif_rs.so.0 ' <<<"$(ldconfig -p)"; then fail "libovn_vif_rs.so.0 still in the ld.so cache"; fi

step "done"
echo "packaging: PASS in $((SECONDS - t)) s"
