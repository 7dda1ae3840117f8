#!/bin/bash
# Inside the VM: build the default simulated DPU and show what the provider
# resolves for tests/data/demo-lsps.txt.  Exit 0 when the expected five
# option sets plug and the eight bad or absent ones are refused.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/vm/bluefield-layout.sh
bf_layout 0 || { echo "could not create the simulated DPU"; exit 1; }
# Let udev finish naming the new netdevs, as an operator would.
command -v udevadm >/dev/null && udevadm settle -t 30
cli=${OVN_VIF_RS_CLI:-target/release/ovn-vif-rs}
echo "### devlink ports as the kernel reports them (iproute2)"
devlink port show
echo
echo "### what the provider indexes (ovn-vif-rs dump)"
"$cli" dump || exit 1
echo
echo "### decisions for tests/data/demo-lsps.txt (ovn-vif-rs resolve)"
out=$("$cli" resolve tests/data/demo-lsps.txt)
echo "$out"
[ "$(tail -n 1 <<<"$out")" = "5 plugged, 8 not plugged" ]
