#!/usr/bin/env bash
# Real-kernel stage (run by scripts/test-all), ONE boot per kernel
# (tests/vm/suite-guest.sh runs the steps in turn, each on a freshly loaded
# simulator):
#   - the devlink simulator's own selftest (tests/vm/sim-selftest.sh);
#   - the provider's kernel tests, the test binaries listed in GUEST_TESTS
#     below, with OVN_VIF_RS_KERNEL_TESTS=1 (tests/kernel.rs: the kernel
#     source directly; tests/kernel_vtable.rs: the exported C vtable on the
#     kernel source, hw_addr change, udev rename, a device without pcipf,
#     1,000 add/remove/rename cycles);
#   - the main job's guest side (tests/vm/dpu-demo-guest.sh, what
#     scripts/dpu-demo boots) as an end-to-end check;
#   - the C host harness on the real libopenvswitch driving the provider
#     with the kernel source (tests/vm/harness-guest.sh).
#
# Kernels: OVN_VIF_RS_SELFTEST_KERNELS (default 6.1 6.12) for the
# simulator's selftest, OVN_VIF_RS_VM_KERNELS (default 6.1 6.12) for the
# provider's tests, OVN_VIF_RS_E2E_KERNELS (default 6.1) for the main job
# and the harness.  A kernel named in none of them is not booted.
# The kernels boot at the same time (see below); OVN_VIF_RS_VM_PARALLEL=0
# boots them one after the other.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The cargo integration tests (tests/<name>.rs) run in the guest: one name
# per line.  Each runs with --test-threads=1 and OVN_VIF_RS_KERNEL_TESTS=1
# (tests/vm/kernel-tests-guest.sh).
GUEST_TESTS=(
    kernel
    kernel_vtable
    oracle_vm
)

selftest_kernels=${OVN_VIF_RS_SELFTEST_KERNELS-6.1 6.12}
test_kernels=${OVN_VIF_RS_VM_KERNELS-6.1 6.12}
e2e_kernels=${OVN_VIF_RS_E2E_KERNELS-6.1}
has() { [[ " $1 " == *" $2 "* ]]; }
kernels=()
for k in $selftest_kernels $test_kernels $e2e_kernels; do
    has "${kernels[*]:-}" "$k" || kernels+=("$k")
done
[ ${#kernels[@]} -gt 0 ] || { echo "vm.sh: no kernel to boot" >&2; exit 1; }

t0=$SECONDS
scripts/vm/install-deps.sh "${kernels[@]}"
echo "vm.sh: install-deps $((SECONDS - t0)) s"

# Host side, before any boot: the test binaries, the CLI, the harness host.
t=$SECONDS
test_bin() {
    cargo test --release --locked --test "$1" --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1
}
bins=()
for t_name in "${GUEST_TESTS[@]}"; do
    b=$(test_bin "$t_name")
    [ -x "$b" ] || { echo "vm.sh: test binary $t_name not built" >&2; exit 1; }
    bins+=("$b")
done
cargo build --release --locked --quiet
tests/harness/build.sh target/release/libovn_vif_rs.so target/harness-vm >/dev/null
echo "vm.sh: host builds $((SECONDS - t)) s"

# The steps of one kernel's boot.
steps_of() {
    local k=$1 q
    steps=()
    if has "$selftest_kernels" "$k"; then steps+=(tests/vm/sim-selftest.sh); fi
    if has "$test_kernels" "$k"; then
        printf -v q '%q ' "${bins[@]}"
        steps+=("tests/vm/kernel-tests-guest.sh $q")
    fi
    if has "$e2e_kernels" "$k"; then
        steps+=(tests/vm/dpu-demo-guest.sh)
        steps+=("tests/vm/harness-guest.sh target/harness-vm/vif_plug_host")
    fi
}
# boot KERNEL [LOCK]: all its steps in one boot (run.sh waits on LOCK, by
# default the machine-wide VM lock); all steps share the boot's --timeout.
timeout=${OVN_VIF_RS_VM_TIMEOUT:-2700}
boot() {
    local k=$1 t=$SECONDS
    steps_of "$k"
    echo "--- kernel $k: ${#steps[@]} steps in one boot"
    if OVN_VIF_VM_LOCK=${2:-${OVN_VIF_VM_LOCK:-}} scripts/vm/run.sh --kernel "$k" --kmod \
        --timeout "$timeout" -- tests/vm/suite-guest.sh "${steps[@]}"; then
        echo "vm.sh: kernel $k PASSED in $((SECONDS - t)) s"
    else
        echo "vm.sh: kernel $k FAILED after $((SECONDS - t)) s"
        return 1
    fi
}

rc=0
if [ "${OVN_VIF_RS_VM_PARALLEL:-1}" = 1 ] && [ ${#kernels[@]} -gt 1 ]; then
    # The kernels' boots at once, under one hold of the machine-wide lock
    # (scripts/vm/run.sh): a guest's work is mostly one thread at a time
    # (a test waiting on the kernel or on udev, a shell script's execs), so
    # one guest leaves a core idle.  Each line is prefixed with its kernel.
    lock=${OVN_VIF_VM_LOCK:-/tmp/ovn-vif-rs-vm.lock}
    exec 8>>"$lock"
    if ! flock -n 8; then
        echo "vm.sh: waiting for another VM to finish ($lock)"
        flock -w "${OVN_VIF_VM_LOCK_WAIT:-7200}" 8 ||
            { echo "vm.sh: gave up waiting for $lock" >&2; exit 1; }
    fi
    own=$(mktemp -d /tmp/ovn-vif-rs-vm.XXXXXX)
    pids=()
    for k in "${kernels[@]}"; do
        (set -o pipefail; boot "$k" "$own/lock-$k" 8>&- 2>&1 | sed -u "s/^/[$k] /") &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || rc=1; done
    exec 8>&-
    rm -rf "$own"
else
    for k in "${kernels[@]}"; do boot "$k" || rc=1; done
fi
echo "vm.sh: total $((SECONDS - t0)) s"
exit $rc
