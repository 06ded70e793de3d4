#!/usr/bin/env bash
# soak.sh: a long load against each reference server, watching for leaks.
#
# For each server model (sync, selector, fork), one after the other, starts
# `bench-client serve MODEL --addr 127.0.0.1:0` and runs two phases against
# it, each PHASE = TOTAL / (2 x models) long:
#   1. closed loop: `bench-client URL -c N -d PHASE -q -o FILE`, N = 16
#      connections (4 against sync, which serves one connection at a time);
#   2. open loop: the same with `-R RATE`, RATE = half the closed loop's
#      summary.requests_per_sec.
# Every INTERVAL it samples, for the client and for the server: resident
# memory (VmRSS), open file descriptors (entries of /proc/PID/fd) and
# threads (Threads in /proc/PID/status).
#
# Passes (exit 0) when every phase passes, else exit 1 (2: bad usage). A
# phase passes when the client exited 0 with summary.errors = 0 and, for
# client and server alike, over the window from 20 % of the phase to its
# end (the first 20 % is warm-up: connections, buffers, allocator arenas):
#   - RSS: every sample within 10 % of the sample at 20 % (the first one at
#     or after 20 % of the phase), for the client too: its timeline keeps
#     one small encoded histogram per second and worker once that second is
#     over (a few hundred bytes), so a long phase stays inside the band;
#   - descriptors and threads do not grow at all: no sample in the window
#     exceeds the count at 20 % (the same sample), not by one. With one
#     exception, for descriptors in the two sync phases: the sync server
#     answers every request with `Connection: close`, so each request comes
#     on a new connection, and at the instant of a sample anywhere between
#     none and all of the CONNS (4) connections are open, on either side
#     (measured: the open loop's client shows 11 to 15 descriptors, the
#     server 8 or 9). There the count may exceed its value at 20 % by CONNS,
#     the width of that flicker, and no more: a leak per request or per
#     connection (thousands a second) is far past it within the first
#     second. Everywhere else the connections stay open and the counts are
#     flat to the unit, so the rule is exact: any growth fails.
# Samples are taken only while the client's measured run is on (t < PHASE
# from the client's start), so the end of a run (connections closing, the
# result being written) is not mistaken for growth.
#
# The fork server is counted over the parent plus its live children (pgrep
# -P), summed: RSS, descriptors and threads (each child is one thread, so
# threads = processes; an exited child not yet reaped counts 1 thread, 0
# descriptors; summed VmRSS counts the pages a child still shares with the
# parent once per process: more than the memory really used, but steady).
# A child serves one connection, keep-alive included, and
# holds that connection's descriptors and memory: the parent alone would
# show none of the work, and a child that leaks per request would go
# unseen. bench-client keeps its connections open, so during a phase the
# server holds a steady 16 children (their number is the `procs` field);
# children come and go only between phases (the closed loop's 16 exit, the
# open loop's 16 arrive), which the 20 % warm-up absorbs. So a healthy fork
# server keeps a flat sum and passes; a child that leaks descriptors or
# memory per request raises the sum; children that are never reaped, or a
# client that had to reconnect (a server that drops connections), raise
# the threads/processes count and the errors. What a steady keep-alive load
# cannot show: a leak per accepted connection in the fork parent (it
# accepts only 16 connections a phase); that needs a load that reconnects
# (bench-client --connection-per-request), which this script does not run.
#
# Usage: scripts/soak.sh [-t TOTAL] [-i INTERVAL] [-m MODELS] [-o DIR] [-h]
#   -t, --total TOTAL        the whole load, shared by all phases: 30m, 2m,
#                            90s, 120 (seconds) (default 30m: 5 min a phase)
#   -i, --interval INTERVAL  time between samples: 10s, 500ms, 2 (seconds)
#                            (default 10s, or PHASE / 20 when that is
#                            shorter; at least 5 samples a phase)
#   -m, --models LIST        comma-separated, from sync,selector,fork (default
#                            all three)
#   -o, --output DIR         write into DIR (default: a new
#                            out/soak-<UTC time>/)
#   -h, --help               this help
# The CI form: `scripts/soak.sh -t 2m` (20 s phases, a sample a second):
# about 2 min 10 s in all (a 2-core machine: 2 min 6 s).
#
# Writes:
#   samples.json  {"total_s", "interval_s", "phases": [...], "samples": [...]}:
#                 one object per phase (phase, model, loop, connections,
#                 rate (null in the closed loop), duration_s, result,
#                 requests_per_sec, errors, client_exit, client_workers)
#                 and one per sample:
#                 phase (1-based, as in the table), model, loop, t_s (seconds
#                 since the phase's client started), client {rss_kb, fds,
#                 threads}, server {rss_kb, fds, threads, procs}
#   soak.svg      the samples charted, a row per phase (RSS, descriptors,
#                 threads; the dashed line is 20 % of the phase)
#   verdict.txt   the table printed at the end, two rows (client, server)
#                 per phase: RSS at 20 % and the sample furthest from it,
#                 descriptors and threads at 20 % -> highest, then each
#                 failed rule
#   PHASE-MODEL-LOOP.json / .txt / .err: each client run's result, text
#                 report and stderr; server-MODEL.out / .err: each server's
#                 listening line, totals and stderr
# Nothing is committed from this script, so there is no --regenerate.
#
# Needs: cargo (or BENCH_CLIENT=path), python3, pgrep; Linux (/proc). Talks
# to 127.0.0.1 only.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

total="30m"
interval=""
models="sync,selector,fork"
while (($#)); do
    case "$1" in
        -t|--total) total="$(opt_value "$@")"; shift 2 ;;
        -i|--interval) interval="$(opt_value "$@")"; shift 2 ;;
        -m|--models) models="$(opt_value "$@")"; shift 2 ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

# to_ms DURATION: milliseconds of 120, 120s, 500ms, 2m, 1h (whole numbers).
to_ms() {
    [[ "$1" =~ ^([0-9]+)(ms|s|m|h)?$ ]] || return 1
    local n=$((10#${BASH_REMATCH[1]}))
    case "${BASH_REMATCH[2]}" in
        ms) echo "$n" ;;
        ''|s) echo $((n * 1000)) ;;
        m) echo $((n * 60000)) ;;
        h) echo $((n * 3600000)) ;;
    esac
}
total_ms="$(to_ms "$total")" || usage_error "--total: '$total' is not a duration like 30m, 2m, 90s or 120"
IFS=, read -r -a model_list <<<"$models"
((${#model_list[@]})) || usage_error "--models: no model given"
for m in "${model_list[@]}"; do
    case "$m" in
        sync|selector|fork) ;;
        *) usage_error "--models: unknown model '$m' (sync, selector, fork)" ;;
    esac
done
phase_ms=$((total_ms / (2 * ${#model_list[@]})))
((phase_ms >= 2000)) || usage_error "--total $total leaves $phase_ms ms a phase; give at least 2 s a phase"
if [[ -z "$interval" ]]; then
    interval_ms=$((phase_ms / 20 < 10000 ? phase_ms / 20 : 10000))
else
    interval_ms="$(to_ms "$interval")" || usage_error "--interval: '$interval' is not a duration like 10s, 500ms or 2"
    ((interval_ms >= 100)) || usage_error "--interval: at least 100ms"
fi
((phase_ms / interval_ms >= 5)) \
    || usage_error "--interval $interval gives $((phase_ms / interval_ms)) samples in a ${phase_ms} ms phase; at least 5 are needed"
command -v python3 >/dev/null || die "needs python3 on PATH"
command -v pgrep >/dev/null || die "needs pgrep on PATH (procps)"
[[ -d /proc/self/fd ]] || die "needs Linux /proc"

output_open soak
BENCH_CLIENT="$(find_binary bench-client)"
TMP="$(mktemp -d)"
SERVER=""
CLIENT=""
# shellcheck disable=SC2317  # called through on_exit
cleanup() {
    if [[ -n "$CLIENT" ]]; then kill -KILL "$CLIENT" 2>/dev/null || true; fi
    if [[ -n "$SERVER" ]]; then
        # Children first (fork), so that none outlives the parent.
        pkill -KILL -P "$SERVER" 2>/dev/null || true
        kill -KILL "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
on_exit cleanup

# now_us: microseconds since the epoch, without a fork.
now_us() { local t="$EPOCHREALTIME"; echo $((10#${t/./})); }

# status_stats PID...: sets s_rss, s_thr and s_procs to the sums of VmRSS
# (kB) and Threads over the PIDs still there. Each status file is read in one
# read(2) (`read -d ''`): bash's line-by-line reads re-read /proc between
# lines and can miss a line when the file changes meanwhile.
status_stats() {
    local pid text
    s_rss=0 s_thr=0 s_procs=0
    for pid in "$@"; do
        text=""
        read -r -d '' text 2>/dev/null <"/proc/$pid/status" || true
        [[ "$text" =~ Threads:[[:space:]]+([0-9]+) ]] || continue
        s_thr=$((s_thr + BASH_REMATCH[1]))
        s_procs=$((s_procs + 1))
        # A zombie (an exited child not yet reaped) has no VmRSS line.
        if [[ "$text" =~ VmRSS:[[:space:]]+([0-9]+) ]]; then s_rss=$((s_rss + BASH_REMATCH[1])); fi
    done
}

# fd_count PID...: sets s_fd_sum to the open descriptors of the PIDs, summed.
fd_count() {
    local pid
    local -a fds
    s_fd_sum=0
    for pid in "$@"; do
        fds=("/proc/$pid/fd/"*)
        if [[ -e "${fds[0]}" || -L "${fds[0]}" ]]; then s_fd_sum=$((s_fd_sum + ${#fds[@]})); fi
    done
}

# sample PHASE MODEL LOOP T_S: one JSON line of the client's and the
# server's (parent + children) counts, into $TMP/samples.jsonl; status 1,
# and no line, when the client has already exited.
sample() {
    local -a server_pids=("$SERVER")
    local c_rss c_thr c_fds
    if [[ "$2" == fork ]]; then
        # Word splitting wanted: one pid a line.
        # shellcheck disable=SC2207
        server_pids+=($(pgrep -P "$SERVER" || true))
    fi
    status_stats "$CLIENT"
    c_rss=$s_rss c_thr=$s_thr
    fd_count "$CLIENT"
    c_fds=$s_fd_sum
    status_stats "${server_pids[@]}"
    fd_count "${server_pids[@]}"
    # A client with no VmRSS has exited (a zombie not yet waited for): on a
    # busy machine a late sample can land after the run, when the fork
    # server's children are gone too. That is the end, not a measurement.
    ((c_rss > 0)) && kill -0 "$CLIENT" 2>/dev/null || return 1
    printf '{"phase":%d,"model":"%s","loop":"%s","t_s":%s,"client":{"rss_kb":%d,"fds":%d,"threads":%d},"server":{"rss_kb":%d,"fds":%d,"threads":%d,"procs":%d}}\n' \
        "$1" "$2" "$3" "$4" "$c_rss" "$c_fds" "$c_thr" "$s_rss" "$s_fd_sum" "$s_thr" "$s_procs" \
        >>"$TMP/samples.jsonl"
}

# json_get FILE EXPR: a field of a result as JSON, e.g. "['summary']['errors']".
json_get() {
    python3 -c 'import json, sys; print(json.dumps(eval("json.load(open(sys.argv[1]))" + sys.argv[2])))' "$1" "$2"
}

# run_phase N MODEL LOOP CONNS RATE URL: one client run, sampled; appends
# its line to $TMP/phases.jsonl.
run_phase() {
    local n="$1" model="$2" loop="$3" conns="$4" rate="$5" url="$6"
    local name="$n-$model-$loop" start k target left status=0 rps=null errors=null workers=null
    local -a rate_args=()
    [[ "$rate" == null ]] || rate_args=(-R "$rate")
    echo "== phase $n: $model, $loop loop, $conns connections${rate_args[*]:+, -R $rate}, $((phase_ms / 1000)) s" >&2
    start="$(now_us)"
    "$BENCH_CLIENT" "$url" -c "$conns" -d "${phase_ms}ms" -q "${rate_args[@]}" \
        -o "$OUT_DIR/$name.json" >"$OUT_DIR/$name.txt" 2>"$OUT_DIR/$name.err" &
    CLIENT=$!
    # Sample at k x INTERVAL from the client's start while k x INTERVAL <
    # PHASE and the client runs: bounded by PHASE / INTERVAL samples.
    for ((k = 0; k * interval_ms < phase_ms; k++)); do
        target=$((start + k * interval_ms * 1000))
        left=$((target - $(now_us)))
        if ((left > 0)); then sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"; fi
        kill -0 "$CLIENT" 2>/dev/null || break
        # Woken too late (a loaded machine): the phase is over.
        (($(now_us) < start + phase_ms * 1000)) || break
        sample "$n" "$model" "$loop" "$(printf '%d.%03d' $((k * interval_ms / 1000)) $((k * interval_ms % 1000)))" || break
    done
    # The run ends at PHASE plus its start-up and the result's writing; give
    # it 30 s more, then kill it.
    for ((k = 0; k < 300; k++)); do
        kill -0 "$CLIENT" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$CLIENT" 2>/dev/null; then
        echo "$SCRIPT: the client of phase $n still runs 30 s after its end; killing it" >&2
        kill -KILL "$CLIENT" 2>/dev/null || true
    fi
    wait "$CLIENT" || status=$?
    CLIENT=""
    if [[ -s "$OUT_DIR/$name.json" ]]; then
        # An unreadable result leaves null: the phase then fails, the run goes on.
        rps="$(json_get "$OUT_DIR/$name.json" "['summary']['requests_per_sec']")" || rps=null
        errors="$(json_get "$OUT_DIR/$name.json" "['summary']['errors']")" || errors=null
        workers="$(json_get "$OUT_DIR/$name.json" "['config']['threads']")" || workers=null
    fi
    printf '{"phase":%d,"model":"%s","loop":"%s","connections":%d,"rate":%s,"duration_s":%s,"result":"%s","requests_per_sec":%s,"errors":%s,"client_exit":%d,"client_workers":%s}\n' \
        "$n" "$model" "$loop" "$conns" "$rate" "$((phase_ms / 1000)).$(printf '%03d' $((phase_ms % 1000)))" \
        "$name.json" "$rps" "$errors" "$status" "$workers" >>"$TMP/phases.jsonl"
    LAST_RPS="$rps"
}

# stop_server MODEL: SIGTERM, at most 20 s for it (and a fork server's
# children) to finish, then SIGKILL.
stop_server() {
    local k
    kill -TERM "$SERVER" 2>/dev/null || true
    for ((k = 0; k < 200; k++)); do
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$SERVER" 2>/dev/null; then
        echo "$SCRIPT: the $1 server did not stop within 20 s of SIGTERM; killing it" >&2
        pkill -KILL -P "$SERVER" 2>/dev/null || true
        kill -KILL "$SERVER" 2>/dev/null || true
    fi
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
}

: >"$TMP/samples.jsonl"
: >"$TMP/phases.jsonl"
echo "$SCRIPT: ${#model_list[@]} servers x 2 phases of $((phase_ms / 1000)) s, a sample every ${interval_ms} ms" >&2
n=0
for model in "${model_list[@]}"; do
    "$BENCH_CLIENT" serve "$model" --addr 127.0.0.1:0 \
        >"$OUT_DIR/server-$model.out" 2>"$OUT_DIR/server-$model.err" &
    SERVER=$!
    addr="$(wait_listen_addr "$OUT_DIR/server-$model.out" "$SERVER")"
    conns=16
    [[ "$model" == sync ]] && conns=4
    n=$((n + 1))
    run_phase "$n" "$model" closed "$conns" null "http://$addr/"
    rate=null
    if [[ "$LAST_RPS" != null ]]; then
        rate="$(python3 -c 'import sys; print(max(1, int(float(sys.argv[1]) / 2)))' "$LAST_RPS")"
    fi
    n=$((n + 1))
    if [[ "$rate" == null ]]; then
        echo "$SCRIPT: phase $((n - 1)) left no result, so no rate for phase $n; skipped" >&2
        printf '{"phase":%d,"model":"%s","loop":"open","connections":%d,"rate":null,"duration_s":0,"result":null,"requests_per_sec":null,"errors":null,"client_exit":-1,"client_workers":null}\n' \
            "$n" "$model" "$conns" >>"$TMP/phases.jsonl"
    else
        run_phase "$n" "$model" open "$conns" "$rate" "http://$addr/"
    fi
    stop_server "$model"
done

# The verdict: the rules of the header, over the samples.
status=0
python3 - "$TMP/phases.jsonl" "$TMP/samples.jsonl" "$OUT_DIR" "$total_ms" "$interval_ms" <<'EOF' || status=$?
import json, sys

phases_path, samples_path, out_dir = sys.argv[1:4]
total_s, interval_s = int(sys.argv[4]) / 1000, int(sys.argv[5]) / 1000
phases = [json.loads(l) for l in open(phases_path)]
samples = [json.loads(l) for l in open(samples_path)]
with open(f"{out_dir}/samples.json", "w") as f:
    json.dump({"total_s": total_s, "interval_s": interval_s,
               "phases": phases, "samples": samples}, f, indent=1)
    f.write("\n")

WARMUP = 0.20      # the window starts at 20 % of the phase
RSS_BAND = 0.10    # RSS within 10 % of its value at 20 %

rows, all_pass = [], True
for p in phases:
    window = [s for s in samples if s["phase"] == p["phase"]
              and s["t_s"] >= WARMUP * p["duration_s"] - 1e-9]
    problems = []
    if p["client_exit"] != 0:
        problems.append(f"client exit {p['client_exit']}")
    if p["errors"] != 0:
        problems.append(f"errors {p['errors']}")
    if len(window) < 2:
        problems.append(f"{len(window)} samples after 20 %")
    cells = {}
    for side in ("client", "server"):
        if len(window) < 2:
            cells[side] = ("-", "-", "-")
            continue
        rss = [s[side]["rss_kb"] for s in window]
        ref = rss[0] or 1
        i = max(range(len(rss)), key=lambda i: abs(rss[i] - ref))
        change = (rss[i] - ref) / ref * 100
        cell_rss = f"{rss[0]}→{rss[i]} ({change:+.1f} %)"
        if abs(rss[i] - ref) / ref > RSS_BAND:
            problems.append(f"{side} RSS {change:+.1f} %")
        counts = []
        for key in ("fds", "threads"):
            vals = [s[side][key] for s in window]
            # sync: a new connection per request, so anywhere between none
            # and all of the phase's connections are open at an instant.
            slack = p["connections"] if key == "fds" and p["model"] == "sync" else 0
            ref_c, top = vals[0], max(vals)
            counts.append(f"{ref_c}→{top}" + (f" (+{slack} allowed)" if slack else ""))
            if top > ref_c + slack:
                problems.append(f"{side} {key} {ref_c}→{top}" + (f", over +{slack}" if slack else ""))
        cells[side] = (cell_rss, *counts)
    ok = not problems
    all_pass &= ok
    rows.append((p, cells, ok, problems))

head = ("phase", "model", "loop", "conns", "rate", "req/s", "errors", "side",
        "rss kB @20% → furthest", "fds @20% → max", "threads @20% → max", "verdict")
table = [head]
for p, cells, ok, problems in rows:
    rps = "-" if p["requests_per_sec"] is None else f"{p['requests_per_sec']:.0f}"
    for i, side in enumerate(("client", "server")):
        first = i == 0
        table.append((
            str(p["phase"]) if first else "", p["model"] if first else "",
            p["loop"] if first else "", str(p["connections"]) if first else "",
            ("-" if p["rate"] is None else str(p["rate"])) if first else "",
            rps if first else "", str(p["errors"]) if first else "",
            side, *cells[side],
            ("pass" if ok else "FAIL") if first else "",
        ))
widths = [max(len(r[i]) for r in table) for i in range(len(head))]
lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
for p, cells, ok, problems in rows:
    if problems:
        lines.append(f"phase {p['phase']} ({p['model']}, {p['loop']} loop): " + "; ".join(problems))
lines.append(f"soak: {'PASS' if all_pass else 'FAIL'} "
             f"({sum(ok for _, _, ok, _ in rows)} of {len(rows)} phases pass; "
             f"{total_s:g} s in all, a sample every {interval_s:g} s)")
text = "\n".join(lines) + "\n"
open(f"{out_dir}/verdict.txt", "w").write(text)
print(text, end="")
sys.exit(0 if all_pass else 1)
EOF
python3 "$(dirname "${BASH_SOURCE[0]}")/soak_chart.py" "$OUT_DIR/samples.json" "$OUT_DIR/soak.svg" \
    || echo "$SCRIPT: the chart could not be drawn (the verdict stands)" >&2
# shellcheck disable=SC2119  # no committed files, so nothing to name
output_publish
exit "$status"
