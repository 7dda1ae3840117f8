#!/bin/bash
# Inside the VM: the C host harness (tests/harness/vif_plug_host, an
# ovn-controller stand-in on the real libopenvswitch) drives the provider's
# vtable with the KERNEL source (devlink + rtnetlink of the running kernel,
# no snapshot) on the default simulated DPU.  One fact per check, then
# "N passed, M failed".
#
#   tests/vm/harness-guest.sh [HOST-BINARY]      (default target/harness/vif_plug_host)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/bluefield-layout.sh
bf_layout 0 || { echo "could not create the simulated DPU"; exit 1; }
command -v udevadm >/dev/null && udevadm settle -t 30
echo "harness-guest: layout ready after $SECONDS s"
host=${1:-target/harness/vif_plug_host}
unset OVN_VIF_RS_SNAPSHOT
pass=0 fail=0
check() {
	if eval "$2"; then echo "PASS: $1"; pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
# netdev_of FLAVOUR CONTROLLER KEY NUM: the netdev devlink reports for a
# port, in the dump taken after the host ran (one dump, then jq as in
# lib-sim.sh: a python3 start is among the slowest execs under TCG).
netdev_of() {
	jq -r --arg f "$1" --argjson c "$2" --arg k "$3" --argjson n "$4" \
		'first(.port[] | select(.flavour == $f and (.controller // 0) == $c
			and .[$k] == $n) | .netdev) // "none"' <<<"$ports_json"
}
MAC=vif-plug-type=representor,vif-plug:representor:pf-mac=00:53:00:00:10:00
out=$("$host" -f - 2>&1 <<SCRIPT
register
plug lp-vf3 $MAC,vif-plug:representor:vf-num=3
plug lp-sf2 $MAC,vif-plug:representor:sf-num=2
plug lp-pf $MAC
plug lp-wrap $MAC,vif-plug:representor:vf-num=65539
plug lp-late $MAC,vif-plug:representor:vf-num=8
shell (sleep 0.5; echo 'vf controller=1 pf=0 vf=8 external=1' > /sys/kernel/debug/devlink_sim/0/port_add) &
wait-plugged lp-late 30000
unplug lp-vf3
list
SCRIPT
)
echo "$out"
echo "harness-guest: host done after $SECONDS s"
ports_json=$(devlink -j port show)
vf3=$(netdev_of pcivf 1 vfnum 3)
sf2=$(netdev_of pcisf 1 sfnum 2)
pf=$(netdev_of pcipf 1 pfnum 0)
vf8=$(netdev_of pcivf 1 vfnum 8)
check "the kernel source loaded (init succeeded)" "grep -qx 'REGISTER representor' <<<\"\$out\""
check "VF 3 of the host PF -> its representor $vf3" "grep -qx 'PLUG lp-vf3 $vf3' <<<\"\$out\""
check "SF 2 -> $sf2" "grep -qx 'PLUG lp-sf2 $sf2' <<<\"\$out\""
check "the host PF -> $pf" "grep -qx 'PLUG lp-pf $pf' <<<\"\$out\""
check "vf-num=65539 is declined" "grep -qx 'DECLINE lp-wrap' <<<\"\$out\""
check "an LSP before its VF is declined first" "grep -qx 'DECLINE lp-late' <<<\"\$out\""
check "and plugged once VF 8 exists ($vf8)" "grep -qx 'PLUGGED lp-late $vf8' <<<\"\$out\""
check "unplug is allowed" "grep -q '^UNPLUG lp-vf3' <<<\"\$out\""
check "no ERROR from the host" "! grep -q '^ERROR' <<<\"\$out\""
echo 'all' > /sys/kernel/debug/devlink_sim/0/port_del 2>/dev/null; sim_dev_del 0 2>/dev/null
echo "harness-guest: checks and cleanup done after $SECONDS s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
