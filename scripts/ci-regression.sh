#!/usr/bin/env bash
# ci-regression.sh: a short fixed benchmark, run several times and compared
# with a committed baseline by `bench-client compare`; prints the Markdown
# table (for a CI comment) and exits with compare's status: 0 pass, 1 a
# significant regression beyond the limit, other values an error.
#
# Usage: scripts/ci-regression.sh [-r RUNS] [-l LIMIT] [-b DIR] [-s] [-o DIR | --regenerate] [-h]
#   -r, --runs RUNS       runs of the benchmark (default 5; with >= 2 a side
#                         compare uses a bootstrap confidence interval, not a
#                         bare noise threshold)
#   -l, --limit LIMIT     --max-regression, e.g. 10% or p99=20% (default 10%;
#                         repeatable)
#   -b, --baseline DIR    the baseline results (default results/ci-baseline)
#   -s, --self-check      safe for any CI machine: two configurations compared
#                         inside one invocation, no baseline. 3 runs each of
#                         GET /delay/5 twice and GET /delay/10 once (1x1, 1 s):
#                         the /delay/5 pair must pass and /delay/10 must fail on
#                         p50 (+100 %), with a p50 limit of 50 % and the other
#                         metrics ungated (1000 %), so machine noise cannot flip
#                         either verdict. Exits 0 when both verdicts are right.
#                         About 12 s.
#   -o, --output DIR      write into DIR (default: a new out/ci-regression-<UTC time>/)
#   --regenerate, -u      measure a new baseline and replace results/ci-baseline/
#                         (every run-*.json) with it instead of comparing
#   -h, --help            this help
#
# The benchmark: the selector server, 10 clients x 4 connections, GET /,
# 2 s measured after 0.5 s warm-up: about 3 s a run, 15 s with the default 5
# runs, plus the release build. Baselines are machine-specific: record one
# (--regenerate) on the machine that will run the comparison, and commit it.
#
# Writes the runs (run-N.json; with -s a-N, b-N, c-N.json) and the Markdown
# table (report.md) into the output folder.
# BENCH_CLIENT=path uses that binary instead of building it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=5
LIMITS=()
BASELINE="$ROOT/results/ci-baseline"
SELF_CHECK=0
while (($#)); do
    case "$1" in
        -r|--runs) RUNS="$(opt_value "$@")"; shift 2 ;;
        -l|--limit) LIMITS+=(--max-regression "$(opt_value "$@")"); shift 2 ;;
        -b|--baseline) BASELINE="$(realpath -m -- "$(opt_value "$@")")"; shift 2 ;;
        -s|--self-check) SELF_CHECK=1; shift ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -u|--regenerate) REGENERATE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage_error "--runs must be a positive whole number, got '$RUNS'"
((${#LIMITS[@]})) || LIMITS=(--max-regression 10%)
((!(SELF_CHECK && REGENERATE))) || usage_error "-s and --regenerate exclude each other"

if ((!REGENERATE && !SELF_CHECK)); then
    shopt -s nullglob
    baseline=("$BASELINE"/run-*.json)
    shopt -u nullglob
    ((${#baseline[@]})) || usage_error "no baseline in $BASELINE: record one with $0 --regenerate"
fi

output_open ci-regression results/ci-baseline
BC="$(find_binary bench-client)"
dir="$OUT_DIR"

if ((SELF_CHECK)); then
    for i in 1 2 3; do
        for run in a:5 b:5 c:10; do
            "$BC" --server selector --max-clients 1 --max-conns 1 -d 1s --quiet \
                -o "$dir/${run%%:*}-$i.json" "http://127.0.0.1:8888/delay/${run#*:}" >/dev/null
        done
    done
    gate=(--max-regression 1000% --max-regression p50=50% --format markdown)
    same=0
    "$BC" compare "$dir"/a-*.json --against "$dir"/b-*.json "${gate[@]}" || same=$?
    slower=0
    report=$("$BC" compare "$dir"/a-*.json --against "$dir"/c-*.json --force "${gate[@]}") || slower=$?
    echo "$report" | tee "$dir/report.md"
    output_publish
    if ((same == 0 && slower == 1)) && grep -q '^| p50 .*REGRESSION' <<<"$report"; then
        echo "self-check passed: same configuration passes, /delay/10 vs /delay/5 fails on p50"
        exit 0
    fi
    echo "self-check FAILED: same configuration exit $same (want 0), /delay/10 exit $slower (want 1 with p50 flagged)" >&2
    exit 1
fi

for i in $(seq 1 "$RUNS"); do
    "$BC" --server selector --max-clients 10 --max-conns 4 -d 2s --warmup 500ms \
        --label ci-regression --quiet -o "$dir/run-$i.json" >/dev/null
done

if ((REGENERATE)); then
    # The baseline is the runs, all of them: older run-N.json beyond RUNS go too.
    output_publish 'run-*.json'
    exit 0
fi

status=0
"$BC" compare "${baseline[@]}" --against "$dir"/run-*.json --format markdown "${LIMITS[@]}" \
    | tee "$dir/report.md" || status=$?
output_publish
exit "$status"
