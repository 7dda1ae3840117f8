# shellcheck shell=bash
# The measurement loop of the incremental scripts (tests/e2e/incremental.sh,
# incremental-dummy.sh, incremental-snapshot.sh): what vif_plug_run() costs
# per ovn-controller main-loop iteration, for several ovn-controller
# binaries against the same stack (lib-stack.sh, sourced first).  Unlike
# lib-stack.sh this drives the run: die stops the stack and exits.
#
# On sourcing it reads the environment the scripts share:
#   INC_CONTROLLERS  "LABEL=BINARY[@MAXPORTS] ..." (default: the tree's
#                    ovn-controller); @MAXPORTS skips that binary above MAXPORTS
#   INC_PORTS        port counts, ascending (default "1000")
#   INC_IDLE         idle seconds (default 20)
#   INC_TIMEOUT      seconds to wait for all ports to be plugged (default 900)
# The script sets, before inc_run:
#   TMO        seconds for each ovs-vsctl / ovn-nbctl wait (lib-stack.sh)
#   SYNC_TMO   seconds for an `--wait=hv` (ovn-controller catching up)
#   POLL       seconds between two counts of the plugged ports
#   PLUG       the provider: dummy (OVN's own, --enable-dummy-vif-plug) or
#              representor (ovn-vif-rs; the table gains its prepare counter)
#   LSP        the LSPs' name prefix (LSP0, LSP1, ...: one per VF)
#   CONTROLLER_OPTS  more ovn-controller options (an array)
#   grow FROM TO     a function: the VFs (if any) and the LSPs FROM..TO-1
#   phases           a function: the measure lines for one binary at one size
#   add_vf           a function (PLUG=representor): VF $EXTRA appears, with
#                    netdev x$EXTRA
# and reads LABEL and N (the binary and the port count being measured).

CONTROLLERS=${INC_CONTROLLERS:-tree=$OVN/controller/ovn-controller}
PORTS=${INC_PORTS:-1000}
IDLE=${INC_IDLE:-20}
PLUG_TMO=${INC_TIMEOUT:-900}
CONTROLLER_OPTS=()

# inc_workdir RUNDIR: the work directory W (made; its log/, run/ and
# results.txt removed), RES its results.txt, the stack's environment with
# sockets and databases in RUNDIR (made).
inc_workdir() {
	mkdir -p "$W" && rm -rf "${W:?}/log" "${W:?}/run" "${W:?}/results.txt" && mkdir -p "$W/log" "$1" || exit 2
	RES=$W/results.txt
	stack_env "$1" "$W/log"
}

say() { echo "$*" | tee -a "$RES"; }
die() { say "ERROR: $*"; stack_stop; exit 1; }
appctl() { timeout 20 ovn-appctl -t "$RUN/ovn-controller.ctl" "$@"; }

# lsp_cmds FIRST LAST: ovn-nbctl arguments adding ${LSP}FIRST..${LSP}LAST on
# sw0, on this chassis, for the $PLUG provider (representor: VF I of PF_MAC).
lsp_cmds() {
	local i
	for ((i = $1; i <= $2; i++)); do
		printf -- '-- lsp-add sw0 %s%d -- lsp-set-options %s%d requested-chassis=%s vif-plug-type=%s ' \
			"$LSP" "$i" "$LSP" "$i" "$CHASSIS" "$PLUG"
		if [ "$PLUG" = representor ]; then
			printf -- 'vif-plug:representor:pf-mac=%s vif-plug:representor:vf-num=%d ' "$PF_MAC" "$i"
		fi
	done
}
plugged_count() { vsctl --bare --columns=name find Interface external_ids:ovn-plugged="$PLUG" | grep -c .; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# prepares: the representor provider's prepare calls (its `show` counters).
prepares() { appctl vif-plug-representor/show | sed -n 's/.*stats: prepares=\([0-9]*\).*/\1/p' | head -1; }
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

# inc_table_head: the table's header (with PLUG=representor, the prepares
# and prepares/sample columns).
inc_table_head() {
	say ""
	if [ "$PLUG" = representor ]; then
		say "| binary | ports | phase | vif_plug_run samples | min ms | max ms | long-term avg ms | prepares | prepares/sample | CPU ms |"
		say "|---|---|---|---|---|---|---|---|---|---|"
	else
		say "| binary | ports | phase | vif_plug_run samples | min ms | max ms | long-term avg ms | CPU ms |"
		say "|---|---|---|---|---|---|---|---|"
	fi
}
# measure PHASE COMMAND...: run COMMAND; one table row of the stopwatch and
# counters over it.
measure() {
	local what=$1 p0=0 p1=0 c0 c1 n mn mx lt per
	shift
	sleep 1
	appctl stopwatch/reset vif-plug-run >/dev/null
	[ "$PLUG" = representor ] && p0=$(prepares)
	c0=$(cpu_ticks "$OC_PID")
	"$@"
	sleep 1
	[ "$PLUG" = representor ] && p1=$(prepares)
	c1=$(cpu_ticks "$OC_PID")
	read -r n mn mx lt < <(sw_stats)
	if [ "$PLUG" = representor ]; then
		per=-
		[ "$n" -gt 0 ] && per=$(((p1 - p0) / n))
		say "| $LABEL | $N | $what | $n | $mn | $mx | $lt | $((p1 - p0)) | $per | $(((c1 - c0) * 10)) |"
	else
		say "| $LABEL | $N | $what | $n | $mn | $mx | $lt | $(((c1 - c0) * 10)) |"
	fi
}

# The phases (commands for measure).
idle() { sleep "$IDLE"; }
K=0
# unrelated: 5 NB changes that concern no plugged lport (ls-add, --wait=hv).
unrelated() {
	local i
	for i in 1 2 3 4 5; do
		K=$((K + 1))
		timeout "$((SYNC_TMO + 10))" ovn-nbctl --timeout="$SYNC_TMO" --wait=hv ls-add "unrel$K" >/dev/null
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
# The ports added one at a time: VF and LSP number EXTRA, netdev x$EXTRA.
EXTRA=60000
# shellcheck disable=SC2046 # one argument per word
add_lsp() { nbctl $(lsp_cmds "$EXTRA" "$EXTRA") >/dev/null; }
new_lsp() { add_lsp && wait_plugged "x$EXTRA" "$LSP$EXTRA"; }
new_vf() { add_vf && wait_plugged "x$EXTRA" "$LSP$EXTRA"; }
# measure_new_lsp: a new LSP whose VF exists (the usual CMS flow).
measure_new_lsp() {
	EXTRA=$((EXTRA + 1))
	add_vf || die "adding VF $EXTRA"
	sleep 3
	measure "new LSP, its VF exists" new_lsp
}
# measure_new_vf: an LSP first (declined), then its VF appears.
measure_new_vf() {
	EXTRA=$((EXTRA + 1))
	add_lsp || die "adding LSP $EXTRA"
	sleep 3
	measure "new VF, its LSP exists" new_vf
}

# inc_run: for each port count N in PORTS (ascending): grow to N; then for
# each binary in turn start it, wait until N ports are plugged and
# ovn-controller has caught up (--wait=hv sync), run phases, stop it.
inc_run() {
	local have=0 entry bin max t0 want i
	for N in $PORTS; do
		if [ "$N" -gt "$have" ]; then
			grow "$have" "$N"
			have=$N
		fi
		for entry in $CONTROLLERS; do
			LABEL=${entry%%=*} bin=${entry#*=} max=
			case $bin in *@*) max=${bin##*@} bin=${bin%@*} ;; esac
			[ -n "$max" ] && [ "$N" -gt "$max" ] && continue
			LOG=$W/log/ovn-controller-$LABEL-$N.log
			controller_start "$bin" "$LOG" --unixctl="$RUN/ovn-controller.ctl" "${CONTROLLER_OPTS[@]}" ||
				{ say "| $LABEL | $N | did not start: skipped |"; continue; }
			t0=$(date +%s)
			want=$(plugged_count)
			for ((i = 0; i < PLUG_TMO; i += POLL)); do
				[ "$(plugged_count)" -ge "$N" ] && break
				sleep "$POLL"
			done
			[ "$(plugged_count)" -ge "$N" ] || die "$LABEL: only $(plugged_count) of $N plugged after $PLUG_TMO s"
			echo "# $LABEL: $N plugged after $(($(date +%s) - t0)) s (had $want at start)"
			timeout "$((SYNC_TMO + 10))" ovn-nbctl --timeout="$SYNC_TMO" --wait=hv sync || die "sync"
			sleep 5
			phases
			kill "$OC_PID"
			sleep 2
		done
	done
}
# inc_finish: the last lines, and the stack stopped.
inc_finish() {
	say ""
	say "logs: $W/log"
	stack_stop
}
