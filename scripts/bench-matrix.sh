#!/usr/bin/env bash
# bench-matrix.sh: the three reference servers (sync, selector, fork) under a
# small grid of loads, one short run each, then an HTML report and SVGs.
#
# Usage: scripts/bench-matrix.sh [--tls] [-d DURATION] [-p] [-o DIR | --regenerate] [-h]
#   --tls                    over HTTPS: each server started with --tls (a
#                            self-signed certificate made at its start, which
#                            bench-client trusts), grid {1x1, 50x4} x {0, 64k};
#                            committed under results/matrix-tls/
#   -d, --duration DURATION  measured length of each run (default 3s)
#   -p, --plot-only          redraw report.html and the SVGs from the results
#                            already in the output folder (needs -o DIR or
#                            --regenerate)
#   -o, --output DIR         write into DIR (default: a new out/bench-matrix-<UTC time>/)
#   --regenerate             rewrite the committed results/matrix/: every
#                            result, log, SVG and report.html (its README.md,
#                            written by hand, stays: update its figures)
#   -h, --help               this help
#
# Grid: clients x conns {1x1, 10x4, 50x4} x payload {0, 64k (POST)} for each
# server, plus GET /delay/10 at 50x4, which shows what each concurrency model
# does with requests that wait: the iterative sync server serves them one at
# a time, fork and selector overlap them. 21 runs: about 75 s with the
# defaults (each run also spawns and stops its server and has 0.5 s warm-up),
# plus the release build. With two or more cores the server is pinned to
# CPU 0 and the client to the rest (PIN=0: no pinning).
#
# Output: one result per run, named MODEL-CxN-PAYLOAD.json (e.g.
# selector-50x4-64k.json, fork-50x4-delay10.json) with its text summary in
# logs/ (and logs/conditions.txt, the machine's state), report.html (every
# run: key figures, then charts grouped by load) and one SVG per load (e.g.
# 50x4-64k.svg) comparing the three servers.
# BENCH_CLIENT=path uses that binary instead of building it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION=3s
PLOT_ONLY=0
TLS=0
while (($#)); do
    case "$1" in
        -d|--duration) DURATION="$(opt_value "$@")"; shift 2 ;;
        -p|--plot-only) PLOT_ONLY=1; shift ;;
        --tls) TLS=1; shift ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        --regenerate) REGENERATE=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done
if ((PLOT_ONLY)) && [[ -z "$OUT" ]] && ((!REGENERATE)); then
    usage_error "-p redraws the charts of existing results: name them with -o DIR, or --regenerate for results/matrix/"
fi

MODELS=(sync selector fork)
SHAPES=("1 1" "10 4" "50 4")
LOADS=(1x1-0 1x1-64k 10x4-0 10x4-64k 50x4-0 50x4-64k 50x4-delay10)
COMMITTED=results/matrix
SCHEME=()
if ((TLS)); then
    SHAPES=("1 1" "50 4")
    LOADS=(1x1-0 1x1-64k 50x4-0 50x4-64k)
    COMMITTED=results/matrix-tls
    SCHEME=(--tls)
fi
name=bench-matrix
((TLS)) && name=bench-matrix-tls
output_open "$name" "$COMMITTED"
BC="$(find_binary bench-client)"
OUT="$OUT_DIR"
if ((PLOT_ONLY && REGENERATE)); then
    # Redraw from the committed results: they are staged with the new charts
    # and copied back unchanged.
    cp "$ROOT/$COMMITTED"/*.json "$OUT/"
fi
mkdir -p "$OUT/logs"

# On a machine with two or more cores, the server gets CPU 0 and the client
# the others, so that every model is measured on one core of its own instead
# of a varying share of two (PIN=0 turns this off).
PIN_CLIENT=()
PIN_SERVER=()
if [[ "${PIN:-1}" == 1 ]] && (($(nproc) >= 2)) && command -v taskset >/dev/null; then
    PIN_CLIENT=(taskset -c "1-$(($(nproc) - 1))")
    PIN_SERVER=(--server-cpus 0)
fi

failed=()

# run NAME ARGS...: one measured run saved as $OUT/NAME.json. A failed run is
# reported and skipped, so that one misbehaving server still leaves a report.
run() {
    local name=$1
    shift
    printf '%-26s ' "$name"
    if "${PIN_CLIENT[@]}" "$BC" "$@" "${SCHEME[@]}" "${PIN_SERVER[@]}" -d "$DURATION" --warmup 500ms --quiet \
        -o "$OUT/$name.json" >"$OUT/logs/$name.txt" 2>&1; then
        grep -m1 -i 'requests/sec' "$OUT/logs/$name.txt" || echo "done"
    else
        echo "FAILED (exit $?), see $OUT/logs/$name.txt"
        failed+=("$name")
    fi
}

if ((!PLOT_ONLY)); then
    # The machine's state, since short runs on a shared machine are noisy.
    {
        echo "cores: $(nproc); $(uname -sr)"
        echo "before: $(uptime)"
        echo "pinning: client ${PIN_CLIENT[*]:-none}; server ${PIN_SERVER[*]:-none}"
    } >"$OUT/logs/conditions.txt"
    start=$(date +%s)
    for model in "${MODELS[@]}"; do
        for shape in "${SHAPES[@]}"; do
            read -r c n <<<"$shape"
            run "$model-${c}x$n-0" --server "$model" --max-clients "$c" --max-conns "$n"
            run "$model-${c}x$n-64k" --server "$model" --max-clients "$c" --max-conns "$n" --payload 64k
        done
        ((TLS)) || run "$model-50x4-delay10" --server "$model" --max-clients 50 --max-conns 4 \
            http://127.0.0.1:8888/delay/10
    done
    echo "runs took $(($(date +%s) - start)) s"
    echo "after: $(uptime)" >>"$OUT/logs/conditions.txt"
fi

shopt -s nullglob
title="Reference servers: sync vs selector vs fork"
((TLS)) && title="$title, over HTTPS"
"$BC" plot "$OUT"/*.json -o "$OUT/report.html" --title "$title"
for load in "${LOADS[@]}"; do
    files=("$OUT"/*-"$load".json)
    if ((${#files[@]})); then
        "$BC" plot "${files[@]}" -o "$OUT/$load.svg" --title "Reference servers at $load"
    fi
done

if ((${#failed[@]})); then
    die "failed runs: ${failed[*]}"
fi
if ((PLOT_ONLY)); then
    output_publish report.html '*.svg'
else
    output_publish '*.json' '*.svg' report.html logs
    ((!REGENERATE || TLS)) || echo "$SCRIPT: results/matrix/README.md still describes the previous figures" >&2
fi
