#!/usr/bin/env bash
# ramp-check.sh: does an open-loop ramp send what its curve asks for, second
# by second?
#
# Runs bench-client --stage 5s:2000/s (a ramp from 0 to 2,000 req/s over 5 s,
# uniform arrivals, 20 connections) against a selector server that
# bench-client starts itself, pinned apart: the server with --server-cpus 0,
# bench-client with taskset -c 1. From the result's per-second timeline it
# prints, for each second, the requests the curve asks for
# (Λ(t + 1) - Λ(t) = 200 (2t + 1): 200, 600, 1000, 1400, 1800) and the
# requests sent, and checks seconds 1 to 4 within 10 % (second 0 holds too
# few requests to judge a share of). About 6 s.
#
# Usage: scripts/ramp-check.sh [-o DIR] [-h]
#   -o, --output DIR  write into DIR (default: a new out/ramp-check-<UTC time>/)
#   -h, --help        this help
#
# Writes ramp.json (the run's result), summary.txt (bench-client's own
# summary, with a line per stage) and report.txt (the table). Exit 0
# when every checked second is within 10 %, 1 when one is not. Nothing is
# committed from this script, so there is no --regenerate.
#
# Needs: cargo, python3, taskset and two CPUs (0 and 1). BENCH_CLIENT=path
# uses that binary instead of building it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

while (($#)); do
    case "$1" in
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
for tool in python3 taskset; do
    command -v "$tool" >/dev/null || die "needs $tool on PATH"
done

output_open ramp-check
BENCH_CLIENT="$(find_binary bench-client)"
exec > >(tee "$OUT_DIR/report.txt")

taskset -c 1 "$BENCH_CLIENT" --server selector --server-cpus 0 \
    --stage 5s:2000/s -c 20 -t 1 --quiet -o "$OUT_DIR/ramp.json" \
    > "$OUT_DIR/summary.txt" || die "the run failed (status $?; see $OUT_DIR/summary.txt)"

status=0
python3 - "$OUT_DIR/ramp.json" <<'PY' || status=1
import json, sys

r = json.load(open(sys.argv[1]))
ok = True
print(f"{'second':>6} {'asked':>8} {'sent':>8} {'off':>7}  checked")
for e in r["timeline"]:
    t, want, got = e["t_s"], e["target_rate"], e["achieved_rate"]
    off = (got - want) / want * 100 if want else 0.0
    checked = 1 <= t <= 4
    good = abs(off) <= 10.0
    ok &= good or not checked
    verdict = ("ok" if good else "MISSED") if checked else "-"
    print(f"{t:>6} {want:>8.0f} {got:>8.0f} {off:>+6.1f}%  {verdict}")
print(f"requests {r['summary']['requests']}, verdict "
      f"{'VALID' if r['verdict']['valid'] else 'NOT VALID: ' + '; '.join(r['verdict']['reasons'])}")
print("ramp followed within 10 %: " + ("yes" if ok else "NO"))
sys.exit(0 if ok else 1)
PY
output_publish
exit "$status"
