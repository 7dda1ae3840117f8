#!/usr/bin/env bash
# Real-kernel stage (run by scripts/test-all): the devlink simulator's own
# selftest, the provider's kernel tests inside the guest (tests/kernel.rs:
# the kernel source directly; tests/kernel_vtable.rs: the exported C vtable
# on the kernel source, hw_addr change, udev rename, a device without
# pcipf, 1,000 add/remove/rename cycles; both with OVN_VIF_RS_KERNEL_TESTS=1,
# one boot per kernel), the main job (scripts/dpu-demo) as an end-to-end
# check, and the C host harness on the real libopenvswitch driving the
# provider with the kernel source.
#
# Kernels: OVN_VIF_RS_SELFTEST_KERNELS (default 6.1 6.12) for the
# simulator's selftest, OVN_VIF_RS_VM_KERNELS (default 6.1 6.12) for the
# provider's tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
kernels=${OVN_VIF_RS_VM_KERNELS:-6.1 6.12}
args=()
for k in ${OVN_VIF_RS_SELFTEST_KERNELS:-6.1 6.12}; do args+=(--kernel "$k"); done
scripts/vm/selftest.sh "${args[@]}"
# shellcheck disable=SC2086 # a list of kernel series
scripts/vm/install-deps.sh $kernels

# The kernel tests: build the test binaries on the host, run them in the guest.
test_bin() {
    cargo test --release --locked --test "$1" --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}
bins=()
for t in kernel kernel_vtable; do
    b=$(test_bin "$t")
    [ -x "$b" ] || { echo "vm.sh: test binary $t not built" >&2; exit 1; }
    bins+=("$b")
done
for k in $kernels; do
    echo "--- tests/kernel.rs and tests/kernel_vtable.rs on $k"
    scripts/vm/run.sh --kernel "$k" --kmod -- tests/vm/kernel-tests-guest.sh "${bins[@]}"
done

echo "--- main job (scripts/dpu-demo)"
scripts/dpu-demo

echo "--- the C host harness with the kernel source (tests/vm/harness-guest.sh)"
cargo build --release --locked --quiet
tests/harness/build.sh target/release/libovn_vif_rs.so target/harness-vm >/dev/null
scripts/vm/run.sh --kmod -- tests/vm/harness-guest.sh target/harness-vm/vif_plug_host
