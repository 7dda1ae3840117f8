#!/bin/bash
# In the VM (scripts/vm/run.sh --kmod): two VIF plug providers side by
# side, in one boot (BENCHMARKS.md, "The real C provider, side by side").
#
#   PREPARE_BENCH=target/harness/prepare_bench \
#   tests/bench/side-by-side-guest.sh LABEL=PROVIDER.so...  [-- LABEL=OVN_CONTROLLER...]
#
# 1. prepare per call (tests/harness/prepare_bench, built with the providers
#    linked in by tests/harness/build-prepare-bench.sh): one simulated
#    device (devlink_sim) with a physical port, the host PF (controller 1,
#    MAC 00:53:00:00:10:00) and BENCH_SIZES VFs (default "64 1024 4096"),
#    grown in place (netdevs r0, r1, ...); at each size a fresh prepare_bench process initialises
#    every provider (each dumps devlink) and times prepare for one lport per
#    VF, BENCH_CALLS (default 20) calls per lport, stock host (no run());
#    then the same with --host patched.  udevd is stopped meanwhile
#    (thousands of uevents keep it busy for minutes under TCG).
# 2. With arguments after "--" and OVN_BUILDDIR (and OVS_BUILDDIR) set:
#    udevd restarted, tests/bench/e2e-side-by-side.sh with those
#    ovn-controller binaries.
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/vm/lib-sim.sh
. tests/vm/lib-sim.sh

bench=${PREPARE_BENCH:-target/harness/prepare_bench}
sizes=${BENCH_SIZES:-64 1024 4096}
calls=${BENCH_CALLS:-20}
provs=() ctrls=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do provs+=("$1"); shift; done
[ $# -gt 0 ] && { shift; ctrls=("$@"); }
[ -x "$bench" ] || { echo "side-by-side: $bench missing (tests/harness/build-prepare-bench.sh)"; exit 1; }
[ ${#provs[@]} -gt 0 ] || { echo "usage: $0 LABEL=PROVIDER.so... [-- LABEL=OVN_CONTROLLER...]"; exit 2; }

status=0
echo "## guest: $(uname -r), $(nproc) vCPU (TCG), clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
sim_load || { echo "side-by-side: cannot load devlink_sim"; exit 1; }
sim_udev_stop
sleep 1
pf_mac=00:53:00:00:10:00
[ -d "$SIM_DBG/0" ] && sim_dev_del 0
sim_dev_new 0 || exit 1
sim_port_add 0 "physical pf=0" || exit 1
sim_port_add 0 "pf controller=1 pf=0 external=1 mac=$pf_mac" || exit 1
have=0
for n in $sizes; do
	if [ "$n" -gt "$have" ]; then
		sim_port_add 0 "vf controller=1 pf=0 vf=$have external=1 count=$((n - have)) name=r" || exit 1
		have=$n
	fi
	echo
	echo "### $n VFs ($(sim_ports 0) devlink ports), $calls calls per lport"
	for host in stock patched; do
		echo
		"$bench" --vfs "$n" --calls "$calls" --host "$host" --pf-mac "$pf_mac" "${provs[@]}" || status=1
	done
done

if [ ${#ctrls[@]} -gt 0 ]; then
	sim_dev_del 0
	sim_udev_start || echo "(udevd did not restart)"
	echo
	echo "## end to end (udevd: $(pgrep -c udevd 2>/dev/null || echo 0) process(es))"
	tests/bench/e2e-side-by-side.sh "${ctrls[@]}" || status=1
fi
exit $status
