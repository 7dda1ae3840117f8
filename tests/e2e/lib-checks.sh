# shellcheck shell=bash
# What tests/e2e/representor.sh and tests/bench/e2e-side-by-side.sh share
# besides the stack (lib-stack.sh): PASS/FAIL counting, the simulated DPU's
# representors looked up through devlink, and delays in milliseconds read
# from timestamps.  Source it; nothing here exits the caller.  The caller
# sets SIM (the devlink_sim device ID).

npass=0 nfail=0
pass() { echo "PASS: $*"; npass=$((npass + 1)); }
fail() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# rep_netdev FLAVOUR [NUM]: the netdev of c1 pf0's pcipf / pcivf NUM / pcisf NUM.
rep_netdev() {
	devlink -j port show | jq -r --arg h "platform/devlink_sim.$SIM/" --arg f "$1" \
		--argjson n "${2:-0}" '.port | to_entries[] | select(.key | startswith($h)) | .value
		| select(.flavour == $f and .controller == 1 and .pfnum == 0)
		| select($f == "pcipf" or .vfnum == $n or .sfnum == $n) | .netdev // empty'
}
# rep_index FLAVOUR NUM: the devlink port index of c1 pf0's pcivf / pcisf NUM.
rep_index() {
	devlink -j port show | jq -r --arg h "platform/devlink_sim.$SIM/" --arg f "$1" \
		--argjson n "$2" '.port | to_entries[] | select(.key | startswith($h))
		| select(.value.flavour == $f and .value.controller == 1 and .value.pfnum == 0)
		| select(.value.vfnum == $n or .value.sfnum == $n) | .key | split("/") | last'
}

now() { echo "$EPOCHREALTIME"; }
# ms T0 T1: milliseconds from T0 to T1 (epoch seconds), NA if one is missing.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "NA"; else printf "%d", (b - a) * 1000 }'; }
# median: of the numbers on stdin (blank-separated; NA ignored), NA if none.
median() { tr ' ' '\n' | grep -v '^NA$' | grep . | sort -n |
	awk '{ v[NR] = $1 } END { if (!NR) print "NA"; else if (NR % 2) print v[(NR + 1) / 2];
		else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# first_ts FILE REGEX [AFTER]: the timestamp (epoch s) of the first update
# of a monitor (lib-stack.sh's monitor_*) with a line matching REGEX, at
# or after AFTER (epoch s) if given.
first_ts() {
	local a="" ts
	[ -n "${3:-}" ] && a=$(date -u -d "@$3" '+%Y-%m-%d %H:%M:%S.%3N')
	ts=$(awk -v re="$2" -v a="$a" '/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+$/ { ts = $0; next }
		ts >= a && $0 ~ re { print ts; exit }' "$1")
	[ -n "$ts" ] && date -u -d "$ts" +%s.%N
}
