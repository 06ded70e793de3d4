#!/usr/bin/env bash
# find-max-check.sh: `bench-client find-max` against servers whose capacity
# is known by construction, and the verdict on a run whose generator is the
# bottleneck.
#
#   1. find-max on the sync server (one connection at a time, keep-alive off,
#      so --connection-per-request) with the objective --slo 'p99<100ms':
#      GET /delay/10 answers at most 100 req/s, GET /delay/20 at most 50.
#      Connections are sized by find-max (rate x 100 ms x 2). Each passes
#      when the rate found is at or below its ceiling and within 15 % of it.
#   2. The verdict: a closed loop (64 connections, 1 thread, 2 s) with
#      bench-client pinned (taskset) to CPU 1 beside a busy process (`yes`,
#      pinned there too) against the selector server pinned to CPU 0 must be
#      NOT VALID; a light run (-R 200 for 2 s, 4 connections) against the
#      same server, without the busy process, must be VALID.
#
# Exits 0 when all four checks pass, 1 otherwise. Timing: it needs at least
# 2 CPUs and a quiet machine.
#
# Usage: scripts/find-max-check.sh [-q] [-o DIR] [-h]
#   -q, --quick       short searches: trials of 2 s after 500 ms warm-up,
#                     2 repeats at the boundary, a 75 s budget each (about
#                     3 minutes in all); default: find-max's own defaults
#                     (10 s trials after 2 s, 3 repeats, 5 min each: about
#                     11 minutes)
#   -o, --output DIR  write into DIR (default: a new out/find-max-check-<UTC time>/)
#   -h, --help        this help
#
# Writes delay10/ and delay20/ (find-max's folders: every trial, summary.json,
# knee.svg), generator-bound.json and light.json (with their .txt reports),
# and summary.txt, the table printed at the end.
# BENCH_CLIENT=path uses that binary instead of building it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

QUICK=0
while (($#)); do
    case "$1" in
        -q|--quick) QUICK=1; shift ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
(($(nproc) >= 2)) || die "needs at least 2 CPUs (found $(nproc))"

output_open find-max-check
BC="$(find_binary bench-client)"
dir="$OUT_DIR"
SEARCH=()
((QUICK)) && SEARCH=(--trial-duration 2s --warmup 500ms --repeats 2 --budget 75s)
failed=0
report=()

# find_max NAME PATH CEILING: one search; checks found <= ceiling, >= 85 %.
find_max() {
    local name="$1" path="$2" ceiling="$3" found
    echo "== find-max, sync server, GET $path (ceiling $ceiling req/s), --slo 'p99<100ms'"
    "$BC" find-max --server sync --connection-per-request --slo 'p99<100ms' \
        --start-rate 25 "${SEARCH[@]}" -o "$dir/$name" "http://127.0.0.1/$path" \
        | tee "$dir/$name.txt" || true
    found="$(jq -r '.max_rate // "none"' "$dir/$name/summary.json" 2>/dev/null || echo none)"
    local verdict=FAIL
    if [[ "$found" != none ]] && awk -v f="$found" -v c="$ceiling" 'BEGIN { exit !(f <= c && f >= 0.85 * c) }'; then
        verdict=pass
    else
        failed=1
    fi
    report+=("$(printf '%-22s ceiling %6s req/s  found %8s req/s  %s' "GET $path" "$ceiling" "$found" "$verdict")")
}

find_max delay10 delay/10 100
find_max delay20 delay/20 50

# verdict_run NAME WANT [ARGS...]: one run against the selector server on CPU 0.
verdict_run() {
    local name="$1" want="$2"
    shift 2
    "$@" --server selector --server-cpus 0 -d 2s --quiet -o "$dir/$name.json" \
        >"$dir/$name.txt" 2>&1 || true
    local got
    got="$(jq -r 'if .verdict.valid then "VALID" else "NOT VALID" end' "$dir/$name.json" 2>/dev/null || echo "no result")"
    local verdict=pass
    [[ "$got" == "$want" ]] || { verdict=FAIL; failed=1; }
    echo "== $name: $(grep -E '^(NOT )?VALID' "$dir/$name.txt" || echo "$got")"
    report+=("$(printf '%-22s want %-9s got %-9s  %s' "$name" "$want" "$got" "$verdict")")
}

taskset -c 1 yes >/dev/null &
BUSY=$!
on_exit "kill $BUSY 2>/dev/null"
verdict_run generator-bound "NOT VALID" taskset -c 1 "$BC" -c 64 -t 1
kill "$BUSY" 2>/dev/null || true
wait "$BUSY" 2>/dev/null || true
verdict_run light VALID taskset -c 1 "$BC" -c 4 -t 1 -R 200

printf '%s\n' "${report[@]}" | tee "$dir/summary.txt"
output_publish
((failed == 0)) || { echo "find-max-check FAILED" >&2; exit 1; }
echo "find-max-check passed"
