#!/usr/bin/env bash
# Smoke test in a real ovn-controller: link ovn-controller from an existing
# OVN build tree's objects with OUR provider .so (OVN's link order: the .so
# before libopenvswitch.a, no -rdynamic), start it against a scratch
# ovsdb-server, and check through ovs-appctl:
#   - the seven OVS symbols are exported by the executable (nm -D: T);
#   - `vlog/list` shows vif_plug_representor, with the command line's
#     -vvif_plug_representor:file:dbg applied (load-time registration);
#   - vif-plug-representor/show and /lookup answer;
#   - rewriting the snapshot wakes the main loop ("wakeup due to [POLLIN]
#     on fd N (...) at vif-plug-representor") and the rename is served
#     (needs an ovn-controller that calls the provider's run(), i.e. OVN
#     with ovn-patch; on stock OVN that check is reported, not failed).
#
# Usage: tests/harness/ovn-controller-smoke.sh OVN_BUILDDIR [PROVIDER.so]
#   OVN_BUILDDIR: a built OVN tree (controller/*.o, lib/.libs/libovn.a,
#   and its OVS under ovs/ or OVS_BUILDDIR).  Nothing in it is modified;
#   the executable and all state go to a temporary directory (removed on
#   success unless KEEP=1; kept on failure).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
OVN=${1:?usage: $0 OVN_BUILDDIR [PROVIDER.so]}
PROVIDER=${2:-$REPO/target/release/libovn_vif_rs.so}
OVS=${OVS_BUILDDIR:-$OVN/ovs}
OVN=$(cd "$OVN" && pwd)
PROVIDER=$(cd "$(dirname "$PROVIDER")" && pwd)/$(basename "$PROVIDER")

W=$(mktemp -d /tmp/ovn-controller-smoke.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "(logs in $W)" >&2; exit 1; }

# Link: every controller object except the ovstest ones.
objs=()
for o in "$OVN"/controller/*.o; do
    case $(basename "$o") in test-*) ;; *) objs+=("$o") ;; esac
done
ln -sf "$PROVIDER" "$W/libovn_vif_rs.so.0"
gcc -o "$W/ovn-controller" "${objs[@]}" "$OVN/lib/.libs/libovn.a" "$PROVIDER" \
    "$OVS/lib/.libs/libopenvswitch.a" "$OVS/lib/.libs/libopenvswitchavx512.a" \
    -lssl -lcrypto -lcap-ng -latomic -lm -lunbound -Wl,-rpath,"$W"
exported=$(nm -D "$W/ovn-controller" | awk '$2 == "T" {print $3}' |
    grep -xE 'vlog|vlog_insert_module|unixctl_command_register|unixctl_command_reply|unixctl_command_reply_error|poll_fd_wait_at|poll_timer_wait_at' |
    sort | xargs)
echo "exported by ovn-controller: $exported"
[ "$(wc -w <<<"$exported")" = 7 ] || fail "ovn-controller does not export the seven OVS symbols"

# A scratch OVS database, then ovn-controller.
"$OVS/ovsdb/ovsdb-tool" create "$W/conf.db" "$OVS/vswitchd/vswitch.ovsschema"
OVS_RUNDIR=$W "$OVS/ovsdb/ovsdb-server" "$W/conf.db" --remote=punix:"$W/db.sock" \
    --unixctl="$W/db.ctl" --no-chdir --log-file="$W/db.log" -vconsole:off &
pids+=($!)
for _ in $(seq 50); do [ -S "$W/db.sock" ] && break; sleep 0.1; done
timeout 10 "$OVS/utilities/ovs-vsctl" --db=unix:"$W/db.sock" --no-wait init -- \
    set open_vswitch . external_ids:system-id=hv1 \
    external_ids:ovn-remote=unix:"$W/sb.sock" external_ids:ovn-encap-type=geneve \
    external_ids:ovn-encap-ip=127.0.0.1

mkdir -p "$W/snap"
cp "$REPO/tests/data/dpu.snapshot" "$W/snap/ports.snap"
OVS_RUNDIR=$W OVN_RUNDIR=$W OVS_LOGDIR=$W OVN_VIF_RS_SNAPSHOT=$W/snap/ports.snap \
    "$W/ovn-controller" unix:"$W/db.sock" --unixctl="$W/ctl" --log-file="$W/oc.log" \
    -vconsole:off -vsyslog:off -vvif_plug_representor:file:dbg -vpoll_loop:file:dbg \
    --no-chdir >"$W/stdout" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$W/ctl" ] && break; sleep 0.1; done
A=(timeout 10 "$OVS/utilities/ovs-appctl" -t "$W/ctl")

"${A[@]}" vlog/list | grep -E '^vif_plug_representor +[A-Z]+ +[A-Z]+ +DBG$' ||
    fail "vif_plug_representor not in vlog/list with file:dbg from the command line"
"${A[@]}" vif-plug-representor/show | head -4
"${A[@]}" vif-plug-representor/lookup pf-mac=00:53:00:00:10:00 vf-num=3 | grep -q '^PLUG c1pf0vf3 ' ||
    fail "lookup"
grep -q '|vif_plug_representor|INFO|representor table loaded' "$W/oc.log" || fail "no INFO line in the log"

sed 's/netdev c1pf0vf3 /netdev eth14 /' "$W/snap/ports.snap" >"$W/snap/new"
mv "$W/snap/new" "$W/snap/ports.snap"
sleep 1
if grep -q 'wakeup due to \[POLLIN\] on fd [0-9]* (.*) at vif-plug-representor' "$W/oc.log"; then
    echo "woken by the provider's descriptor"
    "${A[@]}" vif-plug-representor/lookup pf-mac=00:53:00:00:10:00 vf-num=3 | grep -q '^PLUG eth14 ' ||
        fail "rename not served"
else
    echo "no wakeup from the provider (stock ovn-controller without run()?)"
fi
cleanup
pids=()
if [ -z "${KEEP:-}" ]; then rm -rf "$W"; fi
echo "PASS${KEEP:+ (work dir $W)}"
