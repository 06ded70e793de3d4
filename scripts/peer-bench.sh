#!/usr/bin/env bash
# peer-bench.sh: bench-client against its peers (wrk, and oha when installed),
# same target, same threads and connections, server and client pinned to
# different cores.
#
#   scripts/peer-bench.sh            run everything (about 2-3 minutes)
#   scripts/peer-bench.sh -h         this help
#
# What it does:
#   1. Installs missing peers: ../shared/tools/setup-peers.sh beside the
#      repository when present (without its slow cargo builds), else
#      `apt-get install -y wrk nginx`.
#   2. Builds bench-client and the reference servers (release).
#   3. Target: a one-worker nginx through ../shared/tools/nginx-bench.sh when
#      both exist, else selector-server; the server is pinned to SERVER_CPU,
#      every client to CLIENT_CPU (taskset).
#   4. ROUNDS alternating rounds (the tool order flips every round) of
#      keep-alive GET / and POST /echo with a 64 KiB body, DURATION seconds
#      each, THREADS threads and CONNS connections for every tool.
#   5. Prints the median req/s of each tool, its ratio to wrk, and client CPU
#      seconds (user + system, /usr/bin/time) per 100k requests; then the peak
#      RSS of bench-client holding RSS_CONNS connections to selector-server
#      (nginx's bench config allows only 8,192).
#   Everything printed also goes to results/peer-bench.txt (OUT_FILE).
#
# Knobs (environment): ROUNDS=5 DURATION=5 THREADS=1 CONNS=32 RSS_CONNS=10000
#   SERVER_CPU=0 CLIENT_CPU=1 TARGET=auto|nginx|selector TOOLS="bench-client wrk oha"
#   SKIP_BUILD=1 (use the existing release build) OUT_FILE=path
#
# Figures from a shared or busy machine are rough: compare ratios between
# tools measured in the same run, not absolute numbers between runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_TOOLS="$ROOT/../shared/tools"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
THREADS="${THREADS:-1}"
CONNS="${CONNS:-32}"
RSS_CONNS="${RSS_CONNS:-10000}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
TARGET="${TARGET:-auto}"
TOOLS="${TOOLS:-bench-client wrk oha}"
OUT_FILE="${OUT_FILE:-$ROOT/results/peer-bench.txt}"
BODY_BYTES=65536

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi

TMP="$(mktemp -d -t peer-bench.XXXXXX)"
LOG="$TMP/log"
SERVER_PID=""
RSS_SERVER_PID=""
STARTED_NGINX=0

die() { echo "peer-bench: $*" >&2; exit 1; }
say() { printf '%s\n' "$*" | tee -a "$LOG"; }

cleanup() {
    local pid
    for pid in "$SERVER_PID" "$RSS_SERVER_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if ((STARTED_NGINX)); then
        "$SHARED_TOOLS/nginx-bench.sh" stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for cmd in python3 taskset; do
    command -v "$cmd" >/dev/null || die "$cmd is required"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"
(( $(nproc) >= 2 )) || say "note: fewer than 2 CPUs; client and server share a core"

# ------------------------------------------------------------------ peers
if ! command -v wrk >/dev/null; then
    if [[ -x "$SHARED_TOOLS/setup-peers.sh" ]]; then
        echo "peer-bench: installing peers with $SHARED_TOOLS/setup-peers.sh (SKIP_CARGO=1)" >&2
        SKIP_CARGO=1 "$SHARED_TOOLS/setup-peers.sh" >&2
    elif [[ "$(id -u)" == 0 ]]; then
        echo "peer-bench: installing wrk and nginx with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx >&2
    else
        die "wrk is missing: install it (apt-get install wrk) or run as root"
    fi
fi
command -v wrk >/dev/null || die "wrk is still missing after the install step"

tools=()
for t in $TOOLS; do
    case "$t" in
        bench-client|wrk) tools+=("$t") ;;
        oha) if command -v oha >/dev/null; then tools+=(oha); else say "note: oha not installed, skipped"; fi ;;
        *) die "unknown tool in TOOLS: $t (bench-client, wrk, oha)" ;;
    esac
done

# Newer oha spells its JSON switch `--output-format json`, older ones `-j`.
OHA_JSON=(-j)
if [[ " ${tools[*]} " == *" oha "* ]] && oha --help 2>/dev/null | grep -q -- '--output-format'; then
    OHA_JSON=(--output-format json)
fi

# ------------------------------------------------------------------ build
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "peer-bench: building (release)" >&2
    (cd "$ROOT" && cargo build --release --quiet -p bench-client -p reference-servers) \
        || die "cargo build failed"
fi
BC="$BIN_DIR/bench-client"
SELECTOR="$BIN_DIR/selector-server"
if [[ " ${tools[*]} " == *" bench-client "* ]]; then
    [[ -x "$BC" ]] || die "$BC not found (build it, or set CARGO_TARGET_DIR)"
fi

need_selector() {
    [[ -x "$SELECTOR" ]] || die "$SELECTOR not found (build it, or set CARGO_TARGET_DIR)"
}

# start_selector OUT PIDVAR URLVAR: selector-server pinned to SERVER_CPU, in
# this shell (so that it can be waited for), its pid and base URL stored in
# the named variables.
start_selector() {
    local out="$1" i line pid
    need_selector
    taskset -c "$SERVER_CPU" "$SELECTOR" --addr 127.0.0.1:0 >"$out" 2>"$out.err" &
    pid=$!
    printf -v "$2" '%s' "$pid"
    for i in $(seq 1 100); do
        line="$(grep -m1 '^listening on http://' "$out" 2>/dev/null || true)"
        if [[ -n "$line" ]]; then
            line="${line#listening on }"
            printf -v "$3" '%s' "${line%/}"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    die "selector-server did not print its listening line within 10 s: $(cat "$out.err")"
}

# ------------------------------------------------------------------ target
use_nginx=0
case "$TARGET" in
    nginx) use_nginx=1 ;;
    selector) use_nginx=0 ;;
    auto) nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
          if [[ -x "$SHARED_TOOLS/nginx-bench.sh" && -x "$nginx_bin" ]]; then use_nginx=1; fi ;;
    *) die "TARGET must be auto, nginx or selector" ;;
esac
if ((use_nginx)); then
    [[ -x "$SHARED_TOOLS/nginx-bench.sh" ]] || die "TARGET=nginx needs $SHARED_TOOLS/nginx-bench.sh"
    if "$SHARED_TOOLS/nginx-bench.sh" status >/dev/null 2>&1; then
        # Someone else's nginx: leave it be, but keep the client off its CPU.
        pinned="$("$SHARED_TOOLS/nginx-bench.sh" status 2>/dev/null \
                  | sed -n 's/.*master [0-9]* (cpus \(.*\)).*/\1/p' || true)"
        if [[ "$pinned" =~ ^[0-9]+$ ]]; then
            SERVER_CPU="$pinned"
            if [[ "$CLIENT_CPU" == "$SERVER_CPU" ]]; then
                CLIENT_CPU=$(( (SERVER_CPU + 1) % $(nproc) ))
            fi
            say "note: the benchmark nginx was already running, pinned to CPU $pinned; used as is, client kept off that CPU"
        else
            say "note: the benchmark nginx was already running, not pinned to one CPU (${pinned:-unknown}); used as is, so the client may share its core"
        fi
    else
        "$SHARED_TOOLS/nginx-bench.sh" start "$SERVER_CPU" >/dev/null
        STARTED_NGINX=1
    fi
    BASE="http://127.0.0.1:8080"
    target_desc="nginx, one worker ($SHARED_TOOLS/nginx-bench.sh); POST /echo reads and discards the body"
else
    start_selector "$TMP/server.out" SERVER_PID BASE
    target_desc="selector-server (pid $SERVER_PID); POST /echo echoes the 64 KiB body back"
fi
URL_GET="$BASE/"
URL_POST="$BASE/echo"

head -c "$BODY_BYTES" /dev/zero | tr '\0' 'x' >"$TMP/body.bin"
cat >"$TMP/post.lua" <<EOF
wrk.method = "POST"
wrk.body = string.rep("x", $BODY_BYTES)
wrk.headers["Content-Type"] = "application/octet-stream"
EOF

# ------------------------------------------------------------------ runs
# run TOOL WORKLOAD ROUND: one timed run on CLIENT_CPU; appends
# "tool workload round req_per_s requests errors cpu_s" to $TMP/rows.
run() {
    local tool="$1" wl="$2" round="$3" url out="$TMP/out" tm="$TMP/time"
    local post=()
    url="$URL_GET"
    [[ "$wl" == post ]] && url="$URL_POST"
    local timed=(taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %M" -o "$tm")
    rm -f "$out" "$tm" "$TMP/bc.json"
    case "$tool" in
        bench-client)
            [[ "$wl" == post ]] && post=(--payload 64k)
            "${timed[@]}" "$BC" --threads "$THREADS" --max-clients "$CONNS" --max-conns 1 \
                -d "${DURATION}s" "${post[@]}" --quiet -o "$TMP/bc.json" "$url" >"$out" 2>&1 || true
            [[ -s "$TMP/bc.json" ]] || { say "  bench-client $wl failed: $(tail -n 3 "$out")"; return 0; }
            python3 - "$TMP/bc.json" >"$TMP/parsed" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
bad = sum(n for c, n in s["status_codes"].items() if not c.startswith("2"))
print(s["requests_per_sec"], s["requests"], s["errors"] + bad)
PY
            ;;
        wrk)
            [[ "$wl" == post ]] && post=(-s "$TMP/post.lua")
            "${timed[@]}" wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" "${post[@]}" "$url" \
                >"$out" 2>&1 || true
            python3 - "$out" >"$TMP/parsed" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests/sec:\s+([\d.]+)", t)
n = re.search(r"(\d+) requests in", t)
errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", t))
non2 = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if not (rps and n):
    sys.exit("cannot parse wrk output: " + t[-300:])
print(rps.group(1), n.group(1), errs + (int(non2.group(1)) if non2 else 0))
PY
            ;;
        oha)
            [[ "$wl" == post ]] && post=(-m POST -D "$TMP/body.bin")
            "${timed[@]}" oha --no-tui "${OHA_JSON[@]}" -z "${DURATION}s" -c "$CONNS" "${post[@]}" "$url" \
                >"$out" 2>"$out.err" || true
            python3 - "$out" >"$TMP/parsed" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
codes = d.get("statusCodeDistribution", {})
n = sum(codes.values())
bad = sum(v for c, v in codes.items() if not c.startswith("2"))
# Requests cut by -z's deadline are oha's way of ending a timed run, not faults.
errs = sum(v for k, v in d.get("errorDistribution", {}).items() if "deadline" not in k)
print(d["summary"]["requestsPerSec"], n, errs + bad)
PY
            ;;
    esac
    local rps n errs user sys
    read -r rps n errs <"$TMP/parsed" || { say "  $tool $wl: no figures"; return 0; }
    read -r user sys _ < <(tail -n 1 "$tm")
    echo "$tool $wl $round $rps $n $errs $(python3 -c "print($user + $sys)")" >>"$TMP/rows"
    # Every run is kept in the output: the spread across rounds shows how
    # much to trust the medians.
    say "$(printf '  %-12s %-4s %12.0f req/s %10d requests %6d errors %7.2f CPU s' \
        "$tool" "$wl" "$rps" "$n" "$errs" "$(python3 -c "print($user + $sys)")")"
}

say "peer-bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n): $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
say "target: $target_desc"
say "(figures from a shared machine are rough: compare tools within this run, not across runs)"
say "server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; $THREADS thread(s), $CONNS connections, keep-alive"
say "workloads: GET $URL_GET and POST $URL_POST with a $BODY_BYTES-byte body; $ROUNDS rounds of ${DURATION}s per tool"
say "versions: wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}')$(command -v oha >/dev/null && echo ", $(oha --version 2>/dev/null)")"
say ""

order=("${tools[@]}")
for round in $(seq 1 "$ROUNDS"); do
    say "round $round/$ROUNDS"
    for wl in get post; do
        for tool in "${order[@]}"; do
            run "$tool" "$wl" "$round"
        done
    done
    # Alternate the order so that no tool always runs first (or last) on a warm server.
    reversed=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[i]}"); done
    order=("${reversed[@]}")
done

# ------------------------------------------------------------------ RSS
rss_line=""
rss_url=""
if [[ " ${tools[*]} " == *" bench-client "* ]]; then
    start_selector "$TMP/rss-server.out" RSS_SERVER_PID rss_url
    per_client=100
    clients=$(( (RSS_CONNS + per_client - 1) / per_client ))
    rm -f "$TMP/bc.json"
    taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %M" -o "$TMP/rss-time" \
        "$BC" --threads "$THREADS" --max-clients "$clients" --max-conns "$per_client" \
        -d "${DURATION}s" --quiet -o "$TMP/bc.json" "$rss_url" >"$TMP/rss-out" 2>&1 || true
    if [[ -s "$TMP/bc.json" && -s "$TMP/rss-time" ]]; then
        rss_line="$(python3 - "$TMP/bc.json" "$TMP/rss-time" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
kb = int(open(sys.argv[2]).read().split()[-1])
s = d["summary"]
print(f"{d['config']['connections']} {kb / 1024:.1f} {s['requests']} {s['errors']}")
PY
)"
    else
        say "RSS run failed: $(tail -n 3 "$TMP/rss-out")"
    fi
    kill -TERM "$RSS_SERVER_PID" 2>/dev/null || true
    wait "$RSS_SERVER_PID" 2>/dev/null || true
    RSS_SERVER_PID=""
fi

# ------------------------------------------------------------------ report
[[ -s "$TMP/rows" ]] || die "no run produced figures"
python3 - "$TMP/rows" "$ROUNDS" "$rss_line" <<'PY' | tee -a "$LOG"
import statistics, sys
from collections import defaultdict

rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rounds = int(sys.argv[2])
runs = defaultdict(list)
by_round = {}
for tool, wl, rnd, rps, n, errs, cpu in rows:
    runs[(tool, wl)].append((float(rps), int(n), int(errs), float(cpu)))
    by_round[(tool, wl, rnd)] = float(rps)
tools = list(dict.fromkeys(r[0] for r in rows))

def paired(tool, wl):
    """Median over rounds of tool/wrk within the same round: robust to load
    from other processes that drifts between rounds."""
    ratios = [by_round[(tool, wl, r)] / by_round[("wrk", wl, r)]
              for (t, w, r) in by_round if t == tool and w == wl
              and by_round.get(("wrk", wl, r))]
    return statistics.median(ratios) if ratios else None

print(f"{'tool':<13}{'workload':<9}{'median req/s':>13}{'vs wrk':>8}{'paired':>8}"
      f"{'CPU s/100k req':>16}{'vs wrk':>8}{'errors':>8}{'runs':>6}")
figs = {}
for wl in ("get", "post"):
    for tool in tools:
        r = runs.get((tool, wl))
        if not r:
            continue
        med = statistics.median(x[0] for x in r)
        cpu = 1e5 * sum(x[3] for x in r) / max(1, sum(x[1] for x in r))
        figs[(tool, wl)] = (med, cpu, sum(x[2] for x in r), len(r), paired(tool, wl))
    for tool in tools:
        if (tool, wl) not in figs:
            continue
        med, cpu, errs, n, pr = figs[(tool, wl)]
        w = figs.get(("wrk", wl))
        ratio = f"{med / w[0]:.2f}x" if w and w[0] else "-"
        pratio = f"{pr:.2f}x" if pr else "-"
        cratio = f"{cpu / w[1]:.2f}x" if w and w[1] else "-"
        print(f"{tool:<13}{wl:<9}{med:>13.0f}{ratio:>8}{pratio:>8}{cpu:>16.3f}{cratio:>8}{errs:>8}{n:>6}")
print("(paired: median over rounds of the tool's req/s divided by wrk's in the same round)")

print()
print("goals (issue 3): req/s >= 1.0x wrk (paired), CPU per request <= wrk, req/s >= 1.3x oha, RSS < 100 MB at 10k connections")
for wl in ("get", "post"):
    b, w, o = figs.get(("bench-client", wl)), figs.get(("wrk", wl)), figs.get(("oha", wl))
    if b and w:
        rel = b[4] if b[4] else b[0] / w[0]   # the paired ratio when there is one
        print(f"  {wl}: req/s {rel:.2f}x wrk ({'met' if rel >= 1.0 else 'NOT met'}), "
              f"CPU/request {b[1] / w[1]:.2f}x wrk ({'met' if b[1] <= w[1] else 'NOT met'})"
              + (f", {b[0] / o[0]:.2f}x oha ({'met' if b[0] >= 1.3 * o[0] else 'NOT met'})" if o else ""))
if sys.argv[3]:
    conns, mib, n, errs = sys.argv[3].split()
    print(f"  peak RSS of bench-client with {conns} connections to selector-server: {mib} MiB "
          f"({'met' if float(mib) < 100 else 'NOT met'}; {n} requests, {errs} errors)")
if any(f[2] for f in figs.values()):
    print("note: some runs had errors or non-2xx responses; their req/s are not comparable")
PY

mkdir -p "$(dirname "$OUT_FILE")"
cp "$LOG" "$OUT_FILE.tmp" && mv "$OUT_FILE.tmp" "$OUT_FILE"
echo "peer-bench: written to $OUT_FILE" >&2
