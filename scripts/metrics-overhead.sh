#!/usr/bin/env bash
# metrics-overhead.sh: what --metrics-addr costs bench-client per request.
#
# Usage: scripts/metrics-overhead.sh [-o DIR | --regenerate] [-h]
#   -o, --output DIR  write into DIR (default: a new out/metrics-overhead-<UTC time>/)
#   --regenerate      rewrite the committed results/metrics-overhead/overhead.txt
#                     and scrape.txt (not its README.md)
#   -h, --help        this help
# About 1 minute with the defaults (5 rounds x 2 runs x 5 s), plus the
# release build.
#
# What it does:
#   1. Starts the release selector-server on 127.0.0.1:0, pinned to
#      SERVER_CPU (a process of its own, so that the client's CPU time
#      does not include the server's).
#   2. ROUNDS rounds, each one closed-loop run without --metrics-addr and
#      one with it (`off` first in odd rounds, `on` first in even ones):
#      bench-client -c CONNS -t 1 -d DURATION, pinned to CLIENT_CPU, its CPU
#      (user + system) from /usr/bin/time. During an `on` run a scraper
#      (curl, pinned to SERVER_CPU) GETs /metrics every second, as a
#      Prometheus would (more often than its default 15 s).
#   3. Prints every run (req/s, requests, client CPU s, CPU s per 100k
#      requests, scrapes answered), then per setting the median and the
#      range of CPU s per 100k requests and of req/s, and the median of the
#      same-round ratios on/off (so that load drifting between rounds
#      cancels). Writes overhead.txt (everything printed) and scrape.txt (the
#      last scrape of the last `on` run, as served).
#
# Environment: ROUNDS=5 DURATION=5 CONNS=32 SERVER_CPU=0 CLIENT_CPU=1
#   BENCH_CLIENT=path, SELECTOR_SERVER=path, SKIP_BUILD=1 (see lib.sh)
#
# Needs: python3, curl, taskset, /usr/bin/time (GNU time); Linux. Talks to
# 127.0.0.1 only. Figures from a shared or busy machine are rough: read the
# ratio within a round and the spread across rounds, not single runs.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
CONNS="${CONNS:-32}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"

while (($#)); do
    case "$1" in
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        --regenerate) REGENERATE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
for v in ROUNDS DURATION CONNS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || usage_error "$v must be a positive whole number, got '${!v}'"
done
for cmd in python3 curl taskset /usr/bin/time; do
    command -v "$cmd" >/dev/null || die "needs $cmd"
done

output_open metrics-overhead results/metrics-overhead
BC="$(find_binary bench-client)"
SELECTOR="$(find_binary selector-server)"
TMP="$(mktemp -d)"
server_pid=""
scraper_pid=""
# shellcheck disable=SC2317  # called through on_exit
cleanup() {
    if [[ -n "$scraper_pid" ]]; then kill "$scraper_pid" 2>/dev/null || true; fi
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
on_exit cleanup
say() { echo "$*" | tee -a "$OUT_DIR/overhead.txt"; }

taskset -c "$SERVER_CPU" "$SELECTOR" --addr 127.0.0.1:0 >"$TMP/server.out" 2>"$TMP/server.err" &
server_pid=$!
addr="$(wait_listen_addr "$TMP/server.out" "$server_pid")"
say "selector-server on $addr (CPU $SERVER_CPU); bench-client -c $CONNS -t 1 -d ${DURATION}s on CPU $CLIENT_CPU;" \
    "$ROUNDS rounds of one run without and one with --metrics-addr (scraped every 1 s)"
say "$(uname -r), $(nproc) CPUs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run SETTING ROUND: one timed run; appends "setting round rps requests cpu scrapes" to $TMP/rows.
run() {
    local setting="$1" round="$2" metrics=() port=""
    rm -f "$TMP/r.json" "$TMP/time" "$TMP/scrapes"
    if [[ "$setting" == on ]]; then
        port="$(free_port)"
        metrics=(--metrics-addr "127.0.0.1:$port")
    fi
    taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S" -o "$TMP/time" \
        "$BC" "http://$addr/" -c "$CONNS" -t 1 -d "${DURATION}s" "${metrics[@]}" \
        -q -o "$TMP/r.json" >"$TMP/client.out" 2>"$TMP/client.err" &
    local pid=$!
    if [[ -n "$port" ]]; then
        # Every second while the run goes; a scrape that finds the port
        # not yet (or no longer) open counts as nothing.
        ( while kill -0 "$pid" 2>/dev/null; do
              if taskset -c "$SERVER_CPU" curl -sf --max-time 1 -o "$TMP/scrape.new" "http://127.0.0.1:$port/metrics"; then
                  mv "$TMP/scrape.new" "$TMP/scrape.txt"
                  echo x >>"$TMP/scrapes"
              fi
              sleep 1
          done ) &
        scraper_pid=$!
    fi
    wait "$pid" || die "bench-client ($setting, round $round) failed: $(tail -n 3 "$TMP/client.err")"
    if [[ -n "$scraper_pid" ]]; then
        wait "$scraper_pid" 2>/dev/null || true
        scraper_pid=""
    fi
    local scrapes=0
    [[ -f "$TMP/scrapes" ]] && scrapes="$(wc -l <"$TMP/scrapes")"
    local rps n user sys
    read -r rps n < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["requests_per_sec"], s["requests"])' "$TMP/r.json")
    read -r user sys < <(tail -n 1 "$TMP/time")
    echo "$setting $round $rps $n $user $sys $scrapes" >>"$TMP/rows"
    say "$(python3 -c '
import sys
setting, rnd, rps, n, user, sys_, scrapes = sys.argv[1:]
cpu = float(user) + float(sys_)
print(f"  round {rnd} {setting:<3} {float(rps):9.0f} req/s {int(n):9d} requests {cpu:6.2f} CPU s "
      f"{1e5 * cpu / int(n):7.3f} CPU s/100k  {scrapes} scrapes")' "$setting" "$round" "$rps" "$n" "$user" "$sys" "$scrapes")"
}

for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order=(off on); else order=(on off); fi
    for setting in "${order[@]}"; do run "$setting" "$r"; done
done
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$TMP/rows" <<'PY' | tee -a "$OUT_DIR/overhead.txt"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    setting, rnd, rps, n, user, sys_, scrapes = line.split()
    rows[(setting, int(rnd))] = (float(rps), int(n), float(user) + float(sys_), int(scrapes))
rounds = sorted({r for _, r in rows})
print()
print(f"{'setting':<9}{'median req/s':>13}{'range':>17}{'CPU s/100k':>12}{'range':>17}{'scrapes':>9}")
per = {}
for setting in ("off", "on"):
    runs = [rows[(setting, r)] for r in rounds]
    rps = [x[0] for x in runs]
    cpu = [1e5 * x[2] / x[1] for x in runs]
    per[setting] = cpu
    print(f"{setting:<9}{statistics.median(rps):13.0f}{min(rps):8.0f}-{max(rps):<8.0f}"
          f"{statistics.median(cpu):12.3f}{min(cpu):8.3f}-{max(cpu):<8.3f}{sum(x[3] for x in runs):9d}")
ratios = [rows[("on", r)][2] / rows[("on", r)][1] / (rows[("off", r)][2] / rows[("off", r)][1]) for r in rounds]
rps_ratios = [rows[("on", r)][0] / rows[("off", r)][0] for r in rounds]
print()
print("on/off, same round:  CPU per request " + " ".join(f"{x:.3f}" for x in ratios)
      + f"  median {statistics.median(ratios):.3f}")
print("                     req/s           " + " ".join(f"{x:.3f}" for x in rps_ratios)
      + f"  median {statistics.median(rps_ratios):.3f}")
off = per["off"]
spread = (max(off) - min(off)) / statistics.median(off)
print(f"noise: CPU s/100k without metrics varies by {100 * spread:.1f} % of its median across rounds")
PY
[[ -f "$TMP/scrape.txt" ]] || die "no scrape of /metrics succeeded"
cp "$TMP/scrape.txt" "$OUT_DIR/scrape.txt"
output_publish overhead.txt scrape.txt
