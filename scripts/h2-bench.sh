#!/usr/bin/env bash
# h2-bench.sh: bench-client over HTTP/2 against h2load and oha, on a
# one-worker nginx (scripts/nginx/h2.conf) serving HTTP/1.1, h2c and h2 over
# TLS on three ports of one process; server and clients pinned to different
# cores, rounds interleaved with the tool order flipping, as peer-bench.sh.
#
# Usage: scripts/h2-bench.sh [-o DIR | --regenerate] [-h]
#   -o, --output DIR  write into DIR (default: a new out/h2-bench-<UTC time>/)
#   --regenerate      rewrite the committed results/h2-bench/nginx-h2.txt and
#                     h1-vs-h2.svg (not its README.md)
#   -h, --help        this help
# About 11 minutes with the defaults (5 rounds x 25 runs x 5 s), plus the
# release build.
#
# What it does:
#   1. Starts its own nginx (one worker, pinned to SERVER_CPU) on free ports
#      of 127.0.0.1: HTTP/1.1, h2c (prior knowledge) and h2 over TLS with a
#      self-signed ECDSA certificate made by openssl at start (never
#      committed). /status is nginx's stub_status.
#   2. Exact counts: bench-client -n EXACT_N over h2c (--streams 10) and over
#      TLS (-k), each between two reads of nginx's "requests" counter (the
#      second read counts itself: handled = after - before - 1). Prints
#      `exact: h2c bench-client N = nginx N`, or fails.
#   3. ROUNDS interleaved rounds (the tool order flips every round) of GET /
#      and POST /echo with a 64 KiB body, DURATION seconds each, THREADS
#      thread(s), CONNS connections x STREAMS streams over h2c and x
#      TLS_STREAMS over h2 (TLS): bench-client (--http2 --streams M), h2load
#      (-c CONNS -m M -D DURATION) and oha (--http2 -c CONNS -p M -z); plus
#      bench-client GET / over HTTP/1.1 (CONNS keep-alive connections) for the
#      HTTP/1.1 vs HTTP/2 chart. Clients run on CLIENT_CPU.
#   4. Prints every run (the raw per-round figures), then per row the median
#      req/s of each tool, bench-client's ratio to h2load (the median of
#      same-round ratios), client CPU seconds (user + system, /usr/bin/time)
#      per 100k requests and its ratio to h2load's; then the gate: h2c 32 x
#      10 GET req/s >= 1.0x h2load at CPU per request <= 1.0x h2load.
#   Writes nginx-h2.txt (everything printed) and h1-vs-h2.svg (bench-client
#   GET /: HTTP/1.1 vs h2c x each STREAMS, req/s and CPU per 100k requests).
#
# Environment: ROUNDS=5 DURATION=5 THREADS=1 CONNS=32 STREAMS="1 10 100"
#   TLS_STREAMS=10 EXACT_N=20000 SERVER_CPU=0 CLIENT_CPU=1
#   TOOLS="bench-client h2load oha" (oha is skipped when not installed)
#   BENCH_CLIENT=path, SKIP_BUILD=1 (see lib.sh), NGINX=path (default: nginx
#   on PATH; it needs the http_v2 and stub_status modules)
#
# Figures from a shared or busy machine are rough: compare tools measured in
# the same run, not absolute numbers between runs.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
THREADS="${THREADS:-1}"
CONNS="${CONNS:-32}"
STREAMS="${STREAMS:-1 10 100}"
TLS_STREAMS="${TLS_STREAMS:-10}"
EXACT_N="${EXACT_N:-20000}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
TOOLS="${TOOLS:-bench-client h2load oha}"
BODY_BYTES=65536

while (($#)); do
    case "$1" in
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        --regenerate) REGENERATE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

output_open h2-bench results/h2-bench
TMP="$(mktemp -d -t h2-bench.XXXXXX)"
LOG="$TMP/log"
PREFIX="$TMP/nginx"
NGINX_PID=""

say() { printf '%s\n' "$*" | tee -a "$LOG"; }

# shellcheck disable=SC2317  # called through on_exit
cleanup() {
    if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
        kill -TERM "$NGINX_PID" 2>/dev/null || true
        wait "$NGINX_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
on_exit cleanup

NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
for cmd in python3 taskset curl openssl h2load "$NGINX" /usr/bin/time; do
    command -v "$cmd" >/dev/null || die "$cmd is required (apt-get install nginx nghttp2-client curl openssl time)"
done
"$NGINX" -V 2>&1 | grep -q -- --with-http_v2_module || die "$NGINX lacks the http_v2 module"
"$NGINX" -V 2>&1 | grep -q -- --with-http_stub_status_module || die "$NGINX lacks the stub_status module"
(( $(nproc) >= 2 )) || say "note: fewer than 2 CPUs; client and server share a core"

tools=()
for t in $TOOLS; do
    case "$t" in
        bench-client|h2load) tools+=("$t") ;;
        oha)
            if command -v oha >/dev/null; then tools+=(oha)
            else say "note: oha not installed, skipped (peer-bench.sh --install-oha builds it)"; fi ;;
        *) usage_error "unknown tool in TOOLS: $t (bench-client, h2load, oha)" ;;
    esac
done
[[ " ${tools[*]} " == *" h2load "* ]] || usage_error "TOOLS must include h2load, the reference"
OHA_JSON=(-j)
if [[ " ${tools[*]} " == *" oha "* ]] && oha --help 2>/dev/null | grep -q -- '--output-format'; then
    OHA_JSON=(--output-format json)
fi

BC="$(find_binary bench-client)"

# ------------------------------------------------------------------ nginx
mkdir -p "$PREFIX/html"
printf 'OK\n' >"$PREFIX/html/echo"   # what /echo's static handler opens
make_test_cert "$TMP"
H1_PORT="$(free_port)"
H2C_PORT="$(free_port)"
H2_PORT="$(free_port)"
[[ "$H1_PORT" != "$H2C_PORT" && "$H2C_PORT" != "$H2_PORT" && "$H1_PORT" != "$H2_PORT" ]] \
    || die "free_port gave the same port twice; run again"
tls_lines="ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem; ssl_protocols TLSv1.2 TLSv1.3;"
sed -e "s/@H1PORT@/$H1_PORT/" -e "s/@H2CPORT@/$H2C_PORT/" -e "s/@H2PORT@/$H2_PORT/" \
    -e "s|@TLS@|$tls_lines|" "$ROOT/scripts/nginx/h2.conf" >"$PREFIX/nginx.conf"
nginx_start "$PREFIX" "$SERVER_CPU"
H1="http://127.0.0.1:$H1_PORT"
H2C="http://127.0.0.1:$H2C_PORT"
H2="https://127.0.0.1:$H2_PORT"
nginx_wait "$PREFIX" "$H1/"
curl -sf --http2-prior-knowledge -o /dev/null "$H2C/" || die "nginx does not speak h2c on $H2C"
[[ "$(curl -s --http2 --cacert "$TMP/cert.pem" -o /dev/null -w '%{http_version}' "$H2/")" == 2 ]] \
    || die "nginx did not negotiate h2 on $H2"

# nginx_requests: nginx's "requests" counter, this status request included.
nginx_requests() {
    curl -sf --max-time 5 "$H1/status" | awk 'NR == 3 { print $3 }'
}

head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$TMP/body.bin"

say "h2-bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n): $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
say "target: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), one worker (scripts/nginx/h2.conf, pid $NGINX_PID) on CPU $SERVER_CPU:" \
    "HTTP/1.1 $H1, h2c $H2C, h2 over TLS $H2 (self-signed ECDSA P-256)"
say "versions: $("$BC" --version 2>/dev/null | head -n1), $(h2load --version 2>&1 | head -n1)$([[ " ${tools[*]} " == *" oha "* ]] && echo ", $(oha --version 2>/dev/null)")"
say "(figures from a shared machine are rough: compare tools within this run, not across runs)"
say ""

# ------------------------------------------------------------------ exact counts
# exact NAME URL ARGS...: bench-client -n EXACT_N between two reads of the
# counter. bench-client's HTTP/2 probe (a preface and a PING, no request)
# must not show in nginx's count.
exact() {
    local name="$1" url="$2" before after got handled
    shift 2
    before="$(nginx_requests)" || die "cannot read $H1/status"
    taskset -c "$CLIENT_CPU" "$BC" --threads "$THREADS" --max-clients "$CONNS" --max-conns 1 \
        -n "$EXACT_N" "$@" --quiet -o "$TMP/exact.json" "$url" >"$TMP/exact.out" 2>&1 \
        || die "exact $name: bench-client failed: $(tail -n 5 "$TMP/exact.out")"
    after="$(nginx_requests)" || die "cannot read $H1/status"
    handled=$((after - before - 1))
    got="$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print(s["requests"], s["errors"], d["config"].get("protocol"))' "$TMP/exact.json")"
    read -r got errs proto <<<"$got"
    if [[ "$got" == "$EXACT_N" && "$handled" == "$EXACT_N" && "$errs" == 0 ]]; then
        say "exact: $name bench-client $got = nginx $handled ($*; protocol $proto)"
    else
        say "exact: $name bench-client $got ($errs errors) != nginx $handled ($*)"
        die "exact count failed for $name"
    fi
}
exact h2c "$H2C/" --http2 --streams 10
exact h2-tls "$H2/" --http2 -k
say ""

# ------------------------------------------------------------------ runs
# run TOOL ROW WORKLOAD ROUND: one timed run on CLIENT_CPU. ROW is PROTO-M
# (h2c-10, tls-10, h1-1). Appends "tool row workload round req_per_s
# requests errors cpu_s" to $TMP/rows.
run() {
    local tool="$1" row="$2" wl="$3" round="$4" out="$TMP/out" tm="$TMP/time"
    local proto="${row%-*}" m="${row#*-}" url args=() post=()
    case "$proto" in
        h2c) url="$H2C" ;;
        tls) url="$H2" ;;
        h1) url="$H1" ;;
    esac
    if [[ "$wl" == post ]]; then url="$url/echo"; else url="$url/"; fi
    local timed=(taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S" -o "$tm")
    rm -f "$out" "$tm" "$TMP/bc.json" "$TMP/parsed"
    case "$tool" in
        bench-client)
            [[ "$wl" == post ]] && post=(--payload 64k)
            [[ "$proto" == h1 ]] || args=(--http2 --streams "$m")
            [[ "$proto" == tls ]] && args+=(--cacert "$TMP/cert.pem")
            "${timed[@]}" "$BC" --threads "$THREADS" --max-clients "$CONNS" --max-conns 1 \
                -d "${DURATION}s" "${args[@]}" "${post[@]}" --quiet -o "$TMP/bc.json" "$url" >"$out" 2>&1 || true
            [[ -s "$TMP/bc.json" ]] || { say "  bench-client $row $wl failed: $(tail -n 3 "$out")"; return 0; }
            python3 - "$TMP/bc.json" >"$TMP/parsed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
bad = sum(n for c, n in s["status_codes"].items() if not c.startswith("2"))
h2 = d.get("http2") or {}
print(s["requests_per_sec"], s["requests"], s["errors"] + bad, h2.get("goaways", 0) if isinstance(h2, dict) else 0)
PY
            ;;
        h2load)
            [[ "$wl" == post ]] && post=(-d "$TMP/body.bin")
            "${timed[@]}" h2load -c "$CONNS" -m "$m" -t "$THREADS" -D "$DURATION" "${post[@]}" "$url" \
                >"$out" 2>&1 || true
            python3 - "$out" >"$TMP/parsed" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
f = re.search(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s", t)
r = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", t)
if not (f and r):
    sys.exit("cannot parse h2load output: " + t[-300:])
done, ok, failed, timeout = int(r.group(3)), int(r.group(4)), int(r.group(5)), int(r.group(7))
print(f.group(3), done, failed + timeout, 0)
PY
            ;;
        oha)
            [[ "$wl" == post ]] && post=(-m POST -D "$TMP/body.bin")
            [[ "$proto" == tls ]] && args=(--cacert "$TMP/cert.pem")
            "${timed[@]}" oha --no-tui "${OHA_JSON[@]}" -z "${DURATION}s" --http2 -c "$CONNS" -p "$m" \
                "${post[@]}" "${args[@]}" "$url" >"$out" 2>"$out.err" || true
            python3 - "$out" >"$TMP/parsed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
codes = d.get("statusCodeDistribution", {})
n = sum(codes.values())
bad = sum(v for c, v in codes.items() if not c.startswith("2"))
# Requests cut by -z's deadline are oha's way of ending a timed run, not faults.
errs = sum(v for k, v in d.get("errorDistribution", {}).items() if "deadline" not in k)
print(d["summary"]["requestsPerSec"], n, errs + bad, 0)
PY
            ;;
    esac
    local rps n errs goaways user sys cpu
    read -r rps n errs goaways <"$TMP/parsed" || { say "  $tool $row $wl: no figures: $(tail -n 3 "$out")"; return 0; }
    read -r user sys < <(tail -n 1 "$tm")
    cpu="$(python3 -c "print($user + $sys)")"
    echo "$tool $row $wl $round $rps $n $errs $cpu" >>"$TMP/rows"
    say "$(printf '  %-12s %-7s %-4s %10.0f req/s %9d requests %6d errors %6.2f CPU s%s' \
        "$tool" "$row" "$wl" "$rps" "$n" "$errs" "$cpu" "$( ((goaways)) && echo " $goaways GOAWAY")")"
}

rows=()
for m in $STREAMS; do rows+=("h2c-$m"); done
for m in $TLS_STREAMS; do rows+=("tls-$m"); done
say "runs: $ROUNDS rounds of ${DURATION}s per tool and row; $THREADS thread(s), $CONNS connections x M streams (row PROTO-M);" \
    "GET / and POST /echo with a $BODY_BYTES-byte body; server on CPU $SERVER_CPU, clients on CPU $CLIENT_CPU"
say "  h2c-M: cleartext HTTP/2 (prior knowledge), tls-M: h2 over TLS (ALPN), h1-1: HTTP/1.1 keep-alive (bench-client GET only, for the chart)"
order=("${tools[@]}")
for round in $(seq 1 "$ROUNDS"); do
    say "round $round/$ROUNDS"
    for row in "${rows[@]}"; do
        for wl in get post; do
            for tool in "${order[@]}"; do
                run "$tool" "$row" "$wl" "$round"
            done
        done
    done
    [[ " ${tools[*]} " == *" bench-client "* ]] && run bench-client h1-1 get "$round"
    # Alternate the order so that no tool always runs first (or last).
    reversed=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[i]}"); done
    order=("${reversed[@]}")
done
gone="$(grep -c -E 'flood|GOAWAY|goaway' "$PREFIX/error.log" || true)"
say ""
((gone)) && say "note: nginx's error log has $gone flood/GOAWAY lines: $(grep -m3 -E 'flood|GOAWAY|goaway' "$PREFIX/error.log")"

# ------------------------------------------------------------------ report
[[ -s "$TMP/rows" ]] || die "no run produced figures"
python3 - "$TMP/rows" "$OUT_DIR/h1-vs-h2.svg" "$CONNS" <<'PY' | tee -a "$LOG"
import statistics, sys
from collections import defaultdict

rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
svg_path, conns = sys.argv[2], sys.argv[3]
runs = defaultdict(list)
rps_round, cpu_round = {}, {}
for tool, row, wl, rnd, rps, n, errs, cpu in rows:
    runs[(tool, row, wl)].append((float(rps), int(n), int(errs), float(cpu)))
    rps_round[(tool, row, wl, rnd)] = float(rps)
    if int(n):
        cpu_round[(tool, row, wl, rnd)] = float(cpu) / int(n)
tools = list(dict.fromkeys(r[0] for r in rows))
row_names = list(dict.fromkeys(r[1] for r in rows))

def paired(table, tool, row, wl, base="h2load"):
    """Median over rounds of tool/base within the same round: robust to load
    from other processes that drifts between rounds."""
    ratios = [v / table[(base, row, wl, r)] for (t, ro, w, r), v in table.items()
              if t == tool and ro == row and w == wl and table.get((base, row, wl, r))]
    return statistics.median(ratios) if ratios else None

def fig(tool, row, wl):
    r = runs.get((tool, row, wl))
    if not r:
        return None
    med = statistics.median(x[0] for x in r)
    cpu = statistics.median(1e5 * x[3] / x[1] for x in r if x[1]) if any(x[1] for x in r) else float("nan")
    return med, cpu, sum(x[2] for x in r), len(r)

print(f"{'row':<9}{'workload':<9}{'tool':<13}{'median req/s':>13}{'vs h2load':>10}"
      f"{'CPU s/100k':>12}{'vs h2load':>10}{'errors':>8}{'runs':>6}")
for row in row_names:
    for wl in ("get", "post"):
        for tool in tools:
            f = fig(tool, row, wl)
            if not f:
                continue
            med, cpu, errs, n = f
            pr = paired(rps_round, tool, row, wl)
            pc = paired(cpu_round, tool, row, wl)
            print(f"{row:<9}{wl:<9}{tool:<13}{med:>13.0f}{(f'{pr:.2f}x' if pr else '-'):>10}"
                  f"{cpu:>12.3f}{(f'{pc:.2f}x' if pc else '-'):>10}{errs:>8}{n:>6}")
print("(CPU s/100k: median over rounds of client user+system CPU per 100k requests; vs h2load: median over")
print(" rounds of the tool's figure divided by h2load's in the same round)")
print()
gate_row = "h2c-10"
print(f"gate (h2c, {conns} connections x 10 streams): req/s >= 1.0x h2load at CPU per request <= 1.0x h2load")
for wl in ("get", "post"):
    pr = paired(rps_round, "bench-client", gate_row, wl)
    pc = paired(cpu_round, "bench-client", gate_row, wl)
    if pr is None or pc is None:
        continue
    print(f"  {wl}: req/s {pr:.2f}x h2load ({'met' if pr >= 1.0 else 'NOT met'}), "
          f"CPU/request {pc:.2f}x h2load ({'met' if pc <= 1.0 else 'NOT met'})")
if any(f[2] for k in runs for f in [fig(*k)]):
    print("note: some runs had errors or non-2xx responses; their req/s are not comparable")

# HTTP/1.1 vs HTTP/2, bench-client GET /: a bar chart, req/s and CPU.
bars = [("h1-1", "HTTP/1.1")] + [(r, f"h2c x{r.split('-')[1]}") for r in row_names if r.startswith("h2c-")]
bars = [(r, label, fig("bench-client", r, "get")) for r, label in bars]
bars = [b for b in bars if b[2]]
if bars:
    print()
    print(f"HTTP/1.1 vs HTTP/2 (bench-client GET /, {conns} connections; chart: h1-vs-h2.svg)")
    for r, label, (med, cpu, _, _) in bars:
        print(f"  {label:<10}{med:>10.0f} req/s{cpu:>9.3f} CPU s/100k")
    W, H, top, bottom, left = 640, 300, 40, 50, 60
    pw = (W - 3 * left) / 2
    ph = H - top - bottom
    colors = ["#888888", "#4c78a8", "#2f5d8a", "#1b3b5c", "#0d2238"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="13">bench-client GET / on one nginx worker, '
           f'{conns} connections: HTTP/1.1 vs h2c</text>']
    for p, (title, idx, fmt) in enumerate((("req/s (median)", 0, "{:.0f}"), ("client CPU s per 100k requests", 1, "{:.2f}"))):
        x0 = left + p * (pw + left)
        vmax = max(b[2][idx] for b in bars) * 1.15 or 1
        out.append(f'<text x="{x0 + pw / 2}" y="{top - 8}" text-anchor="middle">{title}</text>')
        out.append(f'<line x1="{x0}" y1="{top + ph}" x2="{x0 + pw}" y2="{top + ph}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{top + ph}" stroke="black"/>')
        bw = pw / len(bars)
        for i, (r, label, f) in enumerate(bars):
            h = ph * f[idx] / vmax
            x = x0 + i * bw + bw * 0.15
            out.append(f'<rect x="{x:.1f}" y="{top + ph - h:.1f}" width="{bw * 0.7:.1f}" height="{h:.1f}" fill="{colors[i % len(colors)]}"/>')
            out.append(f'<text x="{x + bw * 0.35:.1f}" y="{top + ph - h - 3:.1f}" text-anchor="middle">{fmt.format(f[idx])}</text>')
            out.append(f'<text x="{x + bw * 0.35:.1f}" y="{top + ph + 14:.1f}" text-anchor="middle">{label}</text>')
    out.append(f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle" fill="#555">h2c xM: M streams per connection; '
               f'figures from scripts/h2-bench.sh (nginx-h2.txt)</text>')
    out.append("</svg>")
    open(svg_path, "w").write("\n".join(out) + "\n")
PY

cp "$LOG" "$OUT_DIR/nginx-h2.txt"
output_publish nginx-h2.txt h1-vs-h2.svg
