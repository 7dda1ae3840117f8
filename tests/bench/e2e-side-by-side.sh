#!/bin/bash
# End to end, several ovn-controller binaries (one VIF plug provider linked
# into each) one after the other in the same VM boot, same OVN/OVS, same
# simulated DPU (tests/vm/bluefield-layout.sh), udev running:
#
#   OVN_BUILDDIR=... OVS_BUILDDIR=... tests/bench/e2e-side-by-side.sh LABEL=OVN_CONTROLLER...
#
# Runs as root in the guest (tests/bench/side-by-side-guest.sh calls it;
# the daemons are tests/e2e/lib-stack.sh's, as for tests/e2e/representor.sh).
# Per binary:
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
# shellcheck source=tests/e2e/lib-stack.sh
. "$REPO/tests/e2e/lib-stack.sh"
# shellcheck source=tests/e2e/lib-checks.sh
. "$REPO/tests/e2e/lib-checks.sh"
REPS=${E2E_REPS:-5}
TMO=${E2E_TIMEOUT:-60}
LATE_REPS=${E2E_LATE_REPS:-$REPS}
LATE_WAIT=${E2E_LATE_WAIT:-30}
RENAME_WAIT=${E2E_RENAME_WAIT:-60}
W0=${E2E_WORKDIR:-${VM_RESULTS:+$VM_RESULTS/e2e-side-by-side}}
[ -n "$W0" ] || W0=$(mktemp -d /tmp/e2e-side-by-side.XXXXXX)
SIM=0
[ $# -gt 0 ] || { echo "usage: $0 LABEL=OVN_CONTROLLER..." >&2; exit 2; }

# shellcheck source=tests/vm/bluefield-layout.sh
. "$REPO/tests/vm/bluefield-layout.sh"

# lib-stack.sh's vsctl, but ovs-vsctl warns on stderr about long poll
# intervals under TCG: that goes to a file.
vsctl() { timeout "$((TMO + 10))" ovs-vsctl --timeout="$TMO" "$@" 2>>"$W/log/vsctl.stderr"; }
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
log_ts() { # LOG REGEX AFTER: the first log line matching REGEX at or after AFTER
	local a ts
	a=$(date -u -d "@$3" +%Y-%m-%dT%H:%M:%S.%3NZ)
	ts=$(awk -F'|' -v a="$a" -v re="$2" '$1 >= a && $0 ~ re { print $1; exit }' "$1")
	[ -n "$ts" ] && date -u -d "$ts" +%s.%N
}

start_daemons() { # CONTROLLER
	RUN=$(mktemp -d /tmp/e2e-sbs.XXXXXX) || return 1
	stack_env "$RUN" "$W/log"
	stack_start system || { echo "$STACK_ERR failed" >&2; return 1; }
	controller_start "$1" "$W/log/ovn-controller.log" --unixctl="$RUN/ovn-controller.ctl" \
		-vvif_plug_representor:file:dbg -vvif_plug:file:dbg || return 1
	timeout "$TMO" ovn-sbctl --timeout="$TMO" wait-until Chassis $CHASSIS || return 1
	nbctl ls-add sw0 || return 1
	monitor_interfaces "$W/log/monitor-interface.csv"
	monitor_lsps "$W/log/monitor-lsp.csv"
	sleep 1
}
stop_daemons() {
	stack_stop
	sleep 0.5
	rm -rf "$RUN"
}

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
		lsp_add "$lsp" vf-num=3 || { fail "$label present $r: lsp-add"; continue; }
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
		lsp_add "$lsp" vf-num=8 || { fail "$label late $r: lsp-add"; continue; }
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
