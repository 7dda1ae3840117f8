#!/bin/bash
# Boot a Debian kernel under virtme-ng (TCG, no KVM needed) and run one
# command in the guest as root; exit with that command's exit status.
#
#   scripts/vm/run.sh [options] -- COMMAND [ARG...]
#
# Options:
#   --kernel SERIES|KVER   6.1 (default, or $OVN_VIF_KERNEL), 6.12, or an exact release
#   --memory SIZE          guest memory (default 1G)
#   --cpus N               guest vCPUs (default 2)
#   --timeout SEC          kill the VM after SEC seconds (default 900)
#   --rwdir DIR            extra host directory the guest may write (repeatable)
#   --kmod                 build (if needed) and insmod devlink_sim before COMMAND
#
# Only one VM runs at a time per machine: a second run.sh waits on the lock
# file $OVN_VIF_VM_LOCK (default /tmp/ovn-vif-rs-vm.lock), for up to
# $OVN_VIF_VM_LOCK_WAIT seconds (default 7200; --timeout counts from the boot).
#
# The guest sees the host's filesystem read-only, with the cwd and the
# environment of this script (so a cargo test binary runs as it would on the
# host).  debugfs is mounted.  In the guest:
#   VM_RESULTS   a writable directory (tests/vm/logs/<run>/results) kept after the run
#   VM_KERNEL    the guest kernel release
#   DEVLINK_SIM_KO  the path of devlink_sim.ko for that kernel (if built)
#
# Logs: tests/vm/logs/<run>/{console.log,vng.stderr,cmd.sh,exit-status}
# (console.log = the guest command's stdout, vng.stderr = its stderr and
# vng's).  Runs beyond the newest 20 are pruned after a day; the directory
# is printed at the end of every run.  If the guest
# command did not finish (boot failure, panic, timeout) the script says so and
# exits 125.
set -uo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/lib.sh"

kernel=$DEFAULT_KERNEL memory=1G cpus=2 timeout=900 load_kmod=0
rwdirs=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--memory) memory=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--rwdir) rwdirs+=("$(realpath "$2")"); shift 2 ;;
	--kmod) load_kmod=1; shift ;;
	--) shift; break ;;
	-h|--help) sed -n '2,/^set /p' "$0" | sed 's/^# \{0,1\}//;$d'; exit 0 ;;
	*) die "unknown option $1 (use -- before the command)" ;;
	esac
done
[ $# -gt 0 ] || die "usage: $0 [options] -- COMMAND [ARG...]"
[ -x "$VNG" ] || die "virtme-ng missing: run scripts/vm/install-deps.sh"
kver=$(installed_kver "$kernel")
[ -n "$kver" ] || die "kernel $kernel not installed: run scripts/vm/install-deps.sh $kernel"
ko=$(kmod_path "$kver")
if [ $load_kmod = 1 ]; then
	# Incremental: a no-op when the module is up to date.
	"$REPO/scripts/vm/build-kmod.sh" "$kver" >/dev/null || die "cannot build devlink_sim for $kver"
fi

logroot=$REPO/tests/vm/logs
run=$logroot/$(date -u +%Y%m%dT%H%M%SZ)-$$
mkdir -p "$run/results"
# Prune: beyond the newest 20 runs, delete those older than a day (never a
# run that may still be going on: several people share this directory).
find "$logroot" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn |
	tail -n +21 | cut -d' ' -f2- |
	while read -r d; do [ -n "$(find "$d" -maxdepth 0 -mmin +1440)" ] && rm -rf "$d"; done

# The guest-side wrapper: environment, cwd, debugfs, the command, its status.
# shellcheck disable=SC2016 # the single-quoted lines are guest code, expanded there
{
	echo '#!/bin/bash'
	export -p | grep -Ev '^declare -x (BASH_[A-Z_]*|OLDPWD|PWD|SHLVL|_|TERM|HOSTNAME)='
	printf 'export VM_RESULTS=%q VM_KERNEL=%q DEVLINK_SIM_KO=%q\n' "$run/results" "$kver" "$ko"
	printf 'cd %q || exit 126\n' "$PWD"
	echo 'mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug'
	if [ $load_kmod = 1 ]; then
		echo 'insmod "$DEVLINK_SIM_KO" || { echo "insmod devlink_sim failed" >&2; echo 126 >"$VM_RESULTS/../exit-status"; exit 126; }'
	fi
	echo 'read -r up _ </proc/uptime; echo "run.sh: guest up ${up}s, command starts" >&2'
	printf '%q ' "$@"; echo
	echo 'rc=$?'
	echo 'read -r up _ </proc/uptime; echo "run.sh: guest up ${up}s, command exited with $rc" >&2'
	echo 'echo $rc >"$VM_RESULTS/../exit-status"'
	echo 'exit $rc'
} >"$run/cmd.sh"
chmod +x "$run/cmd.sh"

rwargs=(--rwdir "$run")
for d in "${rwdirs[@]}"; do rwargs+=(--rwdir "$d"); done

# One VM at a time on this machine (2 cores, shared): wait for the others.
# The lock is machine-wide so clones and other work trees share it.
lock=${OVN_VIF_VM_LOCK:-/tmp/ovn-vif-rs-vm.lock}
exec 9>>"$lock"
if ! flock -n 9; then
	echo "run.sh: waiting for another VM to finish ($lock)" >&2
	lock_wait=${OVN_VIF_VM_LOCK_WAIT:-7200}
	flock -w "$lock_wait" 9 || die "gave up waiting for $lock after ${lock_wait}s"
fi

echo "run.sh: kernel $kver, log $run/console.log" >&2
start=$(date +%s)
# A boot that dies before the guest command starts (vng exits with rc 255
# after a few seconds, nothing on its stderr: seen in two CI runs on
# 2026-12-01, each time while another VM booted) is retried, at most twice,
# loudly; the command itself never runs twice (without its "command
# starts" line it never began).
for attempt in 1 2 3; do
	# stdout and stderr go to different files (see NOTES: never the same file).
	PATH=$VENV/bin:$PATH timeout -k 10 "$timeout" "$VNG" --run "/boot/vmlinuz-$kver" --disable-kvm --force-9p \
		--memory "$memory" --cpus "$cpus" --user root "${rwargs[@]}" \
		-- "$run/cmd.sh" </dev/null 2> >(tee "$run/vng.stderr" >&2) | tee "$run/console.log"
	vng_rc=${PIPESTATUS[0]}
	wait
	secs=$(( $(date +%s) - start ))
	if [ -s "$run/exit-status" ] || [ "$vng_rc" = 124 ] || [ "$attempt" = 3 ] ||
		grep -q 'run.sh: guest up .*command starts' "$run/vng.stderr"; then
		break
	fi
	echo "run.sh: the VM died before the guest command started (vng rc $vng_rc after ${secs}s);" \
		"retrying the boot ($attempt of 2)" >&2
	mv "$run/vng.stderr" "$run/vng.stderr.boot$attempt"
	sleep $((attempt * 3))
done

if [ ! -s "$run/exit-status" ]; then
	echo "run.sh: FAILED: the guest command did not complete (vng rc $vng_rc after ${secs}s;" \
		"124 = timeout). Logs: $run" >&2
	echo "run.sh: last lines of $run/vng.stderr:" >&2
	tail -n 30 "$run/vng.stderr" >&2
	exit 125
fi
rc=$(cat "$run/exit-status")
if [ "$rc" != "$vng_rc" ]; then
	echo "run.sh: note: vng returned $vng_rc, guest command $rc (using the guest's)" >&2
fi
if [ "$rc" = 0 ]; then
	echo "run.sh: guest command passed in ${secs}s (logs: $run)" >&2
else
	echo "run.sh: guest command FAILED with status $rc after ${secs}s; logs kept in $run" >&2
fi
exit "$rc"
