#!/usr/bin/env bash
# Run the VIF plug host scenarios against a provider .so.
#
# Usage: tests/harness/run.sh [OPTIONS] [SCENARIO.txt...]
#   --provider SO     provider to host (default: target/release/libovn_vif_rs.so)
#   --scenarios DIR   scenario directory (default: tests/harness/scenarios)
#   --out DIR         build/log directory (default: target/harness)
#   --valgrind        run each scenario under valgrind --leak-check=full
#   --update          write the actual output to the .expected files
#   --timeout SEC     per-scenario timeout (default 120)
#
# Steps: scripts/ovs/build-libopenvswitch.sh (cached), tests/harness/build.sh
# (links vif_plug_host against the provider), then for each DIR/NAME.txt:
# run `vif_plug_host -f NAME.txt` from DIR with stdout compared to
# NAME.expected (diff -u), stderr (the OVS log) kept in OUT/logs/NAME.log.
#
# Directives in a scenario (comment lines, ignored by the host itself):
#   #@env NAME=VALUE    set in the host's environment (VALUE may use
#                       $SCENARIO_DIR, $OUT, $OVS_APPCTL, $VIF_PLUG_HOST_CTL,
#                       $VIF_PLUG_HOST_LOG, $WORK)
#   #@args ARG...       extra host arguments (e.g. -vreprs:console:dbg; the
#                       same variables are expanded)
#   #@rc N              expected exit status (default 0)
#   #@valgrind off      skip valgrind for this scenario (e.g. timing tests)
# Each scenario gets --unixctl=$VIF_PLUG_HOST_CTL and
# --log-file=$VIF_PLUG_HOST_LOG (OUT/logs/NAME.vlog, the OVS log file with
# the file destination's levels), a fresh scratch directory $WORK
# (OUT/run/NAME.d), and $OVS_APPCTL, $VIF_PLUG_HOST_CTL,
# $VIF_PLUG_HOST_LOG, $WORK and $SCENARIO_DIR are exported, so `shell`
# lines can talk to the host during `serve`/`loop` and check its log.
# Under --valgrind the summary (errors, definitely/indirectly/possibly
# lost bytes) is appended to the PASS line.
#
# Prints one line per scenario and finally "N passed, M failed"; exits
# non-zero when any scenario failed.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROVIDER=$REPO/target/release/libovn_vif_rs.so
SCEN_DIR=$HERE/scenarios
OUT=$REPO/target/harness
VALGRIND=0
UPDATE=0
TIMEOUT=120
scenarios=()

while [ $# -gt 0 ]; do
    case $1 in
        --provider) PROVIDER=$2; shift 2 ;;
        --scenarios) SCEN_DIR=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --valgrind) VALGRIND=1; shift ;;
        --update) UPDATE=1; shift ;;
        --timeout) TIMEOUT=$2; shift 2 ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) scenarios+=("$1"); shift ;;
    esac
done

if [ ! -f "$PROVIDER" ]; then
    echo "run.sh: no provider at $PROVIDER (cargo build --release first?)" >&2
    exit 2
fi

OVS_ENV=$("$REPO/scripts/ovs/build-libopenvswitch.sh") || exit 2
# shellcheck disable=SC1090
. "$OVS_ENV"
HOST=$(OVS_ENV=$OVS_ENV "$HERE/build.sh" "$PROVIDER" "$OUT") || exit 2
echo "host: $HOST (provider $PROVIDER, OVS $OVS_VERSION)"

if [ ${#scenarios[@]} -eq 0 ]; then
    shopt -s nullglob
    scenarios=("$SCEN_DIR"/*.txt)
    shopt -u nullglob
fi
if [ ${#scenarios[@]} -eq 0 ]; then
    echo "run.sh: no scenarios in $SCEN_DIR" >&2
fi

mkdir -p "$OUT/logs" "$OUT/run"
passed=0
failed=0
failed_names=()

for scen in "${scenarios[@]}"; do
    scen=$(cd "$(dirname "$scen")" && pwd)/$(basename "$scen")
    dir=$(dirname "$scen")
    name=$(basename "$scen" .txt)
    expected=$dir/$name.expected
    actual=$OUT/logs/$name.out
    log=$OUT/logs/$name.log
    ctl=$OUT/run/$name.ctl
    vlog=$OUT/logs/$name.vlog
    work=$OUT/run/$name.d
    rm -rf "$ctl" "$vlog" "$work" "$OUT/logs/$name.valgrind"
    mkdir -p "$work"
    subst() {
        # Expand the documented variables only.
        # shellcheck disable=SC2016 # envsubst's SHELL-FORMAT, not bash.
        SCENARIO_DIR=$dir OUT=$OUT OVS_APPCTL=$OVS_APPCTL \
            VIF_PLUG_HOST_CTL=$ctl VIF_PLUG_HOST_LOG=$vlog WORK=$work envsubst \
            '$SCENARIO_DIR $OUT $OVS_APPCTL $VIF_PLUG_HOST_CTL $VIF_PLUG_HOST_LOG $WORK'
    }

    want_rc=$(sed -n 's/^#@rc[[:space:]]\+\([0-9]\+\).*/\1/p' "$scen" | tail -1)
    want_rc=${want_rc:-0}
    # shellcheck disable=SC2207
    extra_args=($(sed -n 's/^#@args[[:space:]]\+//p' "$scen" | subst))
    env_vars=()
    while IFS= read -r kv; do
        [ -n "$kv" ] || continue
        kv=$(subst <<<"$kv")
        env_vars+=("$kv")
    done < <(sed -n 's/^#@env[[:space:]]\+//p' "$scen")

    wrap=()
    if [ "$VALGRIND" = 1 ] && ! grep -q '^#@valgrind[[:space:]]\+off' "$scen"; then
        # shellcheck disable=SC2054 # the commas are valgrind's.
        wrap=(valgrind --leak-check=full --error-exitcode=99
              --errors-for-leak-kinds=definite,indirect,possible
              --log-file="$OUT/logs/$name.valgrind")
    fi

    start=$(date +%s%N)
    (cd "$dir" && env OVS_APPCTL="$OVS_APPCTL" VIF_PLUG_HOST_CTL="$ctl" \
         VIF_PLUG_HOST_LOG="$vlog" WORK="$work" \
         SCENARIO_DIR="$dir" "${env_vars[@]}" \
         timeout "$TIMEOUT" "${wrap[@]}" "$HOST" --unixctl="$ctl" \
         --log-file="$vlog" "${extra_args[@]}" -f "$scen") >"$actual" 2>"$log"
    rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))

    why=
    if [ "$UPDATE" = 1 ]; then
        cp "$actual" "$expected"
    fi
    if [ ! -f "$expected" ]; then
        why="no $name.expected (use --update)"
    elif ! diff -u "$expected" "$actual" >"$OUT/logs/$name.diff"; then
        why="output differs"
    fi
    if [ "$rc" != "$want_rc" ]; then
        case $rc in
            99) why="${why:+$why; }valgrind errors (see logs/$name.valgrind)" ;;
            124) why="${why:+$why; }timeout after ${TIMEOUT}s" ;;
            *) why="${why:+$why; }exit status $rc, want $want_rc" ;;
        esac
    fi

    vg=
    if [ -s "$OUT/logs/$name.valgrind" ]; then
        vg=$(awk '/ERROR SUMMARY:/ {e=$4}
                  /definitely lost:/ {d=$4} /indirectly lost:/ {i=$4}
                  /possibly lost:/ {p=$4}
                  /All heap blocks were freed/ {d=i=p=0}
                  END {printf "valgrind: %s errors, lost %s/%s/%s bytes (definitely/indirectly/possibly)", e, d, i, p}' \
             "$OUT/logs/$name.valgrind")
    fi
    if [ -z "$why" ]; then
        passed=$((passed + 1))
        echo "PASS $name (${ms} ms${vg:+; $vg})"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "FAIL $name: $why (${ms} ms; log $log)"
        if [ -s "$OUT/logs/$name.diff" ]; then
            sed 's/^/    /' "$OUT/logs/$name.diff" | head -40
        fi
        if [ -s "$OUT/logs/$name.valgrind" ] && [ "$rc" = 99 ]; then
            sed 's/^/    /' "$OUT/logs/$name.valgrind" | head -40
        fi
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
