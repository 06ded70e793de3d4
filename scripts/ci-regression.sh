#!/usr/bin/env bash
# ci-regression.sh: a short fixed benchmark, run several times and compared
# with a committed baseline by `bench-client compare`; prints the Markdown
# table (for a CI comment) and exits with compare's status: 0 pass, 1 a
# significant regression beyond the limit, other values an error.
#
# Usage: scripts/ci-regression.sh [-r RUNS] [-l LIMIT] [-b DIR] [-u | -s] [-h]
#   -r RUNS   runs of the benchmark (default 5; with >= 2 a side compare uses
#             a bootstrap confidence interval, not a bare noise threshold)
#   -l LIMIT  --max-regression, e.g. 10% or p99=20% (default 10%; repeatable)
#   -b DIR    the baseline results (default results/ci-baseline)
#   -u        measure and write a new baseline into DIR instead of comparing
#   -s        self-check, safe for any CI machine: two configurations compared
#             inside one invocation, no baseline. 3 runs each of GET /delay/5
#             twice and GET /delay/10 once (1x1, 1 s): the /delay/5 pair must
#             pass and /delay/10 must fail on p50 (+100 %), with a p50 limit of
#             50 % and the other metrics ungated (1000 %), so machine noise
#             cannot flip either verdict. Exits 0 when both verdicts are right.
#
# The benchmark: the selector server, 10 clients x 4 connections, GET /,
# 2 s measured after 0.5 s warm-up. Baselines are machine-specific: record
# one (-u) on the machine that will run the comparison, and commit it.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

RUNS=5
LIMITS=()
BASELINE=results/ci-baseline
UPDATE=0
SELF_CHECK=0
while getopts "r:l:b:ush" opt; do
    case "$opt" in
        r) RUNS=$OPTARG ;;
        l) LIMITS+=(--max-regression "$OPTARG") ;;
        b) BASELINE=$OPTARG ;;
        u) UPDATE=1 ;;
        s) SELF_CHECK=1 ;;
        h) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done
((${#LIMITS[@]})) || LIMITS=(--max-regression 10%)

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p bench-client
BC="${CARGO_TARGET_DIR:-target}/release/bench-client"

if ((SELF_CHECK)); then
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
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
    echo "$report"
    if ((same == 0 && slower == 1)) && grep -q '^| p50 .*REGRESSION' <<<"$report"; then
        echo "self-check passed: same configuration passes, /delay/10 vs /delay/5 fails on p50"
        exit 0
    fi
    echo "self-check FAILED: same configuration exit $same (want 0), /delay/10 exit $slower (want 1 with p50 flagged)" >&2
    exit 1
fi

if ((UPDATE)); then
    out=$BASELINE
    mkdir -p "$out"
    rm -f "$out"/run-*.json
else
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi

for i in $(seq 1 "$RUNS"); do
    "$BC" --server selector --max-clients 10 --max-conns 4 -d 2s --warmup 500ms \
        --label ci-regression --quiet -o "$out/run-$i.json" >/dev/null
done

if ((UPDATE)); then
    echo "wrote $RUNS baseline runs to $out; commit them"
    exit 0
fi

shopt -s nullglob
baseline=("$BASELINE"/run-*.json)
if ((${#baseline[@]} == 0)); then
    echo "no baseline in $BASELINE: record one with $0 -u" >&2
    exit 2
fi
status=0
"$BC" compare "${baseline[@]}" --against "$out"/run-*.json --format markdown "${LIMITS[@]}" || status=$?
exit "$status"
