#!/usr/bin/env bash
# peer-bench.sh: bench-client against its peers (wrk, and oha when installed),
# same target, same threads and connections, server and client pinned to
# different cores.
#
# Usage: scripts/peer-bench.sh [--tls] [-o DIR | --regenerate] [--install-oha] [-h]
#   --tls             HTTPS instead of HTTP: the target serves TLS 1.2 and 1.3
#                     with a self-signed ECDSA P-256 certificate made at start
#                     by openssl (never committed), which every tool trusts
#                     (bench-client and oha through --cacert; wrk does not
#                     verify); output TARGET-tls.txt, committed under
#                     results/tls-bench/ (scripts/tls-bench.sh runs this and
#                     the handshake benchmark)
#                     --tls adds the workload `cpr`: GET / on a new connection
#                     per request, so a handshake per request: bench-client
#                     --connection-per-request with session resumption (as
#                     `bench-client`) and without (`bc-full`, --tls-resume
#                     off), oha --disable-keepalive and ab (apache2-utils);
#                     connections/s and client CPU per connection
#   -o, --output DIR  write into DIR (default: a new out/peer-bench-<UTC time>/)
#   --regenerate      rewrite the committed results/peer-bench/TARGET.txt
#                     (nginx.txt or selector.txt, whichever target ran), or
#                     with --tls results/tls-bench/TARGET-tls.txt
#   --install-oha     build oha with cargo when it is missing (about 8
#                     minutes on 2 cores); without it a missing oha is skipped
#   -h, --help        this help
# About 2-3 minutes with the defaults (5 rounds x 2 workloads x 3 tools x 5 s,
# plus a 5 s memory run), plus the release build.
#
# What it does:
#   1. Installs missing peers: `apt-get install -y wrk nginx time` (as root),
#      and oha with `cargo install` when asked (--install-oha).
#   2. Builds bench-client and selector-server (release).
#   3. Target: its own one-worker nginx (scripts/nginx/bench.conf, on a free
#      port, in a temporary folder) when nginx is installed (TARGET=auto
#      installs it as root), else selector-server; the server is pinned to
#      SERVER_CPU, every client to CLIENT_CPU (taskset).
#   4. ROUNDS alternating rounds (the tool order flips every round) of
#      keep-alive GET / and POST /echo with a 64 KiB body, DURATION seconds
#      each, THREADS threads and CONNS connections for every tool.
#   5. Prints the median req/s of each tool, its ratio to wrk, and client CPU
#      seconds (user + system, /usr/bin/time) per 100k requests; then the peak
#      RSS of bench-client holding RSS_CONNS connections to selector-server.
#   Everything printed also goes to TARGET.txt (nginx.txt or selector.txt)
#   in the output folder.
#
# Environment: ROUNDS=5 DURATION=5 THREADS=1 CONNS=32 RSS_CONNS=10000
#   SERVER_CPU=0 CLIENT_CPU=1 TARGET=auto|nginx|selector TOOLS="bench-client wrk oha"
#   BENCH_CLIENT=path SELECTOR_SERVER=path (use these binaries), SKIP_BUILD=1
#   (use the existing release build), NGINX=path (default: nginx on PATH)
#
# Figures from a shared or busy machine are rough: compare ratios between
# tools measured in the same run, not absolute numbers between runs.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
THREADS="${THREADS:-1}"
CONNS="${CONNS:-32}"
RSS_CONNS="${RSS_CONNS:-10000}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
TARGET="${TARGET:-auto}"
TOOLS="${TOOLS:-bench-client wrk oha}"
OHA_VERSION=1.16.0
BODY_BYTES=65536
INSTALL_OHA=0
TLS=0

while (($#)); do
    case "$1" in
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        --regenerate) REGENERATE=1; shift ;;
        --install-oha) INSTALL_OHA=1; shift ;;
        --tls) TLS=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
case "$TARGET" in
    auto|nginx|selector) ;;
    *) usage_error "TARGET must be auto, nginx or selector" ;;
esac

if ((TLS)); then
    output_open tls-bench results/tls-bench
else
    output_open peer-bench results/peer-bench
fi
TMP="$(mktemp -d -t peer-bench.XXXXXX)"
LOG="$TMP/log"
SERVER_PID=""
RSS_SERVER_PID=""

say() { printf '%s\n' "$*" | tee -a "$LOG"; }

# shellcheck disable=SC2317  # called through on_exit
cleanup() {
    local pid
    for pid in "$SERVER_PID" "$RSS_SERVER_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$TMP"
}
on_exit cleanup

needed=(python3 taskset curl)
((TLS)) && needed+=(openssl)
for cmd in "${needed[@]}"; do
    command -v "$cmd" >/dev/null || die "$cmd is required"
done
(( $(nproc) >= 2 )) || say "note: fewer than 2 CPUs; client and server share a core"

# ------------------------------------------------------------------ peers
apt_missing=()
command -v wrk >/dev/null || apt_missing+=(wrk)
((TLS)) && ! command -v ab >/dev/null && apt_missing+=(apache2-utils)
[[ -x /usr/bin/time ]] || apt_missing+=(time)
NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
# TARGET=auto installs nginx when it can (as root); else it measures selector-server.
if [[ ! -x "$NGINX" ]] && [[ "$TARGET" == nginx || ( "$TARGET" == auto && "$(id -u)" == 0 ) ]]; then
    apt_missing+=(nginx)
fi
if ((${#apt_missing[@]})); then
    [[ "$(id -u)" == 0 ]] || die "missing ${apt_missing[*]}: install them (apt-get install ${apt_missing[*]}) or run as root"
    echo "$SCRIPT: installing ${apt_missing[*]} with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt_missing[@]}" >&2 \
        || die "apt-get install ${apt_missing[*]} failed"
fi
command -v wrk >/dev/null || die "wrk is still missing after the install step"
[[ -x /usr/bin/time ]] || die "/usr/bin/time is still missing after the install step"
if [[ " $TOOLS " == *" oha "* ]] && ! command -v oha >/dev/null && ((INSTALL_OHA)); then
    echo "$SCRIPT: building oha $OHA_VERSION with cargo install (several minutes)" >&2
    PATH="$HOME/.cargo/bin:$PATH" cargo install --locked --version "$OHA_VERSION" oha >&2 \
        || die "cargo install oha failed"
    PATH="$HOME/.cargo/bin:$PATH"
fi

tools=()
for t in $TOOLS; do
    case "$t" in
        bench-client|wrk) tools+=("$t") ;;
        oha) if command -v oha >/dev/null; then tools+=(oha); else say "note: oha not installed, skipped (--install-oha builds it)"; fi ;;
        *) usage_error "unknown tool in TOOLS: $t (bench-client, wrk, oha)" ;;
    esac
done

# Newer oha spells its JSON switch `--output-format json`, older ones `-j`.
OHA_JSON=(-j)
if [[ " ${tools[*]} " == *" oha "* ]] && oha --help 2>/dev/null | grep -q -- '--output-format'; then
    OHA_JSON=(--output-format json)
fi

# ------------------------------------------------------------------ build
BC="$(find_binary bench-client)"
SELECTOR="$(find_binary selector-server)"

# start_selector OUT PIDVAR URLVAR: selector-server pinned to SERVER_CPU, in
# this shell (so that it can be waited for), its pid and base URL stored in
# the named variables.
start_selector() {
    local out="$1" pid addr
    local tls=()
    [[ "${4:-}" == tls ]] && tls=(--tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem")
    taskset -c "$SERVER_CPU" "$SELECTOR" --addr 127.0.0.1:0 "${tls[@]}" >"$out" 2>"${out%.out}.err" &
    pid=$!
    printf -v "$2" '%s' "$pid"
    addr="$(wait_listen_addr "$out" "$pid")"
    printf -v "$3" '%s://%s' "$SCHEME" "$addr"
}

SCHEME=http
CURL_TLS=()
if ((TLS)); then
    SCHEME=https
    make_test_cert "$TMP"
    CURL_TLS=(--cacert "$TMP/cert.pem")
fi
CACERT=("${CURL_TLS[@]}")

# start_nginx: our one-worker nginx (scripts/nginx/bench.conf) on a free
# port, pinned to SERVER_CPU, in the foreground of a background job, so that
# SERVER_PID is its master and cleanup stops it; sets BASE.
start_nginx() {
    local prefix="$TMP/nginx" port
    mkdir -p "$prefix"
    port="$(free_port)"
    local ssl="" directives=""
    if ((TLS)); then
        ssl=ssl
        directives="ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem; ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:10m; ssl_session_tickets on;"
    fi
    sed -e "s/@PORT@/$port/" -e "s/@SSL@/$ssl/" -e "s|@TLS@|$directives|" \
        "$ROOT/scripts/nginx/bench.conf" >"$prefix/nginx.conf"
    nginx_start "$prefix" "$SERVER_CPU"
    SERVER_PID=$NGINX_PID
    BASE="$SCHEME://127.0.0.1:$port"
    nginx_wait "$prefix" "$BASE/" "${CURL_TLS[@]}"
}

# ------------------------------------------------------------------ target
use_nginx=0
case "$TARGET" in
    nginx) use_nginx=1; [[ -x "$NGINX" ]] || die "TARGET=nginx: $NGINX not found" ;;
    auto) [[ -x "$NGINX" ]] && use_nginx=1 ;;
esac
if ((use_nginx)); then
    target_name=nginx
    start_nginx
    target_desc="nginx, one worker (scripts/nginx/bench.conf, pid $SERVER_PID); POST /echo reads and discards the body"
else
    target_name=selector
    start_selector "$TMP/server.out" SERVER_PID BASE "$( ((TLS)) && echo tls)"
    target_desc="selector-server (pid $SERVER_PID); POST /echo echoes the 64 KiB body back"
fi
((TLS)) && target_name="$target_name-tls"
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
    local post=() cpr=()
    url="$URL_GET"
    [[ "$wl" == post ]] && url="$URL_POST"
    # bc-full is bench-client without session resumption: every handshake full.
    if [[ "$tool" == bc-full ]]; then
        tool=bench-client
        cpr=(--tls-resume off)
    fi
    local name="${cpr:+bc-full}"
    name="${name:-$tool}"
    local timed=(taskset -c "$CLIENT_CPU" /usr/bin/time -f "%U %S %M" -o "$tm")
    rm -f "$out" "$tm" "$TMP/bc.json"
    case "$tool" in
        bench-client)
            [[ "$wl" == post ]] && post=(--payload 64k)
            [[ "$wl" == cpr ]] && cpr+=(--connection-per-request)
            "${timed[@]}" "$BC" --threads "$THREADS" --max-clients "$CONNS" --max-conns 1 \
                -d "${DURATION}s" "${post[@]}" "${cpr[@]}" "${CACERT[@]}" --quiet -o "$TMP/bc.json" "$url" >"$out" 2>&1 || true
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
            [[ "$wl" == cpr ]] && post=(--disable-keepalive)
            "${timed[@]}" oha --no-tui "${OHA_JSON[@]}" -z "${DURATION}s" -c "$CONNS" "${post[@]}" "${CACERT[@]}" "$url" \
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
        ab)
            # ab makes a connection per request unless told -k; -t with a
            # large -n runs for a time (-t alone stops at 50,000 requests).
            "${timed[@]}" ab -q -t "$DURATION" -n 100000000 -c "$CONNS" "$url" >"$out" 2>&1 || true
            python3 - "$out" >"$TMP/parsed" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"Requests per second:\s+([\d.]+)", t)
n = re.search(r"Complete requests:\s+(\d+)", t)
failed = re.search(r"Failed requests:\s+(\d+)", t)
non2 = re.search(r"Non-2xx responses:\s+(\d+)", t)
if not (rps and n):
    sys.exit("cannot parse ab output: " + t[-300:])
print(rps.group(1), n.group(1), int(failed.group(1)) + (int(non2.group(1)) if non2 else 0))
PY
            ;;
    esac
    local rps n errs user sys
    read -r rps n errs <"$TMP/parsed" || { say "  $name $wl: no figures"; return 0; }
    read -r user sys _ < <(tail -n 1 "$tm")
    echo "$name $wl $round $rps $n $errs $(python3 -c "print($user + $sys)")" >>"$TMP/rows"
    # Every run is kept in the output: the spread across rounds shows how
    # much to trust the medians.
    say "$(printf '  %-12s %-4s %12.0f req/s %10d requests %6d errors %7.2f CPU s' \
        "$name" "$wl" "$rps" "$n" "$errs" "$(python3 -c "print($user + $sys)")")"
}

say "peer-bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n): $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
say "target: $target_desc"
say "(figures from a shared machine are rough: compare tools within this run, not across runs)"
say "server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; $THREADS thread(s), $CONNS connections, keep-alive"
if ((TLS)); then
    say "TLS: $(curl -sv "${CURL_TLS[@]}" -o /dev/null "$URL_GET" 2>&1 | grep -m1 -o 'SSL connection using .*' || echo 'curl did not say')" \
        "(curl's handshake; bench-client's and oha's use rustls, wrk's OpenSSL)"
fi
say "workloads: GET $URL_GET and POST $URL_POST with a $BODY_BYTES-byte body; $ROUNDS rounds of ${DURATION}s per tool"
say "versions: wrk $(wrk -v 2>&1 | head -n1 | awk '{print $2}')$(command -v oha >/dev/null && echo ", $(oha --version 2>/dev/null)")"
say ""

order=("${tools[@]}")
workloads=(get post)
# The handshake workload: wrk has no connection-per-request mode of its own.
cpr_tools=()
if ((TLS)); then
    workloads+=(cpr)
    for t in "${tools[@]}"; do
        case "$t" in
            bench-client) cpr_tools+=(bench-client bc-full) ;;
            oha) cpr_tools+=(oha) ;;
        esac
    done
    cpr_tools+=(ab)
fi
for round in $(seq 1 "$ROUNDS"); do
    say "round $round/$ROUNDS"
    for wl in "${workloads[@]}"; do
        these=("${order[@]}")
        if [[ "$wl" == cpr ]]; then
            these=("${cpr_tools[@]}")
            if ((round % 2 == 0)); then
                these=()
                for ((i = ${#cpr_tools[@]} - 1; i >= 0; i--)); do these+=("${cpr_tools[i]}"); done
            fi
        fi
        for tool in "${these[@]}"; do
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
# The RSS goal is about cleartext connections; --tls leaves it out.
if [[ " ${tools[*]} " == *" bench-client "* ]] && ! ((TLS)); then
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
python3 - "$TMP/rows" "$ROUNDS" "$rss_line" "$TLS" <<'PY' | tee -a "$LOG"
import statistics, sys
from collections import defaultdict

rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rounds = int(sys.argv[2])
tls = sys.argv[4] == "1"
runs = defaultdict(list)
by_round = {}
cpu_round = {}
for tool, wl, rnd, rps, n, errs, cpu in rows:
    runs[(tool, wl)].append((float(rps), int(n), int(errs), float(cpu)))
    by_round[(tool, wl, rnd)] = float(rps)
    if int(n):
        cpu_round[(tool, wl, rnd)] = float(cpu) / int(n)
tools = list(dict.fromkeys(r[0] for r in rows))

def paired(tool, wl, table=by_round, base="wrk"):
    """Median over rounds of tool/base within the same round: robust to load
    from other processes that drifts between rounds."""
    ratios = [table[(tool, wl, r)] / table[(base, wl, r)]
              for (t, w, r) in table if t == tool and w == wl
              and table.get((base, wl, r))]
    return statistics.median(ratios) if ratios else None

def cpu_median_us(tool, wl):
    """Median over rounds of CPU per request, in microseconds."""
    per = [v for (t, w, _), v in cpu_round.items() if t == tool and w == wl]
    return 1e6 * statistics.median(per) if per else None

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
if tls:
    # The HTTPS gate: the one nginx worker bounds req/s, so the
    # req/s gate is a tie within noise; CPU per request is what differs.
    print("HTTPS gate (GET): req/s >= 0.95x wrk and CPU/request <= 1.0x wrk, both medians of rounds "
          "paired with wrk's; goal beyond it: CPU/request <= 0.9x wrk, req/s >= 1.3x oha")
    for wl in ("get", "post"):
        b, w, o = figs.get(("bench-client", wl)), figs.get(("wrk", wl)), figs.get(("oha", wl))
        if not (b and w):
            continue
        rel = paired("bench-client", wl) or b[0] / w[0]
        crel = paired("bench-client", wl, cpu_round) or b[1] / w[1]
        gate = "gate" if wl == "get" else "same bars"
        print(f"  {wl} ({gate}): req/s {rel:.2f}x wrk ({'met' if rel >= 0.95 else 'NOT met'}), "
              f"CPU/request {crel:.2f}x wrk ({'met' if crel <= 1.0 else 'NOT met'}; "
              f"goal 0.9x {'met' if crel <= 0.9 else 'not met'}; "
              f"{cpu_median_us('bench-client', wl):.2f} vs {cpu_median_us('wrk', wl):.2f} us)"
              + (f", {b[0] / o[0]:.2f}x oha ({'met' if b[0] >= 1.3 * o[0] else 'not met'})" if o else ""))
    cpr = [t for t in ("bench-client", "bc-full", "oha", "ab") if runs.get((t, "cpr"))]
    if cpr:
        print()
        print("connection per request (a TCP connect, a TLS handshake and one GET each):")
        print(f"{'tool':<14}{'median conn/s':>14}{'CPU us/conn':>13}{'errors':>8}{'runs':>6}")
        for t in cpr:
            r = runs[(t, "cpr")]
            med = statistics.median(x[0] for x in r)
            print(f"{t:<14}{med:>14.0f}{cpu_median_us(t, 'cpr'):>13.1f}{sum(x[2] for x in r):>8}{len(r):>6}")
        print("(bench-client: sessions resumed after the first; bc-full: --tls-resume off; "
              "oha --disable-keepalive; ab: one connection per request)")
        ka = cpu_median_us("bench-client", "get")
        if ka:
            for t, what in (("bc-full", "full"), ("bench-client", "resumed")):
                c = cpu_median_us(t, "cpr")
                if c:
                    print(f"  bench-client's cost of a new connection with a {what} handshake, beyond a "
                          f"keep-alive GET ({ka:.1f} us): {c - ka:.1f} us of CPU")
else:
    print("goals: req/s >= 1.0x wrk (paired), CPU per request <= wrk, req/s >= 1.3x oha, RSS < 100 MB at 10k connections")
for wl in (() if tls else ("get", "post")):
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

cp "$LOG" "$OUT_DIR/$target_name.txt"
output_publish "$target_name.txt"
