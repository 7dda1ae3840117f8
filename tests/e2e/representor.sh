#!/bin/bash
# End-to-end: the representor VIF plug provider in a real ovn-controller,
# against the devlink simulator (tests/kmod), inside the VM test bed.
#
#   OVN_BUILDDIR=/path/to/ovn tests/e2e/representor.sh
#
# Runs as root in the guest (tests/e2e/run-in-vm.sh boots it); it needs the
# devlink_sim module (run.sh --kmod), the openvswitch kernel module, and an
# OVN build tree configured --with-plug-provider=<this provider> (see
# ovn-patch/README.md).  It starts NB/SB ovsdb-servers, ovn-northd,
# ovs-vswitchd and ovn-controller under a writable work directory, then
# checks, one fact at a time (PASS/FAIL lines, then "N passed, M failed"):
#   - a VF, the PF and an SF requested by LSP options get their representor
#     netdev (looked up through `devlink -j port show`) into br-int with
#     external_ids iface-id and ovn-plugged=representor, and NB up=true;
#   - deleting the LSP unplugs it;
#   - an invalid option (vf-num=65539) is refused, with our log line;
#   - ovn-appctl vif-plug-representor/show and /lookup answer;
#   - an LSP whose VF is removed is unplugged, and does not come up on another
#     VF whose representor gets the old netdev name, until its VF is back
#     (needs ovn-patch 0007; the ms to the unplug go to $W/delays-gone.txt);
#   - an LSP created before its VF exists gets plugged when the VF appears,
#     without an ovn-controller crash or restart, E2E_REPS times, with the
#     delay from the representor's creation to the Interface in OVSDB and to
#     NB up (medians printed and written to $W/delays.txt).
#
# Environment:
#   OVN_BUILDDIR    the built OVN tree (required); OVS_BUILDDIR: default $OVN_BUILDDIR/ovs
#   OVN_CONTROLLER  ovn-controller binary (default $OVN_BUILDDIR/controller/ovn-controller)
#   E2E_WORKDIR     writable directory for databases, sockets and logs
#                   (default $VM_RESULTS/e2e-representor, else a mktemp dir)
#   E2E_REPS        late-VF repetitions (default 5); E2E_TIMEOUT: seconds per wait (default 60)
#   E2E_LABEL       a label printed with the figures
#   E2E_UDEV        running (default): udevd as the guest started it;
#                   exited: `udevadm control --exit` after the DPU is set up,
#                   which leaves a stale /run/udev/control (the provider must
#                   then treat udev as not running, and say so once)
# The stack: lib-stack.sh; PASS/FAIL, devlink lookups, delays: lib-checks.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=tests/e2e/lib-stack.sh
. "$HERE/lib-stack.sh"
# shellcheck source=tests/e2e/lib-checks.sh
. "$HERE/lib-checks.sh"
CONTROLLER=${OVN_CONTROLLER:-$OVN/controller/ovn-controller}
REPS=${E2E_REPS:-5}
TMO=${E2E_TIMEOUT:-60}
LABEL=${E2E_LABEL:-$(basename "$CONTROLLER")}
UDEV=${E2E_UDEV:-running}
W=${E2E_WORKDIR:-${VM_RESULTS:+$VM_RESULTS/e2e-representor}}
[ -n "$W" ] || W=$(mktemp -d /tmp/e2e-representor.XXXXXX)
SIM=0

# shellcheck source=tests/vm/bluefield-layout.sh
. "$REPO/tests/vm/bluefield-layout.sh"

# Empty it rather than remove it: run-in-vm.sh shares E2E_WORKDIR with the
# guest as a mount point, which cannot be removed.
mkdir -p "$W" && find "$W" -mindepth 1 -delete && mkdir -p "$W/log" || exit 2
# Sockets (and the databases, for their locks) on a guest-local file system:
# the directories the host shares (9p) cannot hold a Unix socket.
RUN=$(mktemp -d /tmp/e2e-representor.XXXXXX) || exit 2
stack_env "$RUN" "$W/log"

die() { echo "FAIL: $*"; nfail=$((nfail + 1)); finish; }
appctl() { timeout 10 ovn-appctl "$@"; }
finish() {
	stack_stop
	echo "logs: $W/log"
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ]
	exit
}

# --- The simulated DPU ---------------------------------------------------
bf_layout "$SIM" || die "cannot create the simulated DPU"
command -v udevadm >/dev/null && udevadm settle -t 30
# udev_probe: what a stream connect() to udev's control socket returns (the
# provider's liveness probe; a live udevd listens with SOCK_SEQPACKET).
udev_probe() {
	python3 -c 'import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("/run/udev/control"); print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' 2>&1
}
case $UDEV in
running) ;;
exited)
	pgrep -x systemd-udevd >/dev/null && udevadm control --exit
	sleep 1
	;;
*) die "E2E_UDEV=$UDEV: expected running or exited" ;;
esac
echo "udev: $UDEV; udevd processes: $(pgrep -xc systemd-udevd);" \
	"/run/udev/control: $([ -S /run/udev/control ] && echo socket || echo absent);" \
	"stream connect: $(udev_probe)"
# --- Daemons --------------------------------------------------------------
stack_start system || die "$STACK_ERR"
# OVN before v24.09 has no --unixctl for ovn-controller: its control socket
# is then $OVN_RUNDIR/<program name>.<pid>.ctl (the binary's file name).
ctl_opt=()
if "$CONTROLLER" --help 2>/dev/null | grep -q -- '--unixctl'; then
	ctl_opt=(--unixctl="$RUN/ovn-controller.ctl")
fi
controller_start "$CONTROLLER" "$W/log/ovn-controller.log" "${ctl_opt[@]}" \
	-vvif_plug_representor:file:dbg -vvif_plug:file:dbg -vpoll_loop:file:dbg || die "ovn-controller"
OC_CTL=$RUN/ovn-controller.ctl
[ ${#ctl_opt[@]} -gt 0 ] || OC_CTL=$RUN/$(basename "$CONTROLLER").$OC_PID.ctl
echo "ovn-controller: $CONTROLLER (pid $OC_PID)${LD_LIBRARY_PATH:+ LD_LIBRARY_PATH=$LD_LIBRARY_PATH}"
timeout "$TMO" ovn-sbctl --timeout="$TMO" wait-until Chassis $CHASSIS || die "chassis $CHASSIS not registered"
nbctl ls-add sw0 || die "ls-add"

# plugged NETDEV LSP: the netdev is in br-int with our external_ids.
plugged() {
	vsctl wait-until Interface "$1" external_ids:iface-id="$2" \
		external_ids:ovn-plugged=representor >/dev/null &&
		[ "$(vsctl port-to-br "$1")" = br-int ]
}
nb_up() { nbctl wait-until Logical_Switch_Port "$1" up=true; }
# gone NETDEV: no Interface of that name within $TMO seconds.
gone() {
	local i
	for ((i = 0; i < TMO * 5; i++)); do
		[ -z "$(vsctl --bare --columns=name find Interface name="$1")" ] && return 0
		sleep 0.2
	done
	return 1
}

# --- Plug a VF, the PF, an SF ----------------------------------------------
plug_case() { # LABEL LSP FLAVOUR NUM OPTION...
	local what=$1 lsp=$2 flavour=$3 num=$4 nd
	shift 4
	nd=$(rep_netdev "$flavour" "$num")
	[ -n "$nd" ] || { fail "$what: no $flavour $num netdev in devlink"; return; }
	lsp_add "$lsp" "$@" || { fail "$what: lsp-add"; return; }
	check "$what: $nd in br-int with iface-id=$lsp, ovn-plugged=representor" plugged "$nd" "$lsp"
	check "$what: NB up=true" nb_up "$lsp"
}
plug_case "VF 3" lsp-vf3 pcivf 3 vf-num=3
plug_case "PF" lsp-pf pcipf 0
plug_case "SF 2" lsp-sf2 pcisf 2 sf-num=2

# --- ovn-appctl ------------------------------------------------------------
out=$(appctl -t "$OC_CTL" vif-plug-representor/show)
check "appctl vif-plug-representor/show lists $PF_MAC" grep -q "$PF_MAC" <<<"$out"
echo "$out" | head -n 12 | sed 's/^/    /'
vf3=$(rep_netdev pcivf 3)
out=$(appctl -t "$OC_CTL" vif-plug-representor/lookup pf-mac=$PF_MAC vf-num=3)
echo "    lookup pf-mac=$PF_MAC vf-num=3: $out"
check "appctl vif-plug-representor/lookup names $vf3" grep -qw -- "$vf3" <<<"$out"

# --- Unplug ----------------------------------------------------------------
nbctl lsp-del lsp-vf3
check "lsp-del: $vf3 unplugged (Interface gone)" gone "$vf3"
check "lsp-del: the netdev itself still exists" test -e "/sys/class/net/$vf3"
check "ovn-controller still running (pid $OC_PID)" oc_alive

# --- Invalid option ----------------------------------------------------------
lsp_add lsp-bad vf-num=65539
sleep 1
# Refused is not retried in a loop: ovn-controller's CPU ticks and main-loop
# wake-ups while only the refused lport is pending (a busy loop makes
# thousands of wake-ups a second).
cpu0=$(awk '{ print $14 + $15 }' "/proc/$OC_PID/stat")
wk0=$(grep -c '|poll_loop|DBG|wakeup due to' "$W/log/ovn-controller.log")
sleep 3
cpu1=$(awk '{ print $14 + $15 }' "/proc/$OC_PID/stat")
wk1=$(grep -c '|poll_loop|DBG|wakeup due to' "$W/log/ovn-controller.log")
check "vf-num=65539: no busy loop (3 s idle: $((cpu1 - cpu0)) cpu ticks, $((wk1 - wk0)) main-loop wakeups)" \
	test $((wk1 - wk0)) -lt 300
check "vf-num=65539: nothing plugged" \
	test -z "$(vsctl --bare --columns=name find Interface external_ids:iface-id=lsp-bad)"
line=$(grep '|vif_plug_representor|' "$W/log/ovn-controller.log" | grep 'lsp-bad' | grep -m1 65539)
echo "    $line"
check "vf-num=65539: our refusal in the ovn-controller log (vlog)" test -n "$line"
# (OVN v25.03.0 to v26.03.2 without ovn-patch 0001 crash on a declined port.)
check "vf-num=65539: ovn-controller still running (pid $OC_PID)" oc_alive
nbctl lsp-del lsp-bad

# --- A removed VF's name taken by another VF (issue 12 item 13) -------------
# g0 is plugged on VF 0's representor; VF 0 is removed; VF 6 is created
# with VF 0's old netdev name (as the kernel's eth%d does at once).  g0 must
# be unplugged, and must not come up on VF 6's representor, until VF 0 is
# back.  Run twice: VF 6 created once the unplug is seen ("after"), and in
# the same instant as the removal ("race": OVS may see the new netdev under
# the old name before ovn-controller has run).
# iface_ids LSP: the names of the Interfaces with iface-id LSP.
iface_ids() { vsctl --bare --columns=name find Interface external_ids:iface-id="$1"; }
# wait_unplugged LSP: poll until no Interface has iface-id LSP (at most $TMO
# seconds); prints the time.
wait_unplugged() {
	local end=$((SECONDS + TMO))
	while [ "$SECONDS" -lt "$end" ]; do
		[ -z "$(iface_ids "$1")" ] && { now; return 0; }
		sleep 0.05
	done
	return 1
}
gone_case() { # MODE (after|race)
	local mode=$1 vf0 vf6 idx0 idx6 t0 t0s tg tp tu td d_gone d_log d_del up nd
	idx6=$(rep_index pcivf 6)
	[ -n "$idx6" ] && { sim_port_del "$SIM" "$idx6" || { fail "gone $mode: port_del vf 6"; return; }; }
	vf0=$(rep_netdev pcivf 0) idx0=$(rep_index pcivf 0)
	[ -n "$vf0" ] || { fail "gone $mode: no VF 0 netdev"; return; }
	lsp_add g0 vf-num=0 || { fail "gone $mode: lsp-add g0"; return; }
	check "gone $mode: g0 plugged on VF 0's $vf0" plugged "$vf0" g0
	check "gone $mode: g0 NB up=true" nb_up g0
	monitor_lsps "$W/log/monitor-g0-$mode.csv"
	local mon=${monitors[-1]}
	monitor_interfaces "$W/log/monitor-iface-g0-$mode.csv"
	local vmon=${monitors[-1]}
	sleep 1
	t0=$(now)
	t0s=$(date -u -d "@$t0" '+%Y-%m-%d %H:%M:%S.%3N')
	if [ "$mode" = race ]; then
		if ! sim_port_del "$SIM" "$idx0" ||
			! sim_port_add "$SIM" "vf controller=1 pf=0 vf=6 external=1 name=$vf0"; then
			fail "gone $mode: remove VF 0 / create VF 6"
			return
		fi
		tg=$(wait_unplugged g0)
	else
		sim_port_del "$SIM" "$idx0" || { fail "gone $mode: port_del vf 0"; return; }
		tg=$(wait_unplugged g0)
		sim_port_add "$SIM" "vf controller=1 pf=0 vf=6 external=1 name=$vf0" ||
			{ fail "gone $mode: port_add vf 6"; return; }
	fi
	vf6=$(rep_netdev pcivf 6)
	check "gone $mode: VF 6's new representor has VF 0's old name $vf0 ($vf6)" test "$vf6" = "$vf0"
	d_gone=$(ms "$t0" "$tg")
	tp=$(awk -F'|' -v a="$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%S.%3NZ)" \
		'$1 >= a && /Unplugging port .* for iface-id g0 / { print $1; exit }' "$W/log/ovn-controller.log")
	d_log=NA
	[ -n "$tp" ] && d_log=$(ms "$t0" "$(date -u -d "$tp" +%s.%N)")
	# When OVSDB deleted g0's Interface (the monitor's timestamp; the poll
	# above adds its own ovs-vsctl round trips).
	td=$(awk -v t0="$t0s" '/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+$/ { ts = $0; next }
		ts >= t0 && /,delete,/ && /iface-id="*g0[",}]/ { print ts; exit }' "$W/log/monitor-iface-g0-$mode.csv")
	d_del=NA
	[ -n "$td" ] && d_del=$(ms "$t0" "$(date -u -d "$td" +%s.%N)")
	check "gone $mode: g0 unplugged after VF 0's removal (ms: log 'Unplugging' $d_log, Interface deleted $d_del, poll saw it gone $d_gone)" \
		test -n "$tg"
	# The issue saw g0 up on the other VF 10 s later.
	sleep 10
	check "gone $mode: no Interface with iface-id g0 ($(iface_ids g0 | xargs))" test -z "$(iface_ids g0)"
	check "gone $mode: $vf6 (VF 6) not plugged for g0" \
		test -z "$(vsctl --bare --columns=name find Interface name="$vf6" external_ids:iface-id=g0)"
	up=$(nbctl get Logical_Switch_Port g0 up)
	check "gone $mode: g0 not NB up (up=$up)" test "$up" != true
	# Did g0 come up at any moment after the removal?  (The monitor's
	# initial row is printed before the removal.)
	kill "$mon" "$vmon" 2>/dev/null
	tu=$(awk -v t0="$t0s" \
		'/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+$/ { ts = $0; next }
		ts >= t0 && /,g0,/ && /true/ { print ts; exit }' "$W/log/monitor-g0-$mode.csv")
	check "gone $mode: g0 never NB up between VF 0's removal and its return${tu:+ (up at $tu)}" test -z "$tu"
	t0=$(now)
	sim_port_add "$SIM" "vf controller=1 pf=0 vf=0 external=1" || { fail "gone $mode: port_add vf 0"; return; }
	nd=$(rep_netdev pcivf 0)
	if plugged "$nd" g0 && nb_up g0; then
		pass "gone $mode: VF 0 back as $nd: g0 plugged on it, NB up ($(ms "$t0" "$(now)") ms)"
	else
		fail "gone $mode: VF 0 back as $nd: g0 not plugged on it"
	fi
	check "gone $mode: g0 on VF 0's netdev only ($(iface_ids g0 | xargs))" test "$(iface_ids g0)" = "$nd"
	check "gone $mode: ovn-controller still running (pid $OC_PID)" oc_alive
	echo "gone $mode: ms from VF 0's removal to ovn-controller's 'Unplugging' $d_log," \
		"to the Interface's deletion in OVSDB $d_del, to the poll seeing it gone $d_gone" >>"$W/delays-gone.txt"
	nbctl lsp-del g0
	gone "$nd" || fail "gone $mode: g0 not unplugged after lsp-del"
}
gone_case after
gone_case race
cat "$W/delays-gone.txt"

# --- LSP before its VF: VF 8 created later, E2E_REPS times -------------------
vsmon=$W/log/monitor-interface.csv nbmon=$W/log/monitor-lsp.csv
monitor_interfaces "$vsmon"
monitor_lsps "$nbmon"
sleep 1
log_ts() { # the timestamp of the first ovn-controller log line matching REGEX
	local ts
	ts=$(grep -m1 -E "$1" "$W/log/ovn-controller.log" | cut -d'|' -f1)
	[ -n "$ts" ] && date -u -d "$ts" +%s.%N
}
# last_wake_ts T0 T1: ovn-controller's last poll-loop wake-up on one of the
# provider's descriptors (devlink, rtnetlink, the inotify watch of udev's
# database) between T0 and T1 (epoch seconds).  Before a late VF's plug,
# with udev running, that is udev's last action on the netdev (its
# database write, or the MAC it sets): the rest is the provider's reaction.
# (A write that lands while the loop is busy is drained without a wake-up
# line of its own.)
last_wake_ts() {
	local a b ts
	a=$(date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.%3NZ) b=$(date -u -d "@$2" +%Y-%m-%dT%H:%M:%S.%3NZ)
	ts=$(awk -F'|' -v a="$a" -v b="$b" '$1 >= a && $1 <= b && /\|poll_loop\|DBG\|wakeup due to .* at vif-plug-representor/ { t = $1 }
		END { print t }' "$W/log/ovn-controller.log")
	[ -n "$ts" ] && date -u -d "$ts" +%s.%N
}
d_seen="" d_wake="" d_plug="" d_iface="" d_up=""
for ((r = 1; r <= REPS; r++)); do
	lsp=late$r
	cpu0=$(awk '{ print $14 + $15 }' "/proc/$OC_PID/stat")
	wk0=$(grep -c '|poll_loop|DBG|wakeup due to' "$W/log/ovn-controller.log")
	lsp_add "$lsp" vf-num=8 || { fail "late $r: lsp-add"; continue; }
	# Let ovn-controller decline it and go idle.
	sleep 4
	cpu1=$(awk '{ print $14 + $15 }' "/proc/$OC_PID/stat")
	wk1=$(grep -c '|poll_loop|DBG|wakeup due to' "$W/log/ovn-controller.log")
	[ -z "$(vsctl --bare --columns=name find Interface external_ids:iface-id="$lsp")" ] ||
		fail "late $r: plugged before the VF existed"
	t0=$(now)
	sim_port_add "$SIM" "vf controller=1 pf=0 vf=8 external=1" || { fail "late $r: port_add vf 8"; continue; }
	nd=$(rep_netdev pcivf 8)
	if plugged "$nd" "$lsp" && tw=$(now) && nb_up "$lsp"; then
		tn=$(now)
		# The monitors' timestamps; if a line cannot be found, the time the
		# wait returned (an upper bound).
		ti=$(first_ts "$vsmon" "iface-id=\"*${lsp}[\",}]") || ti=$tw
		tu=$(first_ts "$nbmon" ",$lsp,\\[?true") || tu=$tn
		tp=$(log_ts "Plugging port .* for lport $lsp ")
		# When the provider first saw the new representor (before udev
		# has finished with it, or already plugging).
		ts=$(log_ts "lport $lsp: not plugging \(name-not-settled\)|for lport $lsp on this")
		tw_last=""
		[ -n "$tp" ] && tw_last=$(last_wake_ts "$t0" "$tp")
		s=$(ms "$t0" "$ts") a=$(ms "$t0" "$tp") b=$(ms "$t0" "$ti") c=$(ms "$t0" "$tu") e=$(ms "$t0" "$tw_last")
		d_seen+=" $s" d_plug+=" $a" d_iface+=" $b" d_up+=" $c" d_wake+=" $e"
		pass "late VF $r: $nd plugged for $lsp; ms from creation: seen $s, last wake-up $e, log 'Plugging' $a, Interface $b, NB up $c" \
			"(idle 4 s before: $((cpu1 - cpu0)) cpu ticks, $((wk1 - wk0)) main-loop wakeups)"
	else
		fail "late VF $r: $nd not plugged for $lsp within ${TMO}s"
	fi
	check "late VF $r: ovn-controller not crashed or restarted" oc_alive
	nbctl lsp-del "$lsp"
	gone "$nd" || fail "late VF $r: not unplugged"
	idx=$(rep_index pcivf 8)
	[ -n "$idx" ] && sim_port_del "$SIM" "$idx"
	command -v udevadm >/dev/null && udevadm settle -t 30
	sleep 1
done
stale=$(grep -c 'udev control socket is stale' "$W/log/ovn-controller.log")
if [ "$UDEV" = exited ]; then
	check "udev exited: the provider logged the stale control socket once ($stale)" test "$stale" = 1
else
	check "udev running: no stale-socket line ($stale)" test "$stale" = 0
fi
check "no crash in the ovn-controller log" \
	bash -c "! grep -qE 'SIGSEGV|SIGABRT|terminating with signal' '$W/log/ovn-controller.log'"
{
	echo "label: $LABEL (udev $UDEV)"
	echo "late VF, ms from representor creation (reps:$d_iface)"
	echo "  to the provider seeing it:  $d_seen -> median $(median <<<"$d_seen")"
	echo "  to the last wake-up:        $d_wake -> median $(median <<<"$d_wake")"
	echo "  to 'Plugging port' in log: $d_plug -> median $(median <<<"$d_plug")"
	echo "  to Interface with iface-id: $d_iface -> median $(median <<<"$d_iface")"
	echo "  to NB up=true:              $d_up -> median $(median <<<"$d_up")"
} | tee "$W/delays.txt"
finish
