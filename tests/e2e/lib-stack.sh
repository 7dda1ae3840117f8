# shellcheck shell=bash
# The OVN/OVS stack every end-to-end script runs (tests/e2e/*.sh,
# tests/bench/e2e-side-by-side.sh): NB and SB ovsdb-servers, ovn-northd, the
# Open_vSwitch ovsdb-server, ovs-vswitchd with br-int, then ovn-controller,
# all with their pidfiles, sockets and databases in one run directory.
# Source it; nothing here exits the caller (a failure returns non-zero).
#
# On sourcing it sets OVN and OVS (the built trees: OVN_BUILDDIR, required;
# OVS_BUILDDIR, default $OVN_BUILDDIR/ovs), VS_SCHEMA, PATH (their
# programs first), CHASSIS and PF_MAC.  The caller sets TMO (seconds for
# each ovs-vsctl / ovn-nbctl wait) before it calls vsctl or nbctl.
#
#   stack_env RUNDIR LOGDIR    the OVS_*/OVN_* variables: where the daemons
#                              and the ctl tools find each other (sets RUN)
#   stack_start system|dummy   the daemons up to br-int (STACK_ERR says what
#                              failed); system: the kernel datapath
#                              (modprobe openvswitch), dummy: ovs-vswitchd's
#                              dummy datapath (any netdev name plugs)
#   controller_start BIN LOG [OPTION...]   ovn-controller; OC_PID its pid
#   monitor_interfaces FILE, monitor_lsps FILE   ovsdb-client monitors
#   stack_stop                 the monitors, then every daemon

: "${OVN_BUILDDIR:?set OVN_BUILDDIR to a built OVN tree}"
OVN=$(cd "$OVN_BUILDDIR" && pwd)
OVS=$(cd "${OVS_BUILDDIR:-$OVN/ovs}" && pwd)
# An OVS built out of tree has the schema in its source directory.
VS_SCHEMA=$OVS/vswitchd/vswitch.ovsschema
[ -e "$VS_SCHEMA" ] ||
	VS_SCHEMA=$(sed -n 's/^abs_top_srcdir = //p' "$OVS/Makefile" 2>/dev/null)/vswitchd/vswitch.ovsschema
export PATH=$OVS/utilities:$OVS/ovsdb:$OVS/vswitchd:$OVN/utilities:$OVN/northd:$PATH
CHASSIS=hv1
# The host PF's MAC (controller 1, PF 0) of the simulated DPU
# (tests/vm/bluefield-layout.sh) and of the incremental scripts' own.
PF_MAC=00:53:00:00:10:00

vsctl() { timeout "$((TMO + 10))" ovs-vsctl --timeout="$TMO" "$@"; }
nbctl() { timeout "$((TMO + 10))" ovn-nbctl --timeout="$TMO" "$@"; }

stack_env() { # RUNDIR LOGDIR
	RUN=$1
	export OVS_RUNDIR=$RUN OVS_DBDIR=$RUN OVS_LOGDIR=$2 OVN_RUNDIR=$RUN \
		OVS_SYSCONFDIR=$RUN OVN_SYSCONFDIR=$RUN
	export OVN_NB_DB=unix:$RUN/nb.sock OVN_SB_DB=unix:$RUN/sb.sock
}

# stack_failed WHAT: STACK_ERR=WHAT, return 1.
stack_failed() {
	# shellcheck disable=SC2034 # read by the callers of stack_start
	STACK_ERR=$1
	return 1
}
stack_start() { # system|dummy
	local db log=$OVS_LOGDIR vswitchd_opts=() br_opts=()
	case $1 in
	system) modprobe openvswitch || { stack_failed "modprobe openvswitch"; return; } ;;
	dummy) vswitchd_opts=(--enable-dummy=override) br_opts=(datapath-type=dummy) ;;
	*) stack_failed "stack_start $1: expected system or dummy"; return ;;
	esac
	for db in nb:$OVN/ovn-nb.ovsschema sb:$OVN/ovn-sb.ovsschema conf:$VS_SCHEMA; do
		ovsdb-tool create "$RUN/${db%%:*}.db" "${db#*:}" || { stack_failed "ovsdb-tool create ${db%%:*}"; return; }
	done
	for db in nb sb; do
		ovsdb-server --detach --no-chdir --pidfile="$RUN/$db.pid" --unixctl="$RUN/$db.ctl" \
			--log-file="$log/$db.log" -vconsole:off -vsyslog:off \
			--remote=punix:"$RUN/$db.sock" "$RUN/$db.db" || { stack_failed "ovsdb-server $db"; return; }
	done
	ovsdb-server --detach --no-chdir --pidfile="$RUN/db.pid" --unixctl="$RUN/db.ctl" \
		--log-file="$log/ovsdb-server.log" -vconsole:off -vsyslog:off \
		--remote=punix:"$RUN/db.sock" "$RUN/conf.db" || { stack_failed "ovsdb-server conf"; return; }
	ovn-northd --detach --no-chdir --pidfile="$RUN/ovn-northd.pid" --log-file="$log/ovn-northd.log" \
		-vconsole:off -vsyslog:off --ovnnb-db="$OVN_NB_DB" --ovnsb-db="$OVN_SB_DB" ||
		{ stack_failed "ovn-northd"; return; }
	vsctl --no-wait init -- set open_vswitch . external_ids:system-id=$CHASSIS \
		external_ids:ovn-remote="$OVN_SB_DB" external_ids:ovn-encap-type=geneve \
		external_ids:ovn-encap-ip=127.0.0.1 || { stack_failed "ovs-vsctl init"; return; }
	ovs-vswitchd --detach --no-chdir --pidfile="$RUN/ovs-vswitchd.pid" --log-file="$log/ovs-vswitchd.log" \
		-vconsole:off -vsyslog:off "${vswitchd_opts[@]}" unix:"$RUN/db.sock" ||
		{ stack_failed "ovs-vswitchd"; return; }
	vsctl add-br br-int -- set bridge br-int fail-mode=secure other-config:disable-in-band=true \
		"${br_opts[@]}" || { stack_failed "add-br br-int"; return; }
}

controller_start() { # BINARY LOGFILE [OPTION...]
	local bin=$1 log=$2
	shift 2
	"$bin" --detach --no-chdir --pidfile="$RUN/ovn-controller.pid" --log-file="$log" \
		-vconsole:off -vsyslog:off "$@" unix:"$RUN/db.sock" || return
	OC_PID=$(cat "$RUN/ovn-controller.pid")
}
# oc_alive: the ovn-controller controller_start started still runs, under
# the same pid (not crashed, not restarted by its monitor).
# Called through check too, which shellcheck cannot follow: 0.10+ reports
# that as SC2329 (function never invoked), 0.9 as SC2317 (unreachable).
# shellcheck disable=SC2317,SC2329
oc_alive() { kill -0 "$OC_PID" 2>/dev/null && [ "$(cat "$RUN/ovn-controller.pid")" = "$OC_PID" ]; }

# The monitors (`ovsdb-client --timestamp -f csv monitor`, in the
# background; each pid is appended to monitors): the Interface table's
# name,external_ids, and NB's Logical_Switch_Port name,up.
monitors=()
monitor_interfaces() { # FILE
	ovsdb-client --timestamp -f csv monitor unix:"$RUN/db.sock" Open_vSwitch Interface name,external_ids \
		>"$1" 2>&1 &
	monitors+=($!)
}
monitor_lsps() { # FILE
	ovsdb-client --timestamp -f csv monitor "$OVN_NB_DB" OVN_Northbound Logical_Switch_Port name,up \
		>"$1" 2>&1 &
	monitors+=($!)
}

stack_stop() {
	local p
	for p in "${monitors[@]}"; do kill "$p" 2>/dev/null; done
	monitors=()
	for p in ovn-controller ovs-vswitchd ovn-northd db nb sb; do
		[ -s "$RUN/$p.pid" ] && kill "$(cat "$RUN/$p.pid")" 2>/dev/null
	done
	sleep 0.5
}

# lsp_add NAME [OPTION=VALUE...]: an LSP on sw0 for the representor
# provider to plug on this chassis: vif-plug:representor:pf-mac=$PF_MAC and
# vif-plug:representor:OPTION=VALUE for each OPTION.
lsp_add() {
	local lsp=$1 o opts=()
	shift
	for o in pf-mac="$PF_MAC" "$@"; do opts+=("vif-plug:representor:$o"); done
	nbctl lsp-add sw0 "$lsp" -- lsp-set-options "$lsp" requested-chassis=$CHASSIS \
		vif-plug-type=representor "${opts[@]}"
}
