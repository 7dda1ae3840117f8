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
# everything lives in INC_WORKDIR (default: a mktemp dir).  The stack:
# lib-stack.sh; the loop: lib-incremental.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib-stack.sh
. "$HERE/lib-stack.sh"
# shellcheck source=tests/e2e/lib-incremental.sh
. "$HERE/lib-incremental.sh"
TMO=120 SYNC_TMO=120 POLL=1
PLUG=representor LSP=lsp
W=${INC_WORKDIR:-$(mktemp -d /tmp/incremental-snapshot.XXXXXX)}
inc_workdir "$W/run"
SNAP=$W/table.snapshot
export OVN_VIF_RS_SNAPSHOT=$SNAP

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

stack_start dummy || die "$STACK_ERR"
nbctl ls-add sw0 || die "ls-add"
write_snapshot

grow() { # FROM TO
	# shellcheck disable=SC2046 # one argument per word
	nbctl $(lsp_cmds "$1" $(($2 - 1))) >/dev/null || die "adding LSPs"
	VFS=$2
	write_snapshot
}
add_vf() { EXTRA_VFS="$EXTRA_VFS $EXTRA"; write_snapshot; }
unrelated_links() {
	local i
	for i in 1 2 3 4 5; do LINKS=$i; write_snapshot; sleep 0.2; done
	sleep 1
	LINKS=0
	write_snapshot
}
phases() {
	measure "idle ${IDLE} s" idle
	measure "5 unrelated NB changes" unrelated
	measure "5 netdevs no port shows, added, removed" unrelated_links
	measure_new_lsp
	measure_new_vf
}

say "## host: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
say "controllers: $CONTROLLERS"
inc_table_head
inc_run
inc_finish
