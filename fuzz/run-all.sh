#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (default 15) from its
# seed corpus, then prints one line per target: executions, coverage
# (libFuzzer's cov and ft) and the result.
#
#   fuzz/run-all.sh [SECONDS] [TARGET...]
#
# FUZZ_TOOLCHAIN=stable uses the default compiler even when a nightly is
# installed. FUZZ_SANITIZER=none builds without AddressSanitizer (more
# executions a second; the build goes to target/sanitizer-none, beside
# the default one). FUZZ_RUNS=N stops a target after N executions.
#
# cargo-fuzz needs nightly compiler flags: the nightly toolchain is used
# when rustup has one, else the default (stable) compiler with
# RUSTC_BOOTSTRAP=1. New inputs go to a temporary directory, so the
# committed corpora stay as they are; a crash leaves its input and the
# run's log in fuzz/artifacts/TARGET/ and makes the script fail once every
# target ran.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-15}
shift || true
case $seconds in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

toolchain=${FUZZ_TOOLCHAIN:-}
if [ -z "$toolchain" ]; then
    if rustup run nightly rustc --version > /dev/null 2>&1; then
        toolchain=nightly
    else
        toolchain=stable
    fi
fi
if [ "$toolchain" = nightly ]; then
    cargo=(cargo +nightly fuzz)
    compiler="nightly ($(rustup run nightly rustc --version))"
else
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo fuzz)
    compiler="$(rustc --version) with RUSTC_BOOTSTRAP=1"
fi
echo "fuzz: building with $compiler"

sanitizer=${FUZZ_SANITIZER:-address}
flags=(--sanitizer "$sanitizer")
if [ "$sanitizer" != address ]; then
    flags+=(--target-dir "target/sanitizer-$sanitizer")
fi
limits=(-max_total_time="$seconds")
if [ -n "${FUZZ_RUNS:-}" ]; then
    limits+=(-runs="$FUZZ_RUNS")
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${cargo[@]}" list)
fi
# One build for all targets, before any clock starts.
"${cargo[@]}" build "${flags[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/nspawn-netd-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=()
printf '%-16s %12s %10s %8s %8s  %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
    mkdir -p "$work/$t" "corpus/$t" "artifacts/$t"
    log="$work/$t.log"
    # -rss_limit_mb: an input that makes a parser allocate without bound
    # is a finding too. The first corpus directory receives new inputs,
    # the second (the committed seeds) is only read.
    if "${cargo[@]}" run "${flags[@]}" "$t" "$work/$t" "corpus/$t" -- \
        "${limits[@]}" -rss_limit_mb=2048 -print_final_stats=1 \
        > "$log" 2>&1; then
        result=ok
    else
        result="FAILED (see below)"
        failed+=("$t")
    fi
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
    printf '%-16s %12s %10s %8s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
    if [ "$result" != ok ]; then
        # What went wrong (the panic or sanitizer report), then the end.
        cp "$log" "artifacts/$t/run-all.log"
        { grep -E -A20 "panicked|ERROR:" "$log" | head -60; tail -25 "$log"; } | sed "s/^/  $t: /"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failed: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
