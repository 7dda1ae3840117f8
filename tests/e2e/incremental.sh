#!/bin/bash
# Measurement (not a pass/fail test): what vif_plug_run() costs per
# ovn-controller main-loop iteration with many plugged representors, for
# several ovn-controller binaries in the same VM boot (e.g. OVN with
# ovn-patch 0001-0006, and with 0008 on top), against the devlink simulator.
#
#   scripts/vm/run.sh --kmod --rwdir DIR -- tests/e2e/incremental.sh
#
# Runs as root in the guest.  For each port count in INC_PORTS (ascending),
# it gives the simulated DPU that many VFs (udevd stopped: names are final at
# once), one LSP per VF, and then, for each binary in INC_CONTROLLERS in turn:
# starts ovn-controller, waits until every VF is plugged, and prints
#   - idle: INC_IDLE seconds with nothing changing;
#   - unrelated: 5 NB changes that concern no plugged lport (ls-add, --wait=hv);
#   - unrelated netdevs: 5 dummy netdevs added and removed (links no devlink
#     port shows: no decision of the provider changes);
#   - new LSP: an LSP for a VF that already exists (the usual CMS flow);
#   - new VF: an LSP first (declined), then its VF appears;
# each with the vif-plug-run stopwatch (samples = iterations that ran
# vif_plug_run; min, max and OVS's long-term average, in ms), the
# provider's prepare calls (its `show` counters), prepares per sample, and
# ovn-controller's CPU time.
#
# Environment:
#   OVN_BUILDDIR     the built OVN tree (schemas, northd, utilities; required)
#   OVS_BUILDDIR     the built OVS tree (default $OVN_BUILDDIR/ovs)
#   INC_CONTROLLERS  "LABEL=BINARY[@MAXPORTS] ..." (default: the tree's
#                    ovn-controller); @MAXPORTS skips that binary above MAXPORTS
#   INC_PORTS        port counts (default "1000")
#   INC_IDLE         idle seconds (default 20)
#   INC_TIMEOUT      seconds to wait for all ports to be plugged (default 900)
#   INC_PHASES       which phases, in this order (default all:
#                    "idle unrelated netdevs newlsp newvf")
#   INC_WORKDIR      logs and results.txt (default $VM_RESULTS/e2e-incremental)
# The stack: lib-stack.sh; the loop: lib-incremental.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib-stack.sh
. "$HERE/lib-stack.sh"
# shellcheck source=tests/e2e/lib-incremental.sh
. "$HERE/lib-incremental.sh"
# shellcheck source=tests/vm/lib-sim.sh
. "$REPO/tests/vm/lib-sim.sh"
# Under TCG, ovn-controller may need minutes to catch up after plugging
# thousands of ports: an --wait=hv waits as long as the plugging itself;
# counting the plugged ports is slow too.
TMO=60 SYNC_TMO=$PLUG_TMO POLL=2
PLUG=representor LSP=lsp-vf
PHASES=" ${INC_PHASES:-idle unrelated netdevs newlsp newvf} "
SIM=0
W=${INC_WORKDIR:-${VM_RESULTS:+$VM_RESULTS/e2e-incremental}}
[ -n "$W" ] || W=$(mktemp -d /tmp/e2e-incremental.XXXXXX)
# Sockets (and the databases) on a guest-local file system: the
# directories the host shares (9p) cannot hold a Unix socket.
inc_workdir "$(mktemp -d /tmp/e2e-incremental.XXXXXX)"

# --- The simulated DPU: uplink, host PF, VFs added per port count -------------
sim_load || die "cannot load devlink_sim"
sim_udev_stop
sleep 1
sim_dev_new $SIM || die "sim_dev_new"
sim_port_add $SIM "physical pf=0" || die "physical port"
sim_port_add $SIM "pf controller=1 pf=0 external=1 mac=$PF_MAC" || die "pf port"

# --- Daemons (all but ovn-controller) ------------------------------------------
stack_start system || die "$STACK_ERR"
nbctl ls-add sw0 || die "ls-add"

grow() { # FROM TO: VFs and LSPs FROM..TO-1
	local t0
	t0=$(date +%s)
	sim_port_add $SIM "vf controller=1 pf=0 vf=$1 external=1 count=$(($2 - $1)) name=r" ||
		die "adding VFs $1..$(($2 - 1))"
	# shellcheck disable=SC2046 # one argument per word
	nbctl $(lsp_cmds "$1" $(($2 - 1))) >/dev/null || die "adding LSPs $1..$(($2 - 1))"
	echo "# $2 VFs and LSPs in $(($(date +%s) - t0)) s"
}
add_vf() { sim_port_add $SIM "vf controller=1 pf=0 vf=$EXTRA external=1 name=x$EXTRA"; }
unrelated_netdevs() {
	local i
	for i in 1 2 3 4 5; do ip link add "incdummy$i" type dummy && ip link set "incdummy$i" up; done
	sleep 1
	for i in 1 2 3 4 5; do ip link del "incdummy$i"; done
}
phase() { [[ $PHASES == *" $1 "* ]]; }
phases() {
	phase idle && measure "idle ${IDLE} s" idle
	phase unrelated && measure "5 unrelated NB changes" unrelated
	phase netdevs && measure "5 unrelated netdevs added, removed" unrelated_netdevs
	phase newlsp && measure_new_lsp
	phase newvf && measure_new_vf
}

say "## guest: $(uname -r), $(nproc) vCPU, $(date -u +%FT%TZ)"
say "controllers: $CONTROLLERS"
say "phases:$PHASES"
inc_table_head
inc_run
inc_finish
