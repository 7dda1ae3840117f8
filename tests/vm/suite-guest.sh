#!/bin/bash
# Inside the VM: several guest steps in ONE boot (a boot under TCG costs
# 15-70 s on a loaded 2-core host).  Used by scripts/test-stages/vm.sh:
#
#   scripts/vm/run.sh --kmod -- tests/vm/suite-guest.sh 'STEP' ['STEP'...]
#
# A STEP is a command line run with `bash -c` from the repository root, e.g.
# 'tests/vm/sim-selftest.sh' or 'tests/vm/kernel-tests-guest.sh BIN...'.
# Each step starts from the same state as in a boot of its own: devlink_sim
# freshly loaded (no device), udevd running and settled.  Every step runs
# even if an earlier one failed; each prints "--- suite: STEP: PASS|FAIL
# (N s)"; the exit status is non-zero if any failed (or the state could not
# be reset).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/vm/lib-sim.sh
. tests/vm/lib-sim.sh

# The state a fresh boot with run.sh --kmod gives: the module loaded with no
# device, udevd running with nothing queued.
fresh_state() {
	if [ -d "$SIM_DBG" ]; then
		rmmod devlink_sim || { echo "suite: rmmod devlink_sim failed"; return 1; }
	fi
	insmod "${DEVLINK_SIM_KO:?}" || { echo "suite: insmod $DEVLINK_SIM_KO failed"; return 1; }
	if [ ! -e /run/udev/control ] || ! udevadm control --ping 2>/dev/null; then
		SIM_UDEVD=$(command -v systemd-udevd || command -v udevd || echo /lib/systemd/systemd-udevd)
		"$SIM_UDEVD" --daemon || { echo "suite: cannot start udevd"; return 1; }
	fi
	udevadm settle -t 30
}

passed=0
failed=()
for step in "$@"; do
	start=$EPOCHSECONDS
	if ! fresh_state; then
		failed+=("$step (state reset)")
		echo "--- suite: $step: FAIL (could not reset the simulator/udev)"
		continue
	fi
	echo "--- suite: $step on $(uname -r)"
	if bash -c "$step"; then
		passed=$((passed + 1))
		echo "--- suite: $step: PASS ($((EPOCHSECONDS - start)) s)"
	else
		failed+=("$step")
		echo "--- suite: $step: FAIL ($((EPOCHSECONDS - start)) s)"
	fi
done
[ ${#failed[@]} = 0 ] || printf -- '--- suite: failed: %s\n' "${failed[@]}"
echo "suite: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} = 0 ]
