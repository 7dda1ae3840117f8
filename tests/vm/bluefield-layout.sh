#!/bin/bash
# The default simulated DPU (a BlueField-like eswitch) on devlink_sim device ID
# (default 0), handle platform/devlink_sim.ID:
#
#   index  flavour   attrs                         phys_port_name  hw_addr
#   0      physical  port 0                        p0              -
#   1      physical  port 1                        p1              -
#   2      pcipf     c0 pf0                        pf0             00:00:00:00:00:00
#   3      pcipf     c1 pf0 external               c1pf0           00:53:00:00:10:00
#   4      pcipf     c1 pf1 external               c1pf1           00:53:00:00:11:00
#   5-12   pcivf     c1 pf0 vf0..vf7 external      c1pf0vf0..7     00:00:00:00:00:00
#   13-16  pcisf     c1 pf0 sf0..sf3 external      c1pf0sf0..3     00:00:00:00:00:00
#
# Netdevs are named by the kernel (eth%d); tests must look them up through
# devlink (`devlink -j port show`), never assume names.
#
# Run it (loads the module if needed):   tests/vm/bluefield-layout.sh [ID]
# or source it and call:                  bf_layout [ID]
# Idempotent: if device ID already has exactly this layout (same hw_addrs,
# no_pf_hw_addr off) nothing changes; otherwise it is deleted and recreated.

# shellcheck source=tests/vm/lib-sim.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-sim.sh"

BF_LAYOUT_LINES=(
	"physical pf=0"
	"physical pf=1"
	"pf controller=0 pf=0 external=0"
	"pf controller=1 pf=0 external=1 mac=00:53:00:00:10:00"
	"pf controller=1 pf=1 external=1 mac=00:53:00:00:11:00"
	"vf controller=1 pf=0 vf=0 external=1 count=8"
	"sf controller=1 pf=0 sf=0 external=1 count=4"
)

# What the device's debugfs "ports" file shows for this layout, minus netdev names.
bf_expected_signature() {
	local z=00:00:00:00:00:00 i
	echo "0 physical c0 pf0 0 external=0 $z"
	echo "1 physical c0 pf1 0 external=0 $z"
	echo "2 pf c0 pf0 0 external=0 $z"
	echo "3 pf c1 pf0 0 external=1 00:53:00:00:10:00"
	echo "4 pf c1 pf1 0 external=1 00:53:00:00:11:00"
	for i in 0 1 2 3 4 5 6 7; do echo "$((5 + i)) vf c1 pf0 $i external=1 $z"; done
	for i in 0 1 2 3; do echo "$((13 + i)) sf c1 pf0 $i external=1 $z"; done
	echo "no_pf_hw_addr=0"
}

bf_signature() {
	awk '{ print $1, $2, $3, $4, $5, $6, $8 }' "$SIM_DBG/$1/ports"
	echo "no_pf_hw_addr=$(cat "$SIM_DBG/$1/no_pf_hw_addr")"
}

bf_layout() {
	local id=${1:-0} line
	sim_load || return
	if sim_dev_exists "$id"; then
		[ "$(bf_signature "$id")" = "$(bf_expected_signature)" ] && return 0
		sim_dev_del "$id" || return
	fi
	sim_dev_new "$id" || return
	for line in "${BF_LAYOUT_LINES[@]}"; do
		sim_port_add "$id" "$line" || { echo "bf_layout: port_add '$line' failed" >&2; return 1; }
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	bf_layout "${1:-0}" || exit 1
	devlink port show
fi
