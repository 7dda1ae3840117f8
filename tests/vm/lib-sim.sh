# shellcheck shell=bash
# Helpers for driving the devlink_sim module (tests/kmod) from shell tests.
# Source it; nothing here exits the caller. All functions return non-zero on
# failure.  Meant to run as root in the VM guest (scripts/vm/run.sh).

SIM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIM_DBG=/sys/kernel/debug/devlink_sim

# Load devlink_sim unless already loaded ($DEVLINK_SIM_KO, else the build for
# the running kernel made by scripts/vm/build-kmod.sh).
sim_load() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug || return
	[ -d "$SIM_DBG" ] && return 0
	local ko=${DEVLINK_SIM_KO:-$SIM_REPO/tests/kmod/build/$(uname -r)/devlink_sim.ko}
	insmod "$ko"
}

sim_unload() { ! [ -d "$SIM_DBG" ] || rmmod devlink_sim; }

sim_handle() { echo "platform/devlink_sim.$1"; }
sim_dev_exists() { [ -d "$SIM_DBG/$1" ]; }
sim_dev_new() { echo "$1" >"$SIM_DBG/new_device"; }
sim_dev_del() { echo "$1" >"$SIM_DBG/del_device"; }

# sim_port_add ID "vf controller=1 pf=0 vf=3 external=1"
sim_port_add() { echo "$2" >"$SIM_DBG/$1/port_add"; }
# sim_port_del ID INDEX|all
sim_port_del() { echo "$2" >"$SIM_DBG/$1/port_del"; }
# sim_no_pf_hw_addr ID 0|1
sim_no_pf_hw_addr() { echo "$2" >"$SIM_DBG/$1/no_pf_hw_addr"; }

# sim_port_json ID INDEX: the port's object from `devlink -j port show`.
sim_port_json() {
	devlink -j port show "$(sim_handle "$1")/$2" | jq -c '.port[]'
}
# sim_port_field ID INDEX FIELD (e.g. netdev, flavour, function.hw_addr)
sim_port_field() {
	devlink -j port show "$(sim_handle "$1")/$2" | jq -r ".port[].$3 // empty"
}
# sim_ports ID: the number of devlink ports of device ID.
sim_ports() {
	devlink -j port show | jq --arg h "$(sim_handle "$1")/" \
		'[.port | keys[] | select(startswith($h))] | length'
}
# sim_port_index_by_name ID PHYS_PORT_NAME: the devlink index of that port.
# (One devlink dump; sysfs read with builtins: execs are slow under TCG.)
sim_port_index_by_name() {
	local key name ppn
	while read -r key name; do
		IFS= read -r ppn <"/sys/class/net/$name/phys_port_name" 2>/dev/null || continue
		if [ "$ppn" = "$2" ]; then
			echo "${key##*/}"
			return 0
		fi
	done < <(devlink -j port show | jq -r --arg h "$(sim_handle "$1")/" \
		'.port | to_entries[] | select(.key | startswith($h)) | "\(.key) \(.value.netdev // "-")"')
	return 1
}

# udevd handles each netdev uevent in ~30 ms under TCG, so thousands of ports
# keep it busy for minutes.  sim_udev_stop makes it exit (uevents sent while it
# is gone are simply not processed); sim_udev_start starts it again.
sim_udev_stop() {
	SIM_UDEVD=$(command -v systemd-udevd || command -v udevd ||
		echo /lib/systemd/systemd-udevd)
	udevadm control --exit 2>/dev/null || true
}
sim_udev_start() {
	[ -n "${SIM_UDEVD:-}" ] || return 0
	"$SIM_UDEVD" --daemon && udevadm settle -t 30
}
