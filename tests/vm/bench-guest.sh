#!/bin/bash
# Inside the VM (scripts/bench --vm boots it with scripts/vm/run.sh --kmod):
# benchmarks against the real kernel's devlink with devlink_sim ports.
#   1. a 4,096-port device: full dumps through the provider's kernel source
#      vs `devlink -j port show` of the same ports (same run, ratio);
#   2. kernel event -> visible to lookup: add a VF through debugfs, poll
#      prepare (through the C vtable) until it resolves.
# BENCH_EXE: the benchmark binary (benches/hotpath/, copied by
# scripts/bench); OVN_VIF_RS_CLI: the CLI (target/release/ovn-vif-rs).
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/vm/lib-sim.sh
. tests/vm/lib-sim.sh

exe=${BENCH_EXE:-target/bench/hotpath}
cli=${OVN_VIF_RS_CLI:-target/release/ovn-vif-rs}
reps=${BENCH_REPS:-7}
[ -x "$exe" ] || { echo "bench-guest: $exe missing (run scripts/bench --vm)"; exit 1; }
[ -x "$cli" ] || cli=
sim_load || { echo "bench-guest: cannot load devlink_sim"; exit 1; }
# udevd spends ~30 ms per netdev uevent under TCG: thousands of ports would
# keep it busy for minutes (and the provider waits for udev's verdict while
# it runs).  Without udev, names are final at once.
sim_udev_stop
sleep 1

echo "## guest: $(uname -r), $(nproc) vCPU (TCG), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
pf_mac=00:53:00:00:10:00
sim_dev_new 0 || exit 1
sim_port_add 0 "physical pf=0" || exit 1
sim_port_add 0 "pf controller=1 pf=0 external=1 mac=$pf_mac" || exit 1
t0=$(date +%s%N)
sim_port_add 0 "vf controller=1 pf=0 vf=0 external=1 count=4094 name=r" || exit 1
t1=$(date +%s%N)
echo "devlink_sim: $(sim_ports 0) ports on $(sim_handle 0) (bulk add of 4,094 VFs: $(( (t1 - t0) / 1000000 )) ms)"
echo
echo "### dumping the simulator's ports ($reps runs each; median, best)"
echo
echo "| what | ports | median ms | best ms | ports/s (median) |"
echo "|---|---|---|---|---|"
"$exe" vm-dump "$reps" ${cli:+"$cli"} || exit 1
echo
echo "### kernel event -> visible to lookup (VF added through debugfs)"
echo
# With udev running, as on a real DPU: a new netdev is plugged only once
# udev has finished with it (src/rtnl/settled.rs), so this includes udev's
# processing of the uevent.  (Stopped udevd leaves /run/udev/control
# behind, and the provider would then wait its 30 s settle timeout.)
sim_udev_start || echo "(udevd did not restart: expect the 30 s settle timeout)"
echo "udevd: $(pgrep -c udevd 2>/dev/null || echo 0) process(es); /run/udev/control $( [ -e /run/udev/control ] && echo present || echo absent)"
echo
"$exe" vm-latency "${BENCH_LAT_REPS:-10}" "$pf_mac" "$SIM_DBG/0" 2>/dev/null || exit 1
