#!/bin/bash
# The whole kernel test bed from a fresh clone, as root:
#   install deps (apt + PyPI venv) -> build devlink_sim -> boot the Debian kernel
#   under virtme-ng (TCG) -> run tests/vm/sim-selftest.sh inside -> its status.
#
#   scripts/vm/selftest.sh [--kernel SERIES]...     (default: 6.1; e.g. --kernel 6.1 --kernel 6.12)
#
# Exit status: 0 only if every step and every check on every kernel passed.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/lib.sh"

kernels=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernels+=("$2"); shift 2 ;;
	*) die "usage: $0 [--kernel SERIES]..." ;;
	esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=("$DEFAULT_KERNEL")

t() { date +%s; }
t0=$(t)
"$REPO/scripts/vm/install-deps.sh" "${kernels[@]}"
t1=$(t)
echo "selftest: install-deps $((t1 - t0)) s"

rc=0
for k in "${kernels[@]}"; do
	t2=$(t)
	"$REPO/scripts/vm/build-kmod.sh" "$k"
	t3=$(t)
	echo "selftest: build-kmod $k $((t3 - t2)) s"
	if "$REPO/scripts/vm/run.sh" --kernel "$k" --kmod -- "$REPO/tests/vm/sim-selftest.sh"; then
		echo "selftest: kernel $k PASSED in $(($(t) - t3)) s"
	else
		rc=1
		echo "selftest: kernel $k FAILED after $(($(t) - t3)) s" >&2
	fi
done
echo "selftest: total $(($(t) - t0)) s"
exit $rc
