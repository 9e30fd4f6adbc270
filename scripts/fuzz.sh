#!/usr/bin/env bash
# Fuzzes Tenantry's parsers with libFuzzer for a bounded time each: the YAML loader (yaml), Model's JSON parser
# (json), the webhook body parsers of GitHub, Jira, Slack and the generic webhook (webhooks), and the local
# cluster's merge and strategic merge patches (patch). See Sources/Fuzz/FuzzTargets.swift.
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]     (default: 60 s each, every target; FUZZ_SECONDS also sets N)
#
# The build is separate from the normal one (.build-fuzz; -sanitize=fuzzer,address). The committed seeds in
# fuzz/corpus/TARGET are only read; what libFuzzer finds grows .build-fuzz/corpus/TARGET. A crash, a broken
# invariant, a timeout (10 s on one input) or an out-of-memory stops the run with exit 1 and leaves the input in
# .build-fuzz/findings/TARGET/; reproduce it with
#   TENANTRY_FUZZ_TARGET=TARGET .build-fuzz/debug/tenantry-fuzz .build-fuzz/findings/TARGET/crash-…
# then fix it and add the input as a regression test (and to fuzz/corpus/TARGET).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(yaml json webhooks patch)

echo "==> Building tenantry-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
mkdir -p .build-fuzz
# --sanitize fuzzer makes SwiftPM link libFuzzer's main; the one -sanitize=fuzzer,address after it is what the compiler
# keeps (two --sanitize flags leave it only the last); --disable-dead-strip keeps the coverage counters
# (__sancov_cntrs) that the linker would otherwise drop, blinding libFuzzer.
swift build --scratch-path .build-fuzz --product tenantry-fuzz --disable-dead-strip --sanitize fuzzer -Xswiftc -sanitize=fuzzer,address \
    -Xswiftc -DTENANTRY_FUZZ >.build-fuzz/build.log 2>&1 || { tail -n 40 .build-fuzz/build.log >&2; exit 1; }
binary=.build-fuzz/debug/tenantry-fuzz

failed=()
for target in "${targets[@]}"; do
    seeds="fuzz/corpus/$target"
    if [ ! -d "$seeds" ]; then
        echo "error: no fuzz target \"$target\" (no seed corpus at $seeds); targets: yaml json webhooks patch" >&2
        exit 2
    fi
    corpus=".build-fuzz/corpus/$target"
    findings=".build-fuzz/findings/$target"
    mkdir -p "$corpus" "$findings"
    echo "==> Fuzzing $target for ${seconds} s (seeds: $seeds, $(ls "$seeds" | wc -l) files)"
    status=0
    # New inputs go to the first directory only, so the committed seeds stay as they are. Inputs are kept to 8 KiB
    # (longer seeds, the GitHub samples, are cut): a 28 KiB payload takes ~0.1 s per run in this build.
    TENANTRY_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1" "$binary" \
        -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$findings/" "$corpus" "$seeds" >".build-fuzz/$target.log" 2>&1 || status=$?
    grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" ".build-fuzz/$target.log" | sed "s/^/    /" || true
    if [ "$status" -ne 0 ]; then
        echo "error: fuzz target $target failed (exit $status); the input is in $findings/, the log in .build-fuzz/$target.log:" >&2
        grep -E "ERROR|Fatal error|panic|SUMMARY|Test unit written" ".build-fuzz/$target.log" | head -n 10 >&2 || true
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: ${#failed[@]} of ${#targets[@]} targets found a problem: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, nothing found"
