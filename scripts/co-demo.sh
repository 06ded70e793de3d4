#!/usr/bin/env bash
# co-demo.sh: coordinated omission, shown on a real server.
#
# Starts a selector reference server (`bench-client serve selector`) and runs
# bench-client three times against it, one after the other, with CONNS
# connections (one client):
#
#   1. open loop (-R RATE, DURATION), while the script freezes the server
#      (SIGSTOP) for FREEZE_FOR seconds at about t = FREEZE_AT, then lets it
#      go on (SIGCONT): latency from each request's intended send time
#      ("corrected") and from its actual send ("uncorrected");
#   2. closed loop (no -R, DURATION), the same connections and the same
#      freeze: what most benchmarks report;
#   3. a control, not frozen: open loop at DELAY_RATE for DELAY_DURATION
#      against `/delay/DELAY_MS`, which answers after exactly DELAY_MS.
#
# Passes (exit 0) when the corrected p99 of run 1 is at least 0.7 x
# FREEZE_FOR while the uncorrected p99 stays near the unloaded latency (the
# closed loop hides the freeze), and in run 3 the corrected p50 is within
# 1 ms of DELAY_MS and the achieved rate within 1 % of DELAY_RATE; else 1.
# About 30 s with the defaults, plus the release build.
#
# Usage: scripts/co-demo.sh [-o DIR | --regenerate] [-h]
#   -o, --output DIR  write into DIR (default: a new out/co-demo-<UTC time>/)
#   --regenerate      rewrite the committed results/co-demo/ (all its files)
#   -h, --help        this help
#
# Writes, per run NAME (open-loop, closed-loop, delay-control): NAME.json
# (the result), NAME.txt (bench-client's text report) and NAME.err (its
# stderr, only when not empty); summary.txt, the table printed at the end.
#
# Environment: RATE=2000 DURATION=10s CONNS=20 FREEZE_AT=4 FREEZE_FOR=1
#   DELAY_MS=20 DELAY_RATE=200 DELAY_DURATION=5s
#   BENCH_CLIENT=path/to/bench-client (default: built with cargo --release)
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE="${RATE:-2000}"
DURATION="${DURATION:-10s}"
CONNS="${CONNS:-20}"
FREEZE_AT="${FREEZE_AT:-4}"
FREEZE_FOR="${FREEZE_FOR:-1}"
DELAY_MS="${DELAY_MS:-20}"
DELAY_RATE="${DELAY_RATE:-200}"
DELAY_DURATION="${DELAY_DURATION:-5s}"

while (($#)); do
    case "$1" in
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        --regenerate) REGENERATE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

output_open co-demo results/co-demo
BENCH_CLIENT="$(find_binary bench-client)"
TMP="$(mktemp -d)"
SERVER=""

# shellcheck disable=SC2317  # called through on_exit
cleanup() {
    if [[ -n "$SERVER" ]] && kill -0 "$SERVER" 2>/dev/null; then
        kill -CONT "$SERVER" 2>/dev/null || true
        kill -TERM "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
on_exit cleanup

"$BENCH_CLIENT" serve selector --addr 127.0.0.1:0 > "$TMP/server.out" 2> "$TMP/server.err" &
SERVER=$!
ADDR="$(wait_listen_addr "$TMP/server.out" "$SERVER")"

freeze() {
    sleep "$FREEZE_AT"
    kill -STOP "$SERVER"
    sleep "$FREEZE_FOR"
    kill -CONT "$SERVER"
}

# run NAME FREEZE(yes|no) URL-PATH ARGS...: one bench-client run, text kept beside the JSON.
run() {
    local name="$1" frozen="$2" path="$3"
    shift 3
    local pid=""
    if [[ "$frozen" == yes ]]; then freeze & pid=$!; fi
    "$BENCH_CLIENT" "http://$ADDR$path" --max-conns "$CONNS" -q --label "co-demo-$name" \
        -o "$OUT_DIR/$name.json" "$@" > "$OUT_DIR/$name.txt" 2> "$OUT_DIR/$name.err" \
        || die "bench-client failed in the $name run: $(tail -n 3 "$OUT_DIR/$name.err")"
    if [[ -n "$pid" ]]; then wait "$pid"; fi
}

{
echo "server: selector at $ADDR; frozen for ${FREEZE_FOR} s at t = ${FREEZE_AT} s of each ${DURATION} run; $CONNS connections"
run open-loop yes / -R "$RATE" -d "$DURATION"
run closed-loop yes / -d "$DURATION"
run delay-control no "/delay/$DELAY_MS" -R "$DELAY_RATE" -d "$DELAY_DURATION"
} | tee "$OUT_DIR/summary.txt"

# With pipefail the pipeline's status is python's verdict (tee succeeds).
status=0
python3 - "$OUT_DIR" "$RATE" "$DELAY_MS" "$DELAY_RATE" "$FREEZE_FOR" <<'PY' | tee -a "$OUT_DIR/summary.txt" || status=$?
import json, sys
out, rate, delay_ms, delay_rate, freeze_for = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
def load(name):
    with open(f"{out}/{name}.json") as f:
        return json.load(f)
def ms(us):
    return f"{us / 1000:9.3f} ms"
o, c, d = load("open-loop"), load("closed-loop"), load("delay-control")
unc = o["latency_uncorrected"]
print()
print(f"{'':34}{'p50':>12}{'p99':>12}{'p99.9':>12}{'max':>12}{'requests':>10}")
rows = [
    (f"open loop -R {rate:g}, corrected", o["latency"], o["summary"]["requests"]),
    (f"open loop -R {rate:g}, uncorrected", unc, o["summary"]["requests"]),
    ("closed loop (same connections)", c["latency"], c["summary"]["requests"]),
]
for label, lat, n in rows:
    p = lat["percentiles"]
    print(f"{label:34}{ms(p['50'])}{ms(p['99'])}{ms(p['99.9'])}{ms(lat['max'])}{n:>10}")
s = o["summary"]
print(f"\nopen loop: target {s['target_rate']:g} req/s, achieved {s['achieved_rate']:.1f} req/s, "
      f"late sends (> 1 ms) {s['late_sends']} of {s['requests'] + s['errors']}")
p99 = o["latency"]["percentiles"]["99"]
# A request due at the start of the freeze waits all of it; a p99 of at least
# 0.7 x the freeze shows that the corrected latency saw it.
need = 0.7 * freeze_for
ok = p99 >= need * 1e6
print(f"corrected p99 {p99 / 1e6:.3f} s  (>= {need:g} s: {'yes' if ok else 'NO'}); "
      f"uncorrected p99 {unc['percentiles']['99'] / 1000:.3f} ms; "
      f"closed-loop p99 {c['latency']['percentiles']['99'] / 1000:.3f} ms")
dp50 = d["latency"]["percentiles"]["50"] / 1000
dach = d["summary"]["achieved_rate"]
ok_d = abs(dp50 - delay_ms) <= 1.0 and abs(dach - delay_rate) <= 0.01 * delay_rate
print(f"control /delay/{delay_ms:g} at {delay_rate:g} req/s: corrected p50 {dp50:.3f} ms "
      f"(within 1 ms of {delay_ms:g}: {'yes' if abs(dp50 - delay_ms) <= 1.0 else 'NO'}), "
      f"achieved {dach:.1f} req/s (within 1 %: {'yes' if abs(dach - delay_rate) <= 0.01 * delay_rate else 'NO'})")
for name, r in (("open-loop", o), ("delay-control", d)):
    p = r["summary"].get("pacing")
    if p:
        print(f"{name} pacing: {p['timer_sends']} sends on their timer went out "
              f"p50 {p['schedule_error_p50_us']} us, p99 {p['schedule_error_p99_us']} us, "
              f"max {p['schedule_error_max_us']} us late; {r['summary']['late_sends']} late sends "
              f"(> 1 ms), {p['late_sends_busy']} of them due while the connection was busy")
sys.exit(0 if ok and ok_d else 1)
PY
((status == 0)) || [[ "$REGENERATE" == 0 ]] || die "the run did not pass; not regenerating"
output_publish '*'
exit "$status"
