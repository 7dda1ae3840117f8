#!/bin/bash
# Measurement (not a pass/fail test), on the host, no kernel needed: what
# vif_plug_run() costs per ovn-controller main-loop iteration with many
# plugged ports, with OVN's built-in dummy VIF plug provider
# (--enable-dummy-vif-plug) and ovs-vswitchd's dummy datapath, for several
# ovn-controller binaries (e.g. OVN with ovn-patch 0001-0007, and with 0008).
# The companion of tests/e2e/incremental.sh (the VM, the representor
# provider and the devlink simulator); this one isolates OVN's own cost.
#
#   OVN_BUILDDIR=... OVS_BUILDDIR=... INC_CONTROLLERS="before=BIN after=BIN" \
#       INC_PORTS="10 1000 4096" tests/e2e/incremental-dummy.sh
#
# For each port count (ascending) and binary (LABEL=BINARY[@MAXPORTS]; a
# binary is skipped above MAXPORTS) it prints the vif-plug-run stopwatch
# (samples = iterations that ran vif_plug_run; min, max, OVS's long-term
# average, in ms) and ovn-controller's CPU time over: INC_IDLE idle seconds,
# 5 unrelated NB changes (ls-add --wait=hv), and one new plugged LSP; then
# the dummy provider's prepare calls (its debug log) during 5 more unrelated
# changes.  Runs as any user; everything lives in INC_WORKDIR (default: a
# mktemp dir).  The stack: lib-stack.sh; the loop: lib-incremental.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib-stack.sh
. "$HERE/lib-stack.sh"
# shellcheck source=tests/e2e/lib-incremental.sh
. "$HERE/lib-incremental.sh"
TMO=120 SYNC_TMO=120 POLL=1
PLUG=dummy LSP=lsp
CONTROLLER_OPTS=(--enable-dummy-vif-plug)
W=${INC_WORKDIR:-$(mktemp -d /tmp/incremental-dummy.XXXXXX)}
inc_workdir "$W/run"

stack_start dummy || die "$STACK_ERR"
nbctl ls-add sw0 || die "ls-add"

grow() { # FROM TO
	# shellcheck disable=SC2046 # one argument per word
	nbctl $(lsp_cmds "$1" $(($2 - 1))) >/dev/null || die "adding LSPs"
}
# new_lsp_up: one more LSP, until ovn-controller has handled it and it is up.
new_lsp_up() {
	EXTRA=$((EXTRA + 1))
	# shellcheck disable=SC2046 # one argument per word
	nbctl --wait=hv $(lsp_cmds "$EXTRA" "$EXTRA") >/dev/null
	nbctl --timeout="$TMO" wait-until Logical_Switch_Port "$LSP$EXTRA" up=true >/dev/null
}
# dummy_prepares: the dummy provider's prepare calls so far (its debug log).
dummy_prepares() { grep -c "vif_plug_dummy_port_prepare" "$LOG"; }
counts=()
phases() {
	local p0 p1 p2
	measure "idle ${IDLE} s" idle
	measure "5 unrelated NB changes" unrelated
	measure "1 new LSP plugged" new_lsp_up
	appctl vlog/set vif_plug_dummy:file:dbg >/dev/null
	sleep 2
	p0=$(dummy_prepares)
	unrelated
	sleep 1
	p1=$(dummy_prepares)
	new_lsp_up
	sleep 1
	p2=$(dummy_prepares)
	appctl vlog/set vif_plug_dummy:file:info >/dev/null
	counts+=("| $LABEL | $N | $((p1 - p0)) | $((p2 - p1)) |")
}

say "## host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
say "controllers: $CONTROLLERS"
inc_table_head
inc_run
say ""
say "Dummy provider prepare calls (its debug log):"
say ""
say "| binary | ports | during 5 unrelated NB changes | for 1 new LSP until up |"
say "|---|---|---|---|"
for c in "${counts[@]}"; do say "$c"; done
inc_finish
