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
# vif_plug_run, mean/max ms), the provider's prepare calls (its `show`
# counters), prepares per sample, and ovn-controller's CPU time.
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
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OVN=$(cd "${OVN_BUILDDIR:?set OVN_BUILDDIR to a built OVN tree}" && pwd)
OVS=$(cd "${OVS_BUILDDIR:-$OVN/ovs}" && pwd)
CONTROLLERS=${INC_CONTROLLERS:-tree=$OVN/controller/ovn-controller}
PORTS=${INC_PORTS:-1000}
IDLE=${INC_IDLE:-20}
PLUG_TMO=${INC_TIMEOUT:-900}
PHASES=" ${INC_PHASES:-idle unrelated netdevs newlsp newvf} "
TMO=60
W=${INC_WORKDIR:-${VM_RESULTS:+$VM_RESULTS/e2e-incremental}}
[ -n "$W" ] || W=$(mktemp -d /tmp/e2e-incremental.XXXXXX)
CHASSIS=hv1
PF_MAC=00:53:00:00:10:00
SIM=0

# shellcheck source=tests/vm/lib-sim.sh
. "$REPO/tests/vm/lib-sim.sh"

mkdir -p "$W" && rm -rf "${W:?}/log" "${W:?}/run" "${W:?}/results.txt" && mkdir -p "$W/log" || exit 2
RES=$W/results.txt
RUN=$(mktemp -d /tmp/e2e-incremental.XXXXXX) || exit 2
export OVS_RUNDIR=$RUN OVS_DBDIR=$RUN OVS_LOGDIR=$W/log OVN_RUNDIR=$RUN \
	OVS_SYSCONFDIR=$RUN OVN_SYSCONFDIR=$RUN
export OVN_NB_DB=unix:$RUN/nb.sock OVN_SB_DB=unix:$RUN/sb.sock
export PATH=$OVS/utilities:$OVS/ovsdb:$OVS/vswitchd:$OVN/utilities:$OVN/northd:$PATH

say() { echo "$*" | tee -a "$RES"; }
die() { say "ERROR: $*"; stop_all; exit 1; }
vsctl() { timeout "$((TMO + 10))" ovs-vsctl --timeout="$TMO" "$@"; }
nbctl() { timeout "$((TMO + 10))" ovn-nbctl --timeout="$TMO" "$@"; }
appctl() { timeout 20 ovn-appctl -t "$RUN/ovn-controller.ctl" "$@"; }
stop_all() {
	local p
	for p in ovn-controller ovs-vswitchd ovn-northd db nb sb; do
		[ -s "$RUN/$p.pid" ] && kill "$(cat "$RUN/$p.pid")" 2>/dev/null
	done
	sleep 0.5
}

# --- The simulated DPU: uplink, host PF, VFs added per port count -------------
sim_load || die "cannot load devlink_sim"
sim_udev_stop
sleep 1
sim_dev_new $SIM || die "sim_dev_new"
sim_port_add $SIM "physical pf=0" || die "physical port"
sim_port_add $SIM "pf controller=1 pf=0 external=1 mac=$PF_MAC" || die "pf port"

# --- Daemons (all but ovn-controller) ------------------------------------------
modprobe openvswitch || die "modprobe openvswitch"
# An out-of-tree OVS build has the schema in its source directory.
VSWITCH_SCHEMA=$OVS/vswitchd/vswitch.ovsschema
[ -f "$VSWITCH_SCHEMA" ] ||
	VSWITCH_SCHEMA=$(sed -n 's/^abs_top_srcdir = //p' "$OVS/Makefile" 2>/dev/null)/vswitchd/vswitch.ovsschema
for db in nb:$OVN/ovn-nb.ovsschema sb:$OVN/ovn-sb.ovsschema conf:$VSWITCH_SCHEMA; do
	ovsdb-tool create "$RUN/${db%%:*}.db" "${db#*:}" || die "ovsdb-tool create ${db%%:*}"
done
for db in nb sb; do
	ovsdb-server --detach --no-chdir --pidfile="$RUN/$db.pid" --unixctl="$RUN/$db.ctl" \
		--log-file="$W/log/$db.log" -vconsole:off -vsyslog:off \
		--remote=punix:"$RUN/$db.sock" "$RUN/$db.db" || die "ovsdb-server $db"
done
ovsdb-server --detach --no-chdir --pidfile="$RUN/db.pid" --unixctl="$RUN/db.ctl" \
	--log-file="$W/log/ovsdb-server.log" -vconsole:off -vsyslog:off \
	--remote=punix:"$RUN/db.sock" "$RUN/conf.db" || die "ovsdb-server conf"
ovn-northd --detach --no-chdir --pidfile="$RUN/ovn-northd.pid" --log-file="$W/log/ovn-northd.log" \
	-vconsole:off -vsyslog:off --ovnnb-db="$OVN_NB_DB" --ovnsb-db="$OVN_SB_DB" || die "ovn-northd"
vsctl --no-wait init -- set open_vswitch . external_ids:system-id=$CHASSIS \
	external_ids:ovn-remote="$OVN_SB_DB" external_ids:ovn-encap-type=geneve \
	external_ids:ovn-encap-ip=127.0.0.1 || die "ovs-vsctl init"
ovs-vswitchd --detach --no-chdir --pidfile="$RUN/ovs-vswitchd.pid" --log-file="$W/log/ovs-vswitchd.log" \
	-vconsole:off -vsyslog:off unix:"$RUN/db.sock" || die "ovs-vswitchd"
vsctl add-br br-int -- set bridge br-int fail-mode=secure other-config:disable-in-band=true ||
	die "add-br br-int"
nbctl ls-add sw0 || die "ls-add"

lsp_cmds() { # FIRST LAST: ovn-nbctl arguments adding lsp-vfFIRST..lsp-vfLAST
	local i
	for ((i = $1; i <= $2; i++)); do
		printf -- '-- lsp-add sw0 lsp-vf%d -- lsp-set-options lsp-vf%d requested-chassis=%s vif-plug-type=representor vif-plug:representor:pf-mac=%s vif-plug:representor:vf-num=%d ' \
			"$i" "$i" "$CHASSIS" "$PF_MAC" "$i"
	done
}
plugged_count() { vsctl --bare --columns=name find Interface external_ids:ovn-plugged=representor | grep -c .; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
prepares() { appctl vif-plug-representor/show | sed -n 's/.*stats: prepares=\([0-9]*\).*/\1/p'; }
# sw_stats: "samples min max long-term-average" of the vif-plug-run stopwatch
# (milliseconds, as OVN's stopwatch counts them; the long-term average is
# OVS's exponential average, seeded with the first sample after a reset).
sw_stats() {
	appctl stopwatch/show vif-plug-run | awk '
		/Total samples/ { n = $3 }
		/Maximum/ { mx = $2 }
		/Minimum/ { mn = $2 }
		/Long term average/ { lt = $4 }
		END { printf "%d %s %s %.1f\n", n, (mn == "" ? "-" : mn), (mx == "" ? "-" : mx), lt }'
}
measure() { # PHASE PID COMMAND...: run COMMAND, print the stopwatch and counters over it
	local what=$1 pid=$2 p0 p1 c0 c1 n mn mx lt per
	shift 2
	sleep 1
	appctl stopwatch/reset vif-plug-run >/dev/null
	p0=$(prepares) c0=$(cpu_ticks "$pid")
	"$@"
	sleep 1
	p1=$(prepares) c1=$(cpu_ticks "$pid")
	read -r n mn mx lt < <(sw_stats)
	per=-
	[ "$n" -gt 0 ] && per=$(((p1 - p0) / n))
	say "| $LABEL | $N | $what | $n | $mn | $mx | $lt | $((p1 - p0)) | $per | $(((c1 - c0) * 10)) |"
}
phase() { [[ $PHASES == *" $1 "* ]]; }
idle() { sleep "$IDLE"; }
unrelated_netdevs() {
	local i
	for i in 1 2 3 4 5; do ip link add "incdummy$i" type dummy && ip link set "incdummy$i" up; done
	sleep 1
	for i in 1 2 3 4 5; do ip link del "incdummy$i"; done
}
unrelated() {
	local i
	for i in 1 2 3 4 5; do
		timeout "$((PLUG_TMO + 10))" ovn-nbctl --timeout="$PLUG_TMO" --wait=hv ls-add "unrel-$LABEL-$N-$i" >/dev/null
	done
}
wait_plugged() { # NETDEV LSP
	local i v
	for ((i = 0; i < TMO * 10; i++)); do
		v=$(vsctl get Interface "$1" external_ids:iface-id 2>/dev/null)
		[ "${v//\"/}" = "$2" ] && return 0
		sleep 0.1
	done
	say "ERROR: $1 not plugged for $2"
	return 1
}
EXTRA=60000
# shellcheck disable=SC2046 # one argument per word
add_lsp() { nbctl $(lsp_cmds "$EXTRA" "$EXTRA") >/dev/null; }
add_vf() { sim_port_add $SIM "vf controller=1 pf=0 vf=$EXTRA external=1 name=x$EXTRA"; }
new_lsp() { add_lsp && wait_plugged "x$EXTRA" "lsp-vf$EXTRA"; }
new_vf() { add_vf && wait_plugged "x$EXTRA" "lsp-vf$EXTRA"; }

say "## guest: $(uname -r), $(nproc) vCPU, $(date -u +%FT%TZ)"
say "controllers: $CONTROLLERS"
say "phases:$PHASES"
say ""
say "| binary | ports | phase | vif_plug_run samples | min ms | max ms | long-term avg ms | prepares | prepares/sample | CPU ms |"
say "|---|---|---|---|---|---|---|---|---|---|"
have=0
for N in $PORTS; do
	if [ "$N" -gt "$have" ]; then
		t0=$(date +%s)
		sim_port_add $SIM "vf controller=1 pf=0 vf=$have external=1 count=$((N - have)) name=r" ||
			die "adding VFs $have..$((N - 1))"
		# shellcheck disable=SC2046 # one argument per word
		nbctl $(lsp_cmds "$have" $((N - 1))) >/dev/null || die "adding LSPs $have..$((N - 1))"
		echo "# $N VFs and LSPs in $(($(date +%s) - t0)) s"
		have=$N
	fi
	for entry in $CONTROLLERS; do
		LABEL=${entry%%=*} bin=${entry#*=} max=
		case $bin in *@*) max=${bin##*@} bin=${bin%@*} ;; esac
		[ -n "$max" ] && [ "$N" -gt "$max" ] && continue
		"$bin" --detach --no-chdir --pidfile="$RUN/ovn-controller.pid" \
			--unixctl="$RUN/ovn-controller.ctl" \
			--log-file="$W/log/ovn-controller-$LABEL-$N.log" -vconsole:off -vsyslog:off \
			unix:"$RUN/db.sock" || { say "| $LABEL | $N | did not start: skipped |"; continue; }
		pid=$(cat "$RUN/ovn-controller.pid")
		t0=$(date +%s)
		want=$(plugged_count)
		for ((i = 0; i < PLUG_TMO; i += 2)); do
			[ "$(plugged_count)" -ge "$N" ] && break
			sleep 2
		done
		[ "$(plugged_count)" -ge "$N" ] || die "$LABEL: only $(plugged_count) of $N plugged after $PLUG_TMO s"
		echo "# $LABEL: $N plugged after $(($(date +%s) - t0)) s (had $want at start)"
		# Under TCG, ovn-controller may need minutes to catch up after plugging
		# thousands of ports: wait as long as for the plugging itself.
		timeout "$((PLUG_TMO + 10))" ovn-nbctl --timeout="$PLUG_TMO" --wait=hv sync || die "sync"
		sleep 5
		phase idle && measure "idle ${IDLE} s" "$pid" idle
		phase unrelated && measure "5 unrelated NB changes" "$pid" unrelated
		phase netdevs && measure "5 unrelated netdevs added, removed" "$pid" unrelated_netdevs
		if phase newlsp; then
			EXTRA=$((EXTRA + 1))
			add_vf || die "adding VF $EXTRA"
			sleep 3
			measure "new LSP, its VF exists" "$pid" new_lsp
		fi
		if phase newvf; then
			EXTRA=$((EXTRA + 1))
			add_lsp || die "adding LSP $EXTRA"
			sleep 3
			measure "new VF, its LSP exists" "$pid" new_vf
		fi
		kill "$pid"
		sleep 2
	done
done
say ""
say "logs: $W/log"
stop_all
