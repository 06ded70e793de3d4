#!/usr/bin/env bash
# selector-idle.sh: how the selector server copes with many idle connections.
#
# Starts the release selector-server on 127.0.0.1:0, opens CONNECTIONS idle
# TCP connections to it from one python3 process, and while they are held
# measures:
#   (a) that a fresh curl request is answered, and how long it took;
#   (b) the server's CPU use over 5 s of idleness (utime+stime from /proc);
#   (c) the server's resident memory (VmRSS, also before any connection, and
#       per held connection) and its open file descriptors.
# Then it sends SIGTERM with the connections still open and prints the
# server's totals line and how long the shutdown took. About 10 s plus the
# time to open the connections (a few seconds for 10,000).
#
# Usage: scripts/selector-idle.sh [-n CONNECTIONS] [-o DIR] [-h]
#   -n, --connections N  idle connections to hold (default 10000)
#   -o, --output DIR     write into DIR (default: a new out/selector-idle-<UTC time>/)
#   -h, --help           this help
#
# Writes report.txt (what it prints) and server.out / server.err (the
# server's own output: its listening line and totals). Nothing is committed
# from this script, so there is no --regenerate.
#
# Needs: cargo, python3, curl; Linux (/proc). Talks to 127.0.0.1 only.
# SELECTOR_SERVER=path uses that binary instead of building it.
# The client raises its own open-files limit to the hard limit; the server
# raises its own. CONNECTIONS must stay below both hard limits (ulimit -Hn).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

connections=10000
while (($#)); do
    case "$1" in
        -n|--connections) connections="$(opt_value "$@")"; shift 2 ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if ! [[ "$connections" =~ ^[1-9][0-9]*$ ]]; then
    usage_error "CONNECTIONS must be a positive whole number, got '$connections'"
fi
for tool in python3 curl; do
    command -v "$tool" >/dev/null || die "needs $tool on PATH"
done
hard_limit="$(ulimit -Hn)"
if [[ "$hard_limit" != unlimited ]] && (( connections + 64 > hard_limit )); then
    usage_error "$connections connections need more file descriptors than the hard limit $hard_limit; ask for fewer"
fi

output_open selector-idle
binary="$(find_binary selector-server)"
work="$(mktemp -d)"
server_pid=""
holder_pid=""
# shellcheck disable=SC2317  # called through on_exit
cleanup() {
    if [[ -n "$holder_pid" ]]; then kill "$holder_pid" 2>/dev/null || true; fi
    if [[ -n "$server_pid" ]]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
on_exit cleanup
# Everything printed from here on also goes to report.txt.
exec > >(tee "$OUT_DIR/report.txt")

# A read timeout far beyond this run, so the idle connections stay open.
"$binary" --addr 127.0.0.1:0 --read-timeout 10m >"$OUT_DIR/server.out" 2>"$OUT_DIR/server.err" &
server_pid=$!
addr="$(wait_listen_addr "$OUT_DIR/server.out" "$server_pid")"
echo "== server pid $server_pid on $addr"
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
base_rss="$(rss_kb)"
echo "   VmRSS before any connection: $base_rss kB"

# The holder opens the connections, reports how many it holds, then holds
# them until it is killed.
[[ "$hard_limit" != unlimited ]] && ulimit -n "$hard_limit"
python3 - "$addr" "$connections" "$work/ready" <<'EOF' &
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
count, ready = int(sys.argv[2]), sys.argv[3]
held, failed = [], 0
start = time.monotonic()
for _ in range(count):
    try:
        held.append(socket.create_connection((host, int(port)), timeout=10))
    except OSError as err:
        failed += 1
        if failed == 1:
            print(f"holder: connect failed: {err}", file=sys.stderr)
elapsed = time.monotonic() - start
with open(ready + ".tmp", "w") as f:
    f.write(f"{len(held)} {failed} {elapsed:.2f}\n")
os.rename(ready + ".tmp", ready)
while True:
    time.sleep(3600)
EOF
holder_pid=$!
for _ in $(seq 1200); do
    [[ -e "$work/ready" ]] && break
    kill -0 "$holder_pid" 2>/dev/null || { echo die "the connection holder died"; }
    sleep 0.1
done
[[ -e "$work/ready" ]] || die "opening the connections took over 120 s"
read -r held failed open_s <"$work/ready"
echo "== holding $held idle connections ($failed failed), opened in ${open_s} s"

# Let the server accept the tail of the burst before measuring.
sleep 1
echo "== (a) a fresh request while they are held"
curl -sS -o /dev/null -w '   HTTP %{http_code} in %{time_total} s\n' "http://$addr/"

echo "== (b) server CPU over 5 s of idleness"
ticks_per_s="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
before="$(cpu_ticks)"
sleep 5
after="$(cpu_ticks)"
awk -v d="$((after - before))" -v hz="$ticks_per_s" \
    'BEGIN { printf "   %d ticks of 1/%d s in 5 s = %.2f %% of one core\n", d, hz, 100 * d / hz / 5 }'

echo "== (c) server memory and descriptors"
held_rss="$(rss_kb)"
awk '/^VmRSS|^VmHWM/ { printf "   %s %s %s\n", $1, $2, $3 }' "/proc/$server_pid/status"
awk -v a="$base_rss" -v b="$held_rss" -v n="$held" \
    'BEGIN { if (n > 0) printf "   %.2f kB per held connection\n", (b - a) / n }'
echo "   open file descriptors: $(find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)"

echo "== SIGTERM with the connections still open"
stop_start="$(date +%s.%N)"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
stop_end="$(date +%s.%N)"
server_pid=""
awk -v a="$stop_start" -v b="$stop_end" -v s="$status" \
    'BEGIN { printf "   exit status %d after %.2f s\n", s, b - a }'
echo "   totals: $(tail -n 1 "$OUT_DIR/server.out")"
if [[ -s "$OUT_DIR/server.err" ]]; then
    echo "   server stderr:"
    sed 's/^/     /' "$OUT_DIR/server.err"
fi
# shellcheck disable=SC2119  # no committed files, so nothing to name
output_publish
