#!/usr/bin/env bash
# Lint stage (run by scripts/test-all): every tracked shell script, by
# extension or shebang, through shellcheck (installed from Debian if absent).
# Sourced files are followed (-x), so their variables and functions count.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v shellcheck >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q shellcheck
fi
scripts=()
while IFS= read -r f; do
    case "$f" in
    *.sh) scripts+=("$f") ;;
    *.*) ;;
    *) head -n 1 "$f" | grep -Eq '^#!.*\b(ba)?sh\b' && scripts+=("$f") ;;
    esac
done < <(git ls-files -- scripts tests .ci debian)
echo "shellcheck $(shellcheck --version | sed -n 's/^version: //p'): ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}"
