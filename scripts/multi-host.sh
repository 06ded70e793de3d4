#!/usr/bin/env bash
# multi-host.sh: a distributed run on one machine. Network namespaces stand in
# for hosts: one for the server and K for the generators, each generator
# with its own address on a bridge. A reference server runs in its
# namespace; K bench-client shards (--shard I/K, one --run-id) start at one
# absolute --start-at; mid-run each shard's /metrics is scraped once and
# parsed with a real OpenMetrics parser (Python's prometheus_client); then
# the shards are merged and checked:
#   - the merged request count equals the server's totals exactly (-n runs:
#     every request the shards make is one the server answers; no warm-up);
#   - the merged latency histogram's count equals the sum of the shards'
#     (decoded with Python's hdrhistogram, an independent reader);
#   - the actual starts are within 50 ms of each other. The namespaces share
#     one kernel clock, so this checks scheduling and the start logic, not
#     clock synchronisation.
# Needs root (ip netns, veth, a bridge) and fails, never skips, when the
# namespaces cannot be made. Cleans up its namespaces on every exit path.
#
# Usage: scripts/multi-host.sh [-k K] [--short] [--pin] [-o DIR | --regenerate] [-h]
#   -k K              generator namespaces (default 3, at least 2)
#   --short           the CI form: K=3, 3,000 requests at 1,500 req/s
#   --pin             pin shard I to CPU (I mod cores) and the server to the
#                     last CPU, to measure the start spread with shards on
#                     separate cores (as far as the machine has cores)
#   -o, --output DIR  write into DIR (default: a new out/multi-host-<UTC time>/)
#   --regenerate      rewrite the committed results/multi-host/
#   -h, --help        this help
#
# Environment: REQUESTS=12000 RATE=3000 (so the run lasts REQUESTS/RATE s)
#   CONNS=12 (the whole run's connections, split over the shards)
#   MARGIN=3 (seconds from now to --start-at) MODEL=selector
#   BENCH_CLIENT=path, SKIP_BUILD=1 (see scripts/lib.sh)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=3
SHORT=0
PIN=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -k) K="$(opt_value "$@")"; shift 2 ;;
        --short) SHORT=1; shift ;;
        --pin) PIN=1; shift ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        --regenerate) REGENERATE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if ! [[ "$K" =~ ^[0-9]+$ ]] || ((K < 2 || K > 50)); then
    usage_error "-k needs a whole number from 2 to 50, not '$K'"
fi
REQUESTS="${REQUESTS:-12000}"
RATE="${RATE:-3000}"
CONNS="${CONNS:-12}"
MARGIN="${MARGIN:-3}"
MODEL="${MODEL:-selector}"
if ((SHORT)); then
    K=3 REQUESTS=3000 RATE=1500 CONNS=6
fi

[[ $EUID -eq 0 ]] || die "needs root to make network namespaces (ip netns); run it as root"
command -v ip >/dev/null || die "needs ip (iproute2): apt-get install -y iproute2"
python3 -c 'import prometheus_client.openmetrics.parser, hdrh.histogram' 2>/dev/null \
    || die "needs Python's prometheus_client and hdrhistogram: python3 -m pip install prometheus-client hdrhistogram"

output_open multi-host results/multi-host
BC="$(find_binary bench-client)"
cd "$OUT_DIR"

# Namespace names carry the PID, so that two runs never collide, and the
# cleanup removes exactly this run's.
TAG="bcmh$$"
SRV="$TAG-srv"
NET=10.233.$(( $$ % 200 + 20 ))
cleanup() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$TAG-" || true); do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del "$ns" 2>/dev/null || true
    done
}
on_exit cleanup

ip netns add "$SRV" || die "cannot create network namespace $SRV (are namespaces allowed here?)"
ip -n "$SRV" link set lo up
ip -n "$SRV" link add br0 type bridge
ip -n "$SRV" addr add "$NET.1/24" dev br0
ip -n "$SRV" link set br0 up
for ((i = 0; i < K; i++)); do
    ns="$TAG-g$i"
    ip netns add "$ns" || die "cannot create network namespace $ns"
    ip -n "$ns" link set lo up
    ip link add "${TAG}v$i" netns "$ns" type veth peer name "${TAG}p$i" netns "$SRV" \
        || die "cannot make the veth pair for $ns"
    ip -n "$ns" link set "${TAG}v$i" name eth0
    ip -n "$ns" addr add "$NET.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$SRV" link set "${TAG}p$i" master br0
    ip -n "$SRV" link set "${TAG}p$i" up
done

cores="$(nproc)"
server_pin=()
((PIN)) && server_pin=(taskset -c "$((cores - 1))")
ip netns exec "$SRV" "${server_pin[@]}" "$BC" serve "$MODEL" --addr "$NET.1:0" >server.out 2>server.err &
SERVER_PID=$!
on_exit "kill $SERVER_PID 2>/dev/null || true"
addr="$(wait_listen_addr server.out "$SERVER_PID")"
for ((i = 0; i < K; i++)); do
    # A bare connect: a request would be one the shards did not make.
    ip netns exec "$TAG-g$i" timeout 5 bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr##*:}" \
        || die "generator $i cannot reach the server at $addr"
done

RUN_ID="multi-host-$(date -u +%Y%m%dT%H%M%SZ)-$$"
START_AT="$(start_time "$MARGIN")"
start_epoch="$(date -u -d "$START_AT" +%s)"
echo "run $RUN_ID: $K shards, $REQUESTS requests at $RATE req/s over $CONNS connections, http://$addr/ ($MODEL), start at $START_AT"
pids=()
for ((i = 0; i < K; i++)); do
    pin=()
    ((PIN)) && pin=(taskset -c "$((i % cores))")
    ip netns exec "$TAG-g$i" "${pin[@]}" "$BC" "http://$addr/" \
        --shard "$i/$K" --run-id "$RUN_ID" --start-at "$START_AT" \
        -n "$REQUESTS" -R "$RATE" -c "$CONNS" -t 1 \
        --metrics-addr "$NET.$((10 + i)):9464" \
        -q -o "shard-$i.json" >"shard-$i.out" 2>"shard-$i.err" &
    pids+=($!)
done

# Mid-run: halfway through the run, scrape every shard once (all at once),
# from the server's namespace (the bridge reaches every generator).
sleep "$(python3 -c "import time; print(max(0.0, $start_epoch + $REQUESTS / $RATE / 2 - time.time()))")"
scrapes=()
for ((i = 0; i < K; i++)); do
    ip netns exec "$SRV" curl -sS --max-time 5 "http://$NET.$((10 + i)):9464/metrics" >"metrics-$i.txt" &
    scrapes+=($!)
done
for ((i = 0; i < K; i++)); do
    wait "${scrapes[i]}" || die "cannot scrape shard $i's /metrics at $NET.$((10 + i)):9464"
done

failed=0
for ((i = 0; i < K; i++)); do
    wait "${pids[i]}" || { echo "shard $i exited with status $?: $(cat "shard-$i.err")" >&2; failed=1; }
done
((failed == 0)) || die "a shard failed"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
"$BC" merge shard-*.json -o merged.json >merge.out 2>merge.err || die "merge failed: $(cat merge.err)"

# `|| status=1`: set -e must not end the script before the checks' output
# is shown.
status=0
python3 - "$K" >checks.txt <<'EOF' || status=1
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from hdrh.histogram import HdrHistogram
from datetime import datetime

k = int(sys.argv[1])
shards = [json.load(open(f"shard-{i}.json")) for i in range(k)]
merged = json.load(open("merged.json"))
totals = None
for line in open("server.out"):
    if line.startswith("{"):
        totals = json.loads(line)
problems = []

def count(result):
    return HdrHistogram.decode(result["latency"]["hdr"]).get_total_count()

client = merged["summary"]["requests"]
server = totals["requests"] if totals else None
print(f"requests: merged {client}, server {server}, shards {[s['summary']['requests'] for s in shards]}")
if server != client:
    problems.append(f"merged requests {client} != server's totals {server}")
hist = [count(s) for s in shards]
print(f"histogram counts: merged {count(merged)}, shards {hist} (sum {sum(hist)})")
if count(merged) != sum(hist):
    problems.append("merged histogram count != sum of the shards'")
starts = [datetime.fromisoformat(s["start"]["actual"].replace("Z", "+00:00")) for s in shards]
spread_ms = (max(starts) - min(starts)).total_seconds() * 1000
late = [s["start"]["late_ms"] for s in shards]
print(f"actual starts: spread {spread_ms:.3f} ms; late by {', '.join(f'{x:.3f}' for x in late)} ms")
if spread_ms > 50:
    problems.append(f"start spread {spread_ms:.1f} ms > 50 ms")
rates = sum(s["summary"]["requests_per_sec"] for s in shards)
print(f"rate: merged {merged['summary']['requests_per_sec']:.1f} req/s, sum of shards {rates:.1f} req/s")
for i in range(k):
    fams = {f.name: f for f in text_string_to_metric_families(open(f"metrics-{i}.txt").read())}
    need = ["bench_requests", "bench_errors", "bench_in_flight", "bench_rate_achieved", "bench_latency_seconds"]
    missing = [n for n in need if n not in fams]
    if missing:
        problems.append(f"shard {i}'s /metrics lacks {missing}")
        continue
    req = sum(s.value for s in fams["bench_requests"].samples)
    print(f"shard {i} /metrics mid-run: {len(fams)} families, requests so far {req:.0f}")
for p in problems:
    print(f"FAILED: {p}")
sys.exit(1 if problems else 0)
EOF
cat checks.txt
((status == 0)) || die "checks failed (see $OUT_DIR/checks.txt)"
output_publish 'shard-*' 'metrics-*' 'merge*' 'server.*' checks.txt
