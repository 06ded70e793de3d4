#!/usr/bin/env bash
# start-spread.sh: how closely K shards started with one absolute --start-at
# begin their measured phase, each shard pinned to its own core and a
# selector server pinned to the last core (all on 127.0.0.1; no namespaces,
# so it runs without root). For each K in KS and each of ROUNDS rounds it
# prints the spread of the shards' actual starts (`start.actual`), the
# worst lateness (`start.late_ms`), the merged requests against the shards'
# sum and the merged rate against the sum of the shards' rates; at the end
# the server's totals line, which must equal the requests of every round
# together. The scripts/multi-host.sh check runs shards in namespaces; this
# one measures the start on a machine with a core per shard.
#
# Usage: scripts/start-spread.sh [-o DIR] [-h]
#   -o, --output DIR  write into DIR (default: a new out/start-spread-<UTC time>/)
#   -h, --help        this help
#
# Environment: KS="3 8 12" ROUNDS=3 (each K needs K + 1 cores)
#   BENCH_CLIENT=path, SKIP_BUILD=1 (see scripts/lib.sh)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

while [[ $# -gt 0 ]]; do
    case "$1" in
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
KS="${KS:-3 8 12}"
ROUNDS="${ROUNDS:-3}"
cores="$(nproc)"
for K in $KS; do
    ((K + 1 <= cores)) || die "K=$K shards need $((K + 1)) cores (one each and one for the server); this machine has $cores: set KS"
done
output_open start-spread
BC="$(find_binary bench-client)"
cd "$OUT_DIR"
echo "cores $cores, kernel $(uname -r)" | tee spread.txt
taskset -c $((cores - 1)) "$BC" serve selector --addr 127.0.0.1:0 >server.out 2>server.err &
SRV=$!
on_exit "kill $SRV 2>/dev/null || true"
addr="$(wait_listen_addr server.out "$SRV")"
for K in $KS; do
    for ((r = 1; r <= ROUNDS; r++)); do
        start="$(start_time 3)"
        pids=()
        for ((i = 0; i < K; i++)); do
            taskset -c "$i" "$BC" "http://$addr/" --shard "$i/$K" --run-id "spread-$K-$r" --start-at "$start" \
                -n $((2000 * K)) -R $((1000 * K)) -c $((2 * K)) -t 1 -q -o "k$K-r$r-s$i.json" >/dev/null 2>&1 &
            pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p" || die "a shard of K=$K round $r failed"; done
        "$BC" merge k"$K"-r"$r"-s*.json -o "k$K-r$r-merged.json" >/dev/null 2>merge.err \
            || die "merge of K=$K round $r failed: $(cat merge.err)"
        python3 - "$K" "$r" <<'PY' | tee -a spread.txt
import json, sys
from datetime import datetime
k, r = int(sys.argv[1]), sys.argv[2]
shards = [json.load(open(f"k{k}-r{r}-s{i}.json")) for i in range(k)]
starts = [datetime.fromisoformat(s["start"]["actual"].replace("Z", "+00:00")) for s in shards]
spread = (max(starts) - min(starts)).total_seconds() * 1000
merged = json.load(open(f"k{k}-r{r}-merged.json"))
late = max(s["start"]["late_ms"] for s in shards)
print(f"K={k} round {r}: spread {spread:.3f} ms, late max {late:.3f} ms, "
      f"requests {merged['summary']['requests']} (sum {sum(s['summary']['requests'] for s in shards)}), "
      f"merged {merged['summary']['requests_per_sec']:.1f} req/s vs sum "
      f"{sum(s['summary']['requests_per_sec'] for s in shards):.1f}, "
      f"clock synchronized={shards[0]['start']['clock']['synchronized']}")
PY
    done
done
kill -TERM "$SRV"
wait "$SRV" || true
grep '^{' server.out | tee -a spread.txt
output_publish "$@"
