#!/bin/bash
# Measurement (not a pass/fail test), on the host, no kernel needed: what
# vif_plug_run() costs per ovn-controller main-loop iteration with many
# plugged representors, with ovn-vif-rs itself (its snapshot source,
# OVN_VIF_RS_SNAPSHOT, standing in for the kernel: rewriting the file is a
# kernel event) and ovs-vswitchd's dummy datapath (system netdevs become
# dummies, so any name plugs), for several ovn-controller binaries (e.g.
# OVN with ovn-patch 0001-0007, with 0008, and with 0008 and another
# ovn-vif-rs through LD_LIBRARY_PATH).  The host companion of
# tests/e2e/incremental.sh (the VM, the kernel source, the simulator).
#
#   OVN_BUILDDIR=... OVS_BUILDDIR=... INC_CONTROLLERS="before=BIN after=BIN" \
#       INC_PORTS="10 1000 4096" tests/e2e/incremental-snapshot.sh
#
# For each port count (ascending) and binary (LABEL=BINARY[@MAXPORTS]; a
# binary is skipped above MAXPORTS) it prints the vif-plug-run stopwatch
# (samples = iterations that ran vif_plug_run; min, max, OVS's long-term
# average, in ms), the provider's prepare calls (its `show` counters) and
# ovn-controller's CPU time over: INC_IDLE idle seconds; 5 unrelated NB
# changes (ls-add --wait=hv); 5 netdevs no devlink port shows appearing
# and going (link lines in the snapshot); a new LSP whose VF exists; a new
# VF whose LSP exists (declined until the VF appears).  Runs as any user;
# everything lives in INC_WORKDIR (default: a mktemp dir).
set -u
OVN=$(cd "${OVN_BUILDDIR:?set OVN_BUILDDIR to a built OVN tree}" && pwd)
OVS=$(cd "${OVS_BUILDDIR:-$OVN/ovs}" && pwd)
CONTROLLERS=${INC_CONTROLLERS:-tree=$OVN/controller/ovn-controller}
PORTS=${INC_PORTS:-1000}
IDLE=${INC_IDLE:-20}
PLUG_TMO=${INC_TIMEOUT:-900}
TMO=120
W=${INC_WORKDIR:-$(mktemp -d /tmp/incremental-dummy.XXXXXX)}
CHASSIS=hv1
PF_MAC=00:53:00:00:10:00
mkdir -p "$W" && rm -rf "${W:?}/log" "${W:?}/run" "${W:?}/results.txt" && mkdir -p "$W/log" "$W/run" || exit 2
RUN=$W/run RES=$W/results.txt
export OVS_RUNDIR=$RUN OVS_DBDIR=$RUN OVS_LOGDIR=$W/log OVN_RUNDIR=$RUN \
	OVS_SYSCONFDIR=$RUN OVN_SYSCONFDIR=$RUN
export OVN_NB_DB=unix:$RUN/nb.sock OVN_SB_DB=unix:$RUN/sb.sock
SNAP=$W/table.snapshot
export OVN_VIF_RS_SNAPSHOT=$SNAP
export PATH=$OVS/utilities:$OVS/ovsdb:$OVS/vswitchd:$OVN/utilities:$OVN/northd:$PATH

say() { echo "$*" | tee -a "$RES"; }
# The snapshot: the host PF and VFs 0..$VFS-1 (and EXTRA_VFS), plus
# $LINKS link lines that no port shows; replaced atomically.
VFS=0 LINKS=0 EXTRA_VFS=""
write_snapshot() {
	local i
	{
		echo "port pci/0000:03:00.0/1 flavour pcipf controller 1 pfnum 0 external hw_addr $PF_MAC netdev pf0hpf ifindex 11"
		for ((i = 0; i < VFS; i++)); do
			echo "port pci/0000:03:00.0/$((100 + i)) flavour pcivf controller 1 pfnum 0 vfnum $i external netdev rep$i ifindex $((1000 + i))"
		done
		for i in $EXTRA_VFS; do
			echo "port pci/0000:03:00.0/$((100 + i)) flavour pcivf controller 1 pfnum 0 vfnum $i external netdev x$i ifindex $((1000 + i))"
		done
		for ((i = 0; i < LINKS; i++)); do
			echo "link ifindex $((900000 + i)) name other$i"
		done
	} >"$SNAP.tmp" && mv "$SNAP.tmp" "$SNAP"
}
stop_all() {
	local p
	for p in ovn-controller ovs-vswitchd ovn-northd db nb sb; do
		[ -s "$RUN/$p.pid" ] && kill "$(cat "$RUN/$p.pid")" 2>/dev/null
	done
	sleep 0.5
}
die() { say "ERROR: $*"; stop_all; exit 1; }
vsctl() { timeout "$((TMO + 10))" ovs-vsctl --timeout="$TMO" "$@"; }
nbctl() { timeout "$((TMO + 10))" ovn-nbctl --timeout="$TMO" "$@"; }
appctl() { timeout 20 ovn-appctl -t "$RUN/ovn-controller.ctl" "$@"; }

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
	-vconsole:off -vsyslog:off --enable-dummy=override unix:"$RUN/db.sock" || die "ovs-vswitchd"
vsctl add-br br-int -- set bridge br-int fail-mode=secure other-config:disable-in-band=true \
	datapath-type=dummy || die "add-br br-int"
nbctl ls-add sw0 || die "ls-add"
write_snapshot

lsp_cmds() { # FIRST LAST
	local i
	for ((i = $1; i <= $2; i++)); do
		printf -- '-- lsp-add sw0 lsp%d -- lsp-set-options lsp%d requested-chassis=%s vif-plug-type=representor vif-plug:representor:pf-mac=%s vif-plug:representor:vf-num=%d ' \
			"$i" "$i" "$CHASSIS" "$PF_MAC" "$i"
	done
}
plugged_count() { vsctl --bare --columns=name find Interface external_ids:ovn-plugged=representor | grep -c .; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sw_stats() {
	appctl stopwatch/show vif-plug-run | awk '
		/Total samples/ { n = $3 }
		/Maximum/ { mx = $2 }
		/Minimum/ { mn = $2 }
		/Long term average/ { lt = $4 }
		END { printf "%d %s %s %.1f\n", n, (mn == "" ? "-" : mn), (mx == "" ? "-" : mx), lt }'
}
prepares() { appctl vif-plug-representor/show | sed -n 's/.*prepares=\([0-9]*\).*/\1/p' | head -1; }
measure() { # PHASE PID COMMAND...
	local what=$1 pid=$2 c0 c1 p0 p1 n mn mx lt per
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
idle() { sleep "$IDLE"; }
K=0
unrelated() {
	local i
	for i in 1 2 3 4 5; do K=$((K + 1)); nbctl --wait=hv ls-add "unrel$K" >/dev/null; done
}
unrelated_links() {
	local i
	for i in 1 2 3 4 5; do LINKS=$i; write_snapshot; sleep 0.2; done
	sleep 1
	LINKS=0
	write_snapshot
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
add_vf() { EXTRA_VFS="$EXTRA_VFS $EXTRA"; write_snapshot; }
new_lsp() { add_lsp && wait_plugged "x$EXTRA" "lsp$EXTRA"; }
new_vf() { add_vf && wait_plugged "x$EXTRA" "lsp$EXTRA"; }

say "## host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
say "controllers: $CONTROLLERS"
say ""
say "| binary | ports | phase | vif_plug_run samples | min ms | max ms | long-term avg ms | prepares | prepares/sample | CPU ms |"
say "|---|---|---|---|---|---|---|---|---|---|"
have=0
for N in $PORTS; do
	if [ "$N" -gt "$have" ]; then
		# shellcheck disable=SC2046 # one argument per word
		nbctl $(lsp_cmds "$have" $((N - 1))) >/dev/null || die "adding LSPs"
		VFS=$N
		write_snapshot
		have=$N
	fi
	for entry in $CONTROLLERS; do
		LABEL=${entry%%=*} bin=${entry#*=} max=
		case $bin in *@*) max=${bin##*@} bin=${bin%@*} ;; esac
		[ -n "$max" ] && [ "$N" -gt "$max" ] && continue
		LOG=$W/log/ovn-controller-$LABEL-$N.log
		"$bin" --detach --no-chdir --pidfile="$RUN/ovn-controller.pid" \
			--unixctl="$RUN/ovn-controller.ctl" \
			--log-file="$LOG" -vconsole:off -vsyslog:off \
			unix:"$RUN/db.sock" || { say "| $LABEL | $N | did not start: skipped |"; continue; }
		pid=$(cat "$RUN/ovn-controller.pid")
		t0=$(date +%s)
		for ((i = 0; i < PLUG_TMO; i++)); do
			[ "$(plugged_count)" -ge "$N" ] && break
			sleep 1
		done
		[ "$(plugged_count)" -ge "$N" ] || die "$LABEL: $(plugged_count) of $N plugged"
		echo "# $LABEL: $N plugged after $(($(date +%s) - t0)) s"
		nbctl --timeout="$TMO" --wait=hv sync
		sleep 5
		measure "idle ${IDLE} s" "$pid" idle
		measure "5 unrelated NB changes" "$pid" unrelated
		measure "5 netdevs no port shows, added, removed" "$pid" unrelated_links
		EXTRA=$((EXTRA + 1))
		add_vf
		sleep 3
		measure "new LSP, its VF exists" "$pid" new_lsp
		EXTRA=$((EXTRA + 1))
		add_lsp || die "adding LSP $EXTRA"
		sleep 3
		measure "new VF, its LSP exists" "$pid" new_vf
		kill "$pid"
		sleep 2
	done
done
say ""
say "logs: $W/log"
stop_all
