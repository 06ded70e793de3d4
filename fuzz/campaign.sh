#!/usr/bin/env bash
# Fuzzes one target for SECONDS of wall time, at nice 19, keeping the
# statistics: `fuzz/campaign.sh TARGET SECONDS [LIBFUZZER FLAGS...]`.
#
# A crash ends a libFuzzer run; the crash input stays in
# fuzz/artifacts/TARGET/ (copy it to fuzz/regressions/TARGET/ to keep it) and
# the target is started again for the time left, so one finding does not
# end the campaign. Each run's output is fuzz/artifacts/logs/TARGET-N.log and
# its CPU time (/usr/bin/time -v) TARGET-N.time: other work on the machine
# can stop or slow the fuzzer, so wall time alone is not what it got.
set -u
target=$1
seconds=$2
shift 2
cd "$(dirname "$0")/.."
logs=fuzz/artifacts/logs
mkdir -p "$logs"
start=$(date +%s)
run=0
while [ "$run" -lt 50 ]; do
    left=$((start + seconds - $(date +%s)))
    [ "$left" -ge 20 ] || break
    run=$((run + 1))
    nice -n 19 /usr/bin/time -v -o "$logs/$target-$run.time" \
        cargo +nightly fuzz run -O "$target" -- \
        -max_total_time="$left" -print_final_stats=1 -timeout=10 "$@" \
        >"$logs/$target-$run.log" 2>&1
    rc=$?
    echo "$(date -u +%FT%TZ) run $run exit $rc" >>"$logs/$target.runs"
    [ "$rc" -eq 0 ] && break
    sleep 5
done
