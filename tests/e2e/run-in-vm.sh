#!/bin/bash
# Host side of tests/e2e/representor.sh: boot the VM test bed with the
# devlink simulator loaded (scripts/vm/run.sh --kmod) and run the scenario
# there against a user's built OVN tree.
#
#   OVN_BUILDDIR=/path/to/ovn tests/e2e/run-in-vm.sh [run.sh options]
#
# Extra arguments go to scripts/vm/run.sh (e.g. --kernel 6.12, --timeout).
# The guest's work directory (databases, logs, delays.txt) is
# E2E_WORKDIR, default tests/vm/logs/<run>/results/e2e-representor.
# OVN_CONTROLLER, E2E_REPS, E2E_TIMEOUT, E2E_LABEL, E2E_UDEV and LD_LIBRARY_PATH are
# passed through (run.sh exports the environment to the guest).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
: "${OVN_BUILDDIR:?set OVN_BUILDDIR to a built OVN tree (see tests/e2e/README.md)}"
OVN_BUILDDIR=$(cd "$OVN_BUILDDIR" && pwd)
export OVN_BUILDDIR
ctl=${OVN_CONTROLLER:-$OVN_BUILDDIR/controller/ovn-controller}
[ -x "$ctl" ] || { echo "run-in-vm.sh: $ctl is not built" >&2; exit 2; }
rw=()
if [ -n "${E2E_WORKDIR:-}" ]; then
	mkdir -p "$E2E_WORKDIR" && E2E_WORKDIR=$(cd "$E2E_WORKDIR" && pwd) && export E2E_WORKDIR
	rw=(--rwdir "$E2E_WORKDIR")
fi
cd "$REPO" || exit 2
exec scripts/vm/run.sh --kmod "${rw[@]}" "$@" -- "$REPO/tests/e2e/representor.sh"
