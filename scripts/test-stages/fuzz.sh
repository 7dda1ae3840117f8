#!/usr/bin/env bash
# Fuzz stage (run by scripts/test-all): builds every libFuzzer target of
# fuzz/ (fuzz/Cargo.toml, lock file fuzz/Cargo.lock, --locked) and runs each
# one briefly from its checked-in seed corpus, so a target that no longer
# compiles, or that crashes on its seeds or within seconds, fails the build.
#
#   bash scripts/test-stages/fuzz.sh [TARGET...]
#
#   FUZZ_SECONDS   run time per target (default 20)
#   FUZZ_JOBS      targets run at once (default: the number of cores, at most 2)
#   FUZZ_OUT       where new inputs and crash files go (default: a temporary
#                  directory, removed unless something crashed)
#
# The build is what `cargo fuzz build` (cargo-fuzz 0.13.2, fuzz/README.md)
# does, done with cargo itself so CI installs no cargo-fuzz: release
# profile with debug assertions and overflow checks, libFuzzer's coverage
# instrumentation, --cfg fuzzing and AddressSanitizer.  ASan is a nightly
# rustc flag: RUSTC_BOOTSTRAP=1 lets the machine's stable rustc take it
# (no nightly toolchain is fetched).  The binaries land in
# fuzz/target/x86_64-unknown-linux-gnu/release/, where cargo fuzz puts them.
# The checked-in corpus is only read.  Each run prints libFuzzer's figures
# (executions, corpus growth) and the stage fails on any crash, leak,
# timeout or out-of-memory report.
set -euo pipefail
cd "$(dirname "$0")/../../fuzz"

secs=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(( $(nproc) < 2 ? 1 : 2 ))}
triple=x86_64-unknown-linux-gnu
[ "$(uname -m)" = x86_64 ] || triple=$(rustc -vV | sed -n 's/^host: //p')

# Every [[bin]] of fuzz/Cargo.toml.
mapfile -t all < <(sed -n '/^\[\[bin\]\]/,/^$/s/^name = "\(.*\)"/\1/p' Cargo.toml)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets in fuzz/Cargo.toml" >&2; exit 1; }
for t in "${targets[@]}"; do
    [ -f "fuzz_targets/$t.rs" ] || { echo "fuzz: no fuzz_targets/$t.rs" >&2; exit 1; }
    [ -n "$(ls -A "corpus/$t" 2>/dev/null)" ] || { echo "fuzz: no seeds in fuzz/corpus/$t" >&2; exit 1; }
done

# libfuzzer-sys compiles libFuzzer (C++): a fresh Debian has no g++.
if ! command -v c++ >/dev/null; then
    sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "fuzz: installing g++ (libFuzzer is C++)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=900 g++
fi

# cargo-fuzz 0.13.2's flags for `cargo fuzz build` (project.rs), defaults:
# sanitizer address, trace-compares, dead code stripped, codegen-units 1
# (debug assertions bring overflow checks with them).
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
flags+=" -Cllvm-args=-sanitizer-coverage-pc-table"
flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
flags+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Zsanitizer=address"
flags+=" -Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=1"
t0=$SECONDS
bin_args=()
for t in "${targets[@]}"; do bin_args+=(--bin "$t"); done
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" cargo build --locked --release --target "$triple" \
    --config 'profile.release.debug="line-tables-only"' "${bin_args[@]}"
echo "fuzz: built ${#targets[@]} targets in $((SECONDS - t0)) s"

out=${FUZZ_OUT:-$(mktemp -d /tmp/ovn-vif-rs-fuzz.XXXXXX)}
mkdir -p "$out"
# fuzz TARGET: run it for $secs s; new inputs go to $out/TARGET/corpus, a
# crash to $out/TARGET/crash-*; the log to $out/TARGET.log.
fuzz() {
    local t=$1 exe=target/$triple/release/$1
    mkdir -p "$out/$t/corpus"
    ASAN_OPTIONS=detect_odr_violation=0 "$exe" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$t/" \
        "$out/$t/corpus" "corpus/$t" >"$out/$t.log" 2>&1
}
summary() { # TARGET RC
    local t=$1 rc=$2 runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -n 1)
    if [ "$rc" = 0 ]; then
        echo "fuzz: $t: PASS, ${runs:-?} runs in ${secs} s," \
            "$(find "corpus/$t" -type f | wc -l) seeds, $(find "$out/$t/corpus" -type f | wc -l) new inputs"
    else
        echo "fuzz: $t: FAIL (exit $rc after ${runs:-?} runs); the end of its log:"
        tail -n 40 "$out/$t.log"
        find "$out/$t" -maxdepth 1 -type f -regex '.*/\(crash\|leak\|timeout\|oom\)-.*' |
            sed 's/^/fuzz:   reproducer: /'
    fi
}

failed=()
pids=() names=()
reap() { # wait for the oldest running target
    local rc=0
    wait "${pids[0]}" || rc=$?
    summary "${names[0]}" "$rc"
    [ "$rc" = 0 ] || failed+=("${names[0]}")
    pids=("${pids[@]:1}") names=("${names[@]:1}")
}
for t in "${targets[@]}"; do
    [ ${#pids[@]} -lt "$jobs" ] || reap
    fuzz "$t" &
    pids+=($!) names+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do reap; done

echo "fuzz: ${#targets[@]} targets, $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed" \
    "(total $((SECONDS - t0)) s)"
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]}; inputs and logs kept in $out" >&2
    exit 1
fi
[ -n "${FUZZ_OUT:-}" ] || rm -rf "$out"
