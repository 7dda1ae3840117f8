#!/bin/bash
# End to end, several ovn-controller binaries (one VIF plug provider linked
# into each) one after the other in the same VM boot, same OVN/OVS, same
# simulated DPU (tests/vm/bluefield-layout.sh), udev running:
#
#   OVN_BUILDDIR=... OVS_BUILDDIR=... tests/bench/e2e-side-by-side.sh LABEL=OVN_CONTROLLER...
#
# Runs as root in the guest (tests/bench/side-by-side-guest.sh calls it;
# the daemons are set up as tests/e2e/representor.sh does).  Per binary:
#   present  E2E_REPS times: VF 3's representor exists; lsp-add with
#            pf-mac + vf-num=3; ms to ovn-controller's "Plugging port" log
#            line, to the Interface with iface-id in OVSDB (an
#            `ovsdb-client --timestamp monitor`) and to NB up=true; then
#            lsp-del and wait until the Interface is gone.
#   late     E2E_LATE_REPS (default E2E_REPS) times: lsp-add with vf-num=8
#            first, 4 s idle, then VF 8 is created through debugfs; the same
#            three delays from the creation, waiting at most E2E_LATE_WAIT s
#            (default 30).  If it is not plugged by then, the netdev is
#            renamed (`ip link set name`: the kernel "move" uevent C ovn-vif
#            waits for before it plugs a representor added at run time) and
#            the delays from the rename are measured the same way, waiting
#            at most E2E_RENAME_WAIT s (default 60).
# Prints one line per repetition and a table of medians; PASS/FAIL lines;
# "N passed, M failed" at the end (a FAIL is a plug that never happened, a
# crash or a restart).  E2E_TIMEOUT (default 60) bounds every other wait.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OVN=$(cd "${OVN_BUILDDIR:?set OVN_BUILDDIR to a built OVN tree}" && pwd)
OVS=$(cd "${OVS_BUILDDIR:-$OVN/ovs}" && pwd)
VS_SCHEMA=$OVS/vswitchd/vswitch.ovsschema
[ -e "$VS_SCHEMA" ] ||
	VS_SCHEMA=$(sed -n 's/^abs_top_srcdir = //p' "$OVS/Makefile" 2>/dev/null)/vswitchd/vswitch.ovsschema
REPS=${E2E_REPS:-5}
TMO=${E2E_TIMEOUT:-60}
LATE_REPS=${E2E_LATE_REPS:-$REPS}
LATE_WAIT=${E2E_LATE_WAIT:-30}
RENAME_WAIT=${E2E_RENAME_WAIT:-60}
W0=${E2E_WORKDIR:-${VM_RESULTS:+$VM_RESULTS/e2e-side-by-side}}
[ -n "$W0" ] || W0=$(mktemp -d /tmp/e2e-side-by-side.XXXXXX)
CHASSIS=hv1
PF_MAC=00:53:00:00:10:00
SIM=0
[ $# -gt 0 ] || { echo "usage: $0 LABEL=OVN_CONTROLLER..." >&2; exit 2; }

# shellcheck source=tests/vm/bluefield-layout.sh
. "$REPO/tests/vm/bluefield-layout.sh"
export PATH=$OVS/utilities:$OVS/ovsdb:$OVS/vswitchd:$OVN/utilities:$OVN/northd:$PATH

npass=0 nfail=0 monitors=()
pass() { echo "PASS: $*"; npass=$((npass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
# (ovs-vsctl warns on stderr about long poll intervals under TCG: to a file.)
vsctl() { timeout "$((TMO + 10))" ovs-vsctl --timeout="$TMO" "$@" 2>>"$W/log/vsctl.stderr"; }
nbctl() { timeout "$((TMO + 10))" ovn-nbctl --timeout="$TMO" "$@"; }
now() { echo "$EPOCHREALTIME"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "NA"; else printf "%d", (b - a) * 1000 }'; }
median() { tr ' ' '\n' | grep -v '^NA$' | grep . | sort -n |
	awk '{ v[NR] = $1 } END { if (!NR) print "NA"; else if (NR % 2) print v[(NR + 1) / 2];
		else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
rep_netdev() { # pcivf NUM: the netdev of c1 pf0 vf NUM
	devlink -j port show | jq -r --arg h "platform/devlink_sim.$SIM/" --argjson n "$2" \
		'.port | to_entries[] | select(.key | startswith($h)) | .value
		| select(.flavour == "pcivf" and .controller == 1 and .pfnum == 0 and .vfnum == $n) | .netdev // empty'
}
rep_index() {
	devlink -j port show | jq -r --arg h "platform/devlink_sim.$SIM/" --argjson n "$2" \
		'.port | to_entries[] | select(.key | startswith($h))
		| select(.value.flavour == "pcivf" and .value.controller == 1 and .value.pfnum == 0 and .value.vfnum == $n)
		| .key | split("/") | last'
}
lsp_add() { # NAME VF
	nbctl lsp-add sw0 "$1" -- lsp-set-options "$1" requested-chassis=$CHASSIS \
		vif-plug-type=representor vif-plug:representor:pf-mac=$PF_MAC \
		vif-plug:representor:vf-num="$2"
}
iface_of() { vsctl --bare --columns=name find Interface external_ids:iface-id="$1"; }
# wait_iface LSP SECONDS: poll until an Interface has iface-id LSP.
wait_iface() {
	local end=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$end" ]; do
		[ -n "$(iface_of "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_gone() {
	local end=$((SECONDS + TMO))
	while [ "$SECONDS" -lt "$end" ]; do
		[ -z "$(iface_of "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}
# first_ts FILE REGEX AFTER: the first monitor update at or after AFTER
# (epoch s) with a line matching REGEX, as epoch s.
first_ts() {
	local a ts
	a=$(date -u -d "@$3" '+%Y-%m-%d %H:%M:%S.%3N')
	ts=$(awk -v re="$2" -v a="$a" '/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+$/ { ts = $0; next }
		ts >= a && $0 ~ re { print ts; exit }' "$1")
	[ -n "$ts" ] && date -u -d "$ts" +%s.%N
}
log_ts() { # LOG REGEX AFTER: the first log line matching REGEX at or after AFTER
	local a ts
	a=$(date -u -d "@$3" +%Y-%m-%dT%H:%M:%S.%3NZ)
	ts=$(awk -F'|' -v a="$a" -v re="$2" '$1 >= a && $0 ~ re { print $1; exit }' "$1")
	[ -n "$ts" ] && date -u -d "$ts" +%s.%N
}

start_daemons() { # CONTROLLER
	RUN=$(mktemp -d /tmp/e2e-sbs.XXXXXX) || return 1
	export OVS_RUNDIR=$RUN OVS_DBDIR=$RUN OVS_LOGDIR=$W/log OVN_RUNDIR=$RUN \
		OVS_SYSCONFDIR=$RUN OVN_SYSCONFDIR=$RUN
	export OVN_NB_DB=unix:$RUN/nb.sock OVN_SB_DB=unix:$RUN/sb.sock
	local db
	for db in nb:$OVN/ovn-nb.ovsschema sb:$OVN/ovn-sb.ovsschema conf:$VS_SCHEMA; do
		ovsdb-tool create "$RUN/${db%%:*}.db" "${db#*:}" || return 1
	done
	for db in nb sb; do
		ovsdb-server --detach --no-chdir --pidfile="$RUN/$db.pid" --unixctl="$RUN/$db.ctl" \
			--log-file="$W/log/$db.log" -vconsole:off -vsyslog:off \
			--remote=punix:"$RUN/$db.sock" "$RUN/$db.db" || return 1
	done
	ovsdb-server --detach --no-chdir --pidfile="$RUN/db.pid" --unixctl="$RUN/db.ctl" \
		--log-file="$W/log/ovsdb-server.log" -vconsole:off -vsyslog:off \
		--remote=punix:"$RUN/db.sock" "$RUN/conf.db" || return 1
	ovn-northd --detach --no-chdir --pidfile="$RUN/ovn-northd.pid" --log-file="$W/log/ovn-northd.log" \
		-vconsole:off -vsyslog:off --ovnnb-db="$OVN_NB_DB" --ovnsb-db="$OVN_SB_DB" || return 1
	vsctl --no-wait init -- set open_vswitch . external_ids:system-id=$CHASSIS \
		external_ids:ovn-remote="$OVN_SB_DB" external_ids:ovn-encap-type=geneve \
		external_ids:ovn-encap-ip=127.0.0.1 || return 1
	ovs-vswitchd --detach --no-chdir --pidfile="$RUN/ovs-vswitchd.pid" --log-file="$W/log/ovs-vswitchd.log" \
		-vconsole:off -vsyslog:off unix:"$RUN/db.sock" || return 1
	vsctl add-br br-int -- set bridge br-int fail-mode=secure other-config:disable-in-band=true || return 1
	"$1" --detach --no-chdir --pidfile="$RUN/ovn-controller.pid" --unixctl="$RUN/ovn-controller.ctl" \
		--log-file="$W/log/ovn-controller.log" -vconsole:off -vsyslog:off \
		-vvif_plug_representor:file:dbg -vvif_plug:file:dbg unix:"$RUN/db.sock" || return 1
	OC_PID=$(cat "$RUN/ovn-controller.pid")
	timeout "$TMO" ovn-sbctl --timeout="$TMO" wait-until Chassis $CHASSIS || return 1
	nbctl ls-add sw0 || return 1
	ovsdb-client --timestamp -f csv monitor unix:"$RUN/db.sock" Open_vSwitch Interface name,external_ids \
		>"$W/log/monitor-interface.csv" 2>&1 &
	monitors+=($!)
	ovsdb-client --timestamp -f csv monitor "$OVN_NB_DB" OVN_Northbound Logical_Switch_Port name,up \
		>"$W/log/monitor-lsp.csv" 2>&1 &
	monitors+=($!)
	sleep 1
}
stop_daemons() {
	local p
	for p in "${monitors[@]}"; do kill "$p" 2>/dev/null; done
	monitors=()
	for p in ovn-controller ovs-vswitchd ovn-northd db nb sb; do
		[ -s "$RUN/$p.pid" ] && kill "$(cat "$RUN/$p.pid")" 2>/dev/null
	done
	sleep 1
	rm -rf "$RUN"
}
oc_alive() { kill -0 "$OC_PID" 2>/dev/null && [ "$(cat "$RUN/ovn-controller.pid")" = "$OC_PID" ]; }

# delays T0 LSP: "plug iface up" ms from T0 (NA where not seen).
delays() {
	local tp ti tu
	tp=$(log_ts "$W/log/ovn-controller.log" "Plugging port .* for lport $2 " "$1")
	ti=$(first_ts "$W/log/monitor-interface.csv" "iface-id=\"*${2}[\",}]" "$1")
	tu=$(first_ts "$W/log/monitor-lsp.csv" ",$2,\\[?true" "$1")
	echo "$(ms "$1" "$tp") $(ms "$1" "$ti") $(ms "$1" "$tu")"
}

summary=()
for arg in "$@"; do
	label=${arg%%=*} controller=${arg#*=}
	W=$W0/$label
	rm -rf "$W" && mkdir -p "$W/log" || exit 2
	echo "=== $label: $controller"
	bf_layout "$SIM" || { fail "$label: cannot create the simulated DPU"; continue; }
	udevadm settle -t 30 2>/dev/null
	# The daemons' "opened log file" lines and ovs-vsctl's warnings go to
	# a file, not into the figures.
	if ! start_daemons "$controller" 2>>"$W/log/start.stderr"; then
		fail "$label: daemons did not start (logs $W/log)"
		stop_daemons
		continue
	fi
	vf3=$(rep_netdev pcivf 3)
	p_plug="" p_iface="" p_up=""
	for ((r = 1; r <= REPS; r++)); do
		lsp=present$r
		t0=$(now)
		lsp_add "$lsp" 3 || { fail "$label present $r: lsp-add"; continue; }
		if wait_iface "$lsp" "$TMO" && nbctl wait-until Logical_Switch_Port "$lsp" up=true; then
			read -r a b c <<<"$(delays "$t0" "$lsp")"
			p_plug+=" $a" p_iface+=" $b" p_up+=" $c"
			pass "$label present $r: $vf3 plugged for $lsp; ms from lsp-add: log 'Plugging' $a, Interface $b, NB up $c"
		else
			fail "$label present $r: $vf3 not plugged for $lsp within ${TMO}s"
		fi
		nbctl lsp-del "$lsp"
		wait_gone "$lsp" || fail "$label present $r: not unplugged after lsp-del"
		sleep 1
	done
	l_plug="" l_iface="" l_up="" n_renamed=0 r_plug="" r_iface="" r_up=""
	for ((r = 1; r <= LATE_REPS; r++)); do
		lsp=late$r
		lsp_add "$lsp" 8 || { fail "$label late $r: lsp-add"; continue; }
		sleep 4
		[ -z "$(iface_of "$lsp")" ] || fail "$label late $r: plugged before VF 8 existed"
		t0=$(now)
		sim_port_add "$SIM" "vf controller=1 pf=0 vf=8 external=1" ||
			{ fail "$label late $r: port_add vf 8"; continue; }
		if wait_iface "$lsp" "$LATE_WAIT" && nbctl wait-until Logical_Switch_Port "$lsp" up=true; then
			read -r a b c <<<"$(delays "$t0" "$lsp")"
			l_plug+=" $a" l_iface+=" $b" l_up+=" $c"
			pass "$label late $r: plugged for $lsp; ms from VF creation: log 'Plugging' $a, Interface $b, NB up $c"
		else
			l_plug+=" NA" l_iface+=" NA" l_up+=" NA"
			nd=$(rep_netdev pcivf 8)
			echo "    $label late $r: not plugged ${LATE_WAIT}s after VF 8's creation ($nd); renaming it"
			t1=$(now)
			n_renamed=$((n_renamed + 1))
			if ip link set dev "$nd" name "${nd}r" &&
				wait_iface "$lsp" "$RENAME_WAIT" && nbctl wait-until Logical_Switch_Port "$lsp" up=true; then
				read -r a b c <<<"$(delays "$t1" "$lsp")"
				r_plug+=" $a" r_iface+=" $b" r_up+=" $c"
				pass "$label late $r: plugged for $lsp after the rename; ms from the rename: log 'Plugging' $a, Interface $b, NB up $c"
			else
				fail "$label late $r: not plugged for $lsp, not even ${RENAME_WAIT}s after a rename"
			fi
		fi
		oc_alive || fail "$label late $r: ovn-controller crashed or restarted"
		nbctl lsp-del "$lsp"
		wait_gone "$lsp" || fail "$label late $r: not unplugged after lsp-del"
		idx=$(rep_index pcivf 8)
		[ -n "$idx" ] && sim_port_del "$SIM" "$idx"
		udevadm settle -t 30 2>/dev/null
		sleep 1
	done
	if oc_alive && ! grep -qE 'SIGSEGV|SIGABRT|terminating with signal' "$W/log/ovn-controller.log"; then
		pass "$label: ovn-controller ran throughout (pid $OC_PID)"
	else
		fail "$label: ovn-controller crashed or restarted"
	fi
	stop_daemons
	summary+=("| $label | present (from lsp-add) | $(median <<<"$p_plug") | $(median <<<"$p_iface") | $(median <<<"$p_up") | ${p_iface# } |")
	summary+=("| $label | late VF (from its creation) | $(median <<<"$l_plug") | $(median <<<"$l_iface") | $(median <<<"$l_up") | ${l_iface# } |")
	[ "$n_renamed" = 0 ] ||
		summary+=("| $label | late VF, $n_renamed of $LATE_REPS renamed after ${LATE_WAIT} s (from the rename) | $(median <<<"$r_plug") | $(median <<<"$r_iface") | $(median <<<"$r_up") | ${r_iface# } |")
done
echo
echo "| ovn-controller | scenario | 'Plugging port' median ms | Interface median ms | NB up median ms | Interface ms, each rep |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
echo
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
