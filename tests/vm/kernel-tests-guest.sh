#!/bin/bash
# Inside the VM: run cargo test binaries with their VM-only tests enabled
# (OVN_VIF_RS_KERNEL_TESTS=1), one test at a time, each binary's output
# shown (--show-output: the cycle test prints its elapsed time and counts).
# Every binary runs even if an earlier one failed; the status is non-zero
# if any failed.  Used by scripts/test-stages/vm.sh as one step of its one
# boot per kernel (tests/vm/suite-guest.sh); on its own:
#
#   scripts/vm/run.sh --kmod -- tests/vm/kernel-tests-guest.sh BIN...
set -u
export OVN_VIF_RS_KERNEL_TESTS=1
# The provider logs refusals at info level; only warnings matter here.
export OVN_VIF_RS_LOG=${OVN_VIF_RS_LOG:-warn}
failed=()
for bin in "$@"; do
	name=${bin##*/}
	name=${name%-*}
	echo "--- ${name} on $(uname -r)"
	start=$EPOCHSECONDS
	if "$bin" --test-threads=1 --show-output; then
		echo "--- ${name}: passed in $((EPOCHSECONDS - start)) s"
	else
		echo "--- ${name}: FAILED after $((EPOCHSECONDS - start)) s"
		failed+=("$name")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "kernel tests failed: ${failed[*]}"
	exit 1
fi
