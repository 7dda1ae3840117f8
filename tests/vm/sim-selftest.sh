#!/bin/bash
# Self-test of the devlink_sim module against the real kernel devlink code.
# Runs as root INSIDE the VM guest:
#
#   scripts/vm/run.sh -- tests/vm/sim-selftest.sh      (scripts/vm/selftest.sh does it all)
#
# In the style of the kernel's netdevsim devlink.sh: set up, act, check one
# fact at a time; "PASS: ..." / "FAIL: ..." per check, then "N passed, M failed".
# Exit status 0 only if every check passed.  Uses iproute2 (devlink, ip) and jq.

# shellcheck source=tests/vm/lib-sim.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-sim.sh"
# shellcheck source=tests/vm/bluefield-layout.sh
. "$(dirname "${BASH_SOURCE[0]}")/bluefield-layout.sh"

passed=0 failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1${2:+ ($2)}"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: the command succeeds
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then pass "$d"; else fail "$d"; fi; }
# check_fails DESCRIPTION COMMAND...: the command fails
check_fails() { local d=$1; shift; if "$@" >/dev/null 2>&1; then fail "$d" "unexpectedly succeeded"; else pass "$d"; fi; }
# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)
section() { echo "# --- $1 (t=$(elapsed "$T0" "$(now)") s)"; }

tmp=${VM_RESULTS:-$(mktemp -d)}
H0=$(sim_handle 0)
netdev_of() { sim_port_field "$1" "$2" netdev; }
ppn_of() { cat "/sys/class/net/$(netdev_of "$1" "$2")/phys_port_name" 2>/dev/null; }
hw_addr_of() { sim_port_field "$1" "$2" function.hw_addr; }
switch_id_of() { ip -d -j link show dev "$1" | jq -r '.[0].phys_switch_id // empty'; }

echo "# kernel $(uname -r), $(devlink -V)"
dmesg -C 2>/dev/null
# udevd runs rules (and programs) for every representor uevent, which under
# TCG costs more than the checks themselves; nothing here needs udev, so it is
# stopped for the run (restarted at the end).  SIM_SELFTEST_KEEP_UDEV=1 keeps it.
[ -n "${SIM_SELFTEST_KEEP_UDEV:-}" ] || sim_udev_stop

# ---- load
section "load"
check "module loads" sim_load
check "debugfs control files exist" test -w "$SIM_DBG/new_device" -a -w "$SIM_DBG/del_device"

# ---- BlueField-like layout
section "BlueField-like layout"
check "bluefield layout on device 0" bf_layout 0
check "devlink lists $H0" sh -c "devlink dev show | grep -qx '$H0'"
check_eq "device 0 has 17 ports" 17 "$(sim_ports 0)"
check_eq "port 0 is physical port 0" "physical 0" "$(sim_port_json 0 0 | jq -r '"\(.flavour) \(.port)"')"
check_eq "port 3 is pcipf c1 pf0 external" "pcipf 1 0 true" \
	"$(sim_port_json 0 3 | jq -r '"\(.flavour) \(.controller) \(.pfnum) \(.external)"')"
check_eq "port 2 is pcipf c0 pf0 local" "pcipf 0 0 false" \
	"$(sim_port_json 0 2 | jq -r '"\(.flavour) \(.controller) \(.pfnum) \(.external)"')"
check_eq "port 12 is pcivf c1 pf0 vf7 external" "pcivf 1 0 7 true" \
	"$(sim_port_json 0 12 | jq -r '"\(.flavour) \(.controller) \(.pfnum) \(.vfnum) \(.external)"')"
check_eq "port 16 is pcisf c1 pf0 sf3" "pcisf 1 0 3" \
	"$(sim_port_json 0 16 | jq -r '"\(.flavour) \(.controller) \(.pfnum) \(.sfnum)"')"
# One dump, then plain file reads: every exec costs ~0.2-1 s under TCG.
declare -A nd=()
while read -r idx name; do nd[$idx]=$name; done < <(devlink -j port show |
	jq -r --arg h "$H0/" '.port | to_entries[] | select(.key | startswith($h)) |
		"\(.key | sub(".*/"; "")) \(.value.netdev)"')
rd() { local l; IFS= read -r l <"$1" 2>/dev/null && printf '%s' "$l"; }
expect=(p0 p1 pf0 c1pf0 c1pf1 c1pf0vf0 c1pf0vf1 c1pf0vf2 c1pf0vf3 c1pf0vf4 c1pf0vf5
	c1pf0vf6 c1pf0vf7 c1pf0sf0 c1pf0sf1 c1pf0sf2 c1pf0sf3)
for i in "${!expect[@]}"; do
	check_eq "port $i phys_port_name" "${expect[$i]}" "$(rd "/sys/class/net/${nd[$i]}/phys_port_name")"
done
check_eq "c1pf0 hw_addr" 00:53:00:00:10:00 "$(hw_addr_of 0 3)"
check_eq "c1pf1 hw_addr" 00:53:00:00:11:00 "$(hw_addr_of 0 4)"
check_eq "physical port has no function hw_addr" "" "$(hw_addr_of 0 0)"
names=$(printf '%s\n' "${nd[@]}")
check_eq "every port has an eth%d netdev" 17 "$(grep -cE '^eth[0-9]+$' <<<"$names")"
sids=$(for n in $names; do rd "/sys/class/net/$n/phys_switch_id"; echo; done | sort -u)
check_eq "all ports share one switch id" 1 "$(grep -c . <<<"$sids")"
n3=$(netdev_of 0 3)
mac=$(cat "/sys/class/net/$n3/address")
check "netdev MAC is locally administered unicast" \
	test $((0x${mac%%:*} & 3)) = 2
check_eq "netdev parent is the platform device" devlink_sim.0 \
	"$(basename "$(readlink "/sys/class/net/$n3/device")")"
ifi=$(cat "/sys/class/net/$n3/ifindex")
bf_layout 0
check_eq "bf_layout again changes nothing" "$ifi" "$(cat "/sys/class/net/$(netdev_of 0 3)/ifindex" 2>/dev/null)"

# ---- hw_addr get/set
section "hw_addr get/set"
check "set hw_addr on a VF" devlink port function set "$H0/5" hw_addr 00:53:00:00:20:05
check_eq "VF hw_addr reads back" 00:53:00:00:20:05 "$(hw_addr_of 0 5)"
check "set hw_addr on a PF" devlink port function set "$H0/3" hw_addr 00:53:00:00:10:99
check_eq "PF hw_addr reads back" 00:53:00:00:10:99 "$(hw_addr_of 0 3)"
check_fails "set hw_addr on a physical port is refused" \
	devlink port function set "$H0/0" hw_addr 00:53:00:00:00:01
bf_layout 0
check_eq "bf_layout restores a changed layout" 00:53:00:00:10:00 "$(hw_addr_of 0 3)"

# ---- runtime add/remove (debugfs)
section "runtime add/remove (debugfs)"
check "add VF c1pf0vf8" sim_port_add 0 "vf controller=1 pf=0 vf=8 external=1"
check_eq "new VF gets the lowest free index" c1pf0vf8 "$(ppn_of 0 17)"
check_eq "device 0 has 18 ports" 18 "$(sim_ports 0)"
n17=$(netdev_of 0 17)
check "new VF netdev exists" ip link show dev "$n17"
check "delete VF by index" sim_port_del 0 17
check_fails "deleted VF is gone from devlink" devlink port show "$H0/17"
check_fails "deleted VF netdev is gone" ip link show dev "$n17"
check "add PF c1pf2 at runtime" sim_port_add 0 "pf controller=1 pf=2 external=1 mac=00:53:00:00:12:00"
check_eq "runtime PF phys_port_name" c1pf2 "$(ppn_of 0 17)"
check_eq "runtime PF hw_addr" 00:53:00:00:12:00 "$(hw_addr_of 0 17)"
check "add SF at an explicit index" sim_port_add 0 "sf controller=1 pf=0 sf=9 index=100"
check_eq "explicit-index SF phys_port_name" c1pf0sf9 "$(ppn_of 0 100)"
check_fails "duplicate index is refused" sim_port_add 0 "sf controller=1 pf=0 sf=10 index=100"
check "add a named local SF" sim_port_add 0 "sf controller=0 pf=0 sf=8 name=sfrep8"
check_eq "named SF keeps its name; local SF has no c prefix" pf0sf8 \
	"$(cat /sys/class/net/sfrep8/phys_port_name 2>/dev/null)"
check "delete the runtime ports" sh -c "
	for i in 17 100 \$(devlink -j port show | jq -r '.port | to_entries[] | select(.value.netdev == \"sfrep8\") | .key | sub(\".*/\"; \"\")'); do
		echo \$i >$SIM_DBG/0/port_del || exit 1
	done"
check_eq "device 0 is back to 17 ports" 17 "$(sim_ports 0)"
check_fails "unknown flavour is refused" sim_port_add 0 "bogus pf=0"
check_fails "VF without vf= is refused" sim_port_add 0 "vf controller=1 pf=0"
check_fails "port without pf= is refused" sim_port_add 0 "pf controller=1"
check_fails "vf=70000 is refused" sim_port_add 0 "vf controller=1 pf=0 vf=70000"
check_fails "bad mac is refused" sim_port_add 0 "pf pf=3 mac=00:53:zz:00:00:00"
check_fails "port_del of a missing index fails" sim_port_del 0 9999
check_fails "new_device with an existing id fails" sim_dev_new 0

# ---- netdev basics
section "netdev basics"
check "a representor can be set up" ip link set dev "$n3" up
# operstate is updated by the kernel's linkwatch work: give it a moment.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ "$(cat "/sys/class/net/$n3/operstate")" = up ] && break
	sleep 0.3
done
check_eq "its operstate is up" up "$(cat "/sys/class/net/$n3/operstate")"
check "a representor takes a 9000 MTU" ip link set dev "$n3" mtu 9000
check_eq "MTU reads back" 9000 "$(cat "/sys/class/net/$n3/mtu")"
check "and goes back down to 1500" sh -c "ip link set dev $n3 mtu 1500 && ip link set dev $n3 down"
check_eq "a down representor has no carrier" down "$(cat "/sys/class/net/$(netdev_of 0 4)/operstate")"

# ---- concurrency
# Debugfs writers, devlink port add/del and dumps at the same time.
section "concurrency"
job() {
	local j=$1 i
	for i in $(seq 0 24); do
		echo "vf controller=1 pf=0 vf=$((100 + j * 100 + i)) external=1 index=$((1000 + j * 100 + i))" \
			>"$SIM_DBG/0/port_add" || return 1
	done
	for i in $(seq 0 24); do echo $((1000 + j * 100 + i)) >"$SIM_DBG/0/port_del" || return 1; done
}
pids=()
for j in 0 1 2; do job "$j" & pids+=($!); done
( for i in 1 2 3 4 5; do devlink port add "$H0" flavour pcisf pfnum 1 sfnum $((500 + i)) >/dev/null || exit 1; done ) &
pids+=($!)
( for i in 1 2 3 4 5; do devlink -j port show >/dev/null || exit 1; done ) &
pids+=($!)
ok=0
for p in "${pids[@]}"; do wait "$p" || ok=1; done
check_eq "concurrent writers all succeeded" 0 "$ok"
for i in 1 2 3 4 5; do devlink port del "$H0/$(sim_port_index_by_name 0 "pf1sf$((500 + i))")" 2>/dev/null; done
check_eq "device 0 is back to 17 ports" 17 "$(sim_ports 0)"
check_eq "the ports file agrees" 17 "$(grep -c . "$SIM_DBG/0/ports")"

# ---- rename
section "rename"
n5=$(netdev_of 0 5)
check "rename a representor" ip link set dev "$n5" name vfr0
check_eq "devlink reports the new netdev name" vfr0 "$(netdev_of 0 5)"
ip link set dev vfr0 name "$n5"

# ---- PF without hw_addr + sysfs
section "PF without hw_addr + sysfs"
check "second device" sim_dev_new 1
check "device 1 ports" sh -c "
	echo 'physical pf=0' >$SIM_DBG/1/port_add &&
	echo 'physical pf=1' >$SIM_DBG/1/port_add &&
	echo 'pf controller=1 pf=0 external=1 mac=00:53:00:00:30:00' >$SIM_DBG/1/port_add"
p0=$(netdev_of 1 0) p1=$(netdev_of 1 1) pf=$(netdev_of 1 2)
check_fails "no smart_nic file while the PF reports its hw_addr" test -e "/sys/class/net/$p0/smart_nic/pf/config"
check "switch ids differ between devices" test "$(switch_id_of "$p0")" != "$(switch_id_of "$n3")"
check "enable no_pf_hw_addr" sim_no_pf_hw_addr 1 1
check_eq "PF reports a zero hw_addr" 00:00:00:00:00:00 "$(hw_addr_of 1 2)"
check_eq "p0 smart_nic/pf/config has the host PF MAC" "MAC        : 00:53:00:00:30:00" \
	"$(grep '^MAC' "/sys/class/net/$p0/smart_nic/pf/config" 2>&1)"
check_eq "p1 (no PF 1) shows a zero MAC" "MAC        : 00:00:00:00:00:00" \
	"$(grep '^MAC' "/sys/class/net/$p1/smart_nic/pf/config" 2>&1)"
check_fails "the PF representor has no smart_nic dir" test -e "/sys/class/net/$pf/smart_nic"
check "hw_addr set in no_pf_hw_addr mode" devlink port function set "$(sim_handle 1)/2" hw_addr 00:53:00:00:30:01
check_eq "sysfs follows the set MAC" "MAC        : 00:53:00:00:30:01" \
	"$(grep '^MAC' "/sys/class/net/$p0/smart_nic/pf/config" 2>&1)"
check "uplink added in the mode gets the file" sim_port_add 1 "physical pf=2"
check "new uplink has smart_nic/pf/config" test -r "/sys/class/net/$(netdev_of 1 3)/smart_nic/pf/config"
check "disable no_pf_hw_addr" sim_no_pf_hw_addr 1 0
check_eq "PF hw_addr is back" 00:53:00:00:30:01 "$(hw_addr_of 1 2)"
check_fails "smart_nic file is gone" test -e "/sys/class/net/$p0/smart_nic"
check "delete device 1" sim_dev_del 1
check_fails "device 1 is gone from devlink" sh -c "devlink dev show | grep -q devlink_sim.1"
check_fails "device 1 netdevs are gone" ip link show dev "$p0"

# ---- devlink port add/del (port_new)
section "devlink port add/del (port_new)"
devlink port add "$H0" flavour pcisf pfnum 0 sfnum 42 >/dev/null 2>&1
check "devlink port add pcisf pfnum 0 sfnum 42" test -n "$(sim_port_index_by_name 0 pf0sf42)"
i42=$(sim_port_index_by_name 0 pf0sf42)
check_eq "added SF attributes" "pcisf 0 0 42" \
	"$(sim_port_json 0 "$i42" | jq -r '"\(.flavour) \(.controller) \(.pfnum) \(.sfnum)"')"
check "devlink port add pcisf controller 1 without sfnum" devlink port add "$H0" flavour pcisf pfnum 0 controller 1
check "sfnum defaults to the lowest free one (c1pf0sf4)" test -n "$(sim_port_index_by_name 0 c1pf0sf4)"
check_fails "devlink port add pcivf is refused" devlink port add "$H0" flavour pcivf pfnum 0
check "devlink port add pcipf controller 1 pfnum 5" devlink port add "$H0" flavour pcipf pfnum 5 controller 1
check "devlink port del the added PF (c1pf5)" devlink port del "$H0/$(sim_port_index_by_name 0 c1pf5)"
check "devlink port del" devlink port del "$H0/$i42"
check_fails "deleted SF is gone" devlink port show "$H0/$i42"
check "devlink port del the other SF" devlink port del "$H0/$(sim_port_index_by_name 0 c1pf0sf4)"
check_eq "device 0 is back to 17 ports" 17 "$(sim_ports 0)"

# ---- devlink monitor
section "devlink monitor"
mon=$tmp/monitor.txt
stdbuf -oL devlink monitor port >"$mon" 2>&1 &
monpid=$!
# The monitor prints nothing when it has subscribed: wait until its generic
# netlink socket (protocol 16; inode among its fds) shows a group in
# /proc/net/netlink, for at most 5 s.  (A fixed 1 s pause was too short
# with two guests busy: the add's events were missed.)
mon_subscribed() {
	local inodes
	inodes=" $(find "/proc/$monpid/fd" -lname 'socket:*' -printf '%l ' 2>/dev/null | tr -dc '0-9 ') "
	awk -v inodes="$inodes" '$2 == 16 && $4 != "00000000" && index(inodes, " " $10 " ") { f = 1 }
		END { exit !f }' /proc/net/netlink
}
for _ in $(seq 50); do
	mon_subscribed && break
	sleep 0.1
done
# The kernel queues each notification before the action returns, in order:
# no pause is needed between the actions, and once PORT_DEL is in the file
# every earlier event (or its absence) is too.
sim_port_add 0 "vf controller=1 pf=0 vf=20 external=1"
vfn=$(netdev_of 0 17)
ip link set dev "$vfn" name vf20renamed
sim_port_del 0 17
for _ in $(seq 100); do
	grep -q "^\[port,del\] $H0/17:" "$mon" && break
	sleep 0.1
done
kill "$monpid"; wait "$monpid" 2>/dev/null
check "monitor sees PORT_NEW with the netdev" grep -q "^\[port,new\] $H0/17: type eth netdev $vfn " "$mon"
# A kernel fact the provider must live with: 6.2+ notifies renames, 6.1 does not.
kv=$(uname -r); kmaj=${kv%%.*}; kmin=${kv#*.}; kmin=${kmin%%[.-]*}
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -ge 2 ]; }; then
	check "rename is notified (PORT_NEW with the new name, kernel >= 6.2)" \
		grep -q "^\[port,new\] $H0/17: type eth netdev vf20renamed " "$mon"
else
	check_fails "rename is not notified (kernel < 6.2)" grep -q "netdev vf20renamed " "$mon"
fi
check "monitor sees PORT_DEL" grep -q "^\[port,del\] $H0/17:" "$mon"
check_eq "PORT_DEL is the last event for the port" "[port,del]" \
	"$(grep " $H0/17:" "$mon" | tail -n1 | cut -d' ' -f1)"
echo "# monitor saw:"; sed 's/^/#   /' "$mon"

# ---- 4,096 ports
section "4,096 ports"
# udev would process every uevent (~30 ms each under TCG): stop it, and use
# explicit names (an eth%d template makes the kernel scan all netdevs per add).
t=$(now)
[ -z "${SIM_SELFTEST_KEEP_UDEV:-}" ] || sim_udev_stop
check "device 2 for the stress test" sim_dev_new 2
t0=$(now)
check "bulk add 4096 VFs" sim_port_add 2 "vf controller=1 pf=0 vf=0 external=1 count=4096 name=s2v"
t1=$(now)
check_eq "device 2 has 4096 ports" 4096 "$(sim_ports 2)"
t2=$(now)
check_eq "4096 netdevs" 4096 "$(find /sys/class/net -maxdepth 1 -name 's2v*' | grep -c .)"
check_eq "last VF phys_port_name" c1pf0vf4095 "$(cat /sys/class/net/s2v4095/phys_port_name 2>/dev/null)"
check "bulk delete with del_device" sim_dev_del 2
t3=$(now)
check_eq "4096 netdevs gone" 0 "$(find /sys/class/net -maxdepth 1 -name 's2v*' | grep -c .)"
echo "# 4096 ports: udevd stop $(elapsed "$t" "$t0") s, add $(elapsed "$t0" "$t1") s, devlink dump $(elapsed "$t1" "$t2") s, delete $(elapsed "$t2" "$t3") s"
[ -z "${SIM_SELFTEST_KEEP_UDEV:-}" ] || check "udevd restarted" sim_udev_start
echo "# udev stop/start and checks: $(elapsed "$t" "$(now)") s in this section"

# ---- teardown
section "teardown"
check "rmmod with a device present" sim_unload
check_fails "no devlink_sim device left" sh -c "devlink dev show | grep -q devlink_sim"
check_fails "no simulator netdev left" sh -c "ip -d link show | grep -q 'parentdev devlink_sim'"
warn=$(dmesg | grep -E 'WARNING:|BUG:|Call Trace|refcount|leaked' | head -n5)
check_eq "no kernel warnings" "" "$warn"

[ -n "${SIM_SELFTEST_KEEP_UDEV:-}" ] || check "udevd restarted" sim_udev_start
section "done"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
