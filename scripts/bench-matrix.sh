#!/usr/bin/env bash
# bench-matrix.sh: the three reference servers (sync, selector, fork) under a
# small grid of loads, one short run each, then an HTML report and SVGs.
#
# Usage: scripts/bench-matrix.sh [-d DURATION] [-o DIR] [-p] [-h]
#   -d DURATION  measured length of each run (default 3s)
#   -o DIR       where results go (default results/matrix)
#   -p           plot only: redraw report.html and the SVGs from DIR's results
#
# Grid: clients x conns {1x1, 10x4, 50x4} x payload {0, 64k (POST)} for each
# server, plus GET /delay/10 at 50x4, which shows what each concurrency model
# does with requests that wait: the iterative sync server serves them one at
# a time, fork and selector overlap them. 21 runs: about 75 s with the
# defaults (each run also spawns and stops its server and has 0.5 s warm-up),
# plus the release build. With two or more cores the server is pinned to
# CPU 0 and the client to the rest (PIN=0: no pinning).
#
# Output, in DIR: one result per run, named MODEL-CxN-PAYLOAD.json
# (e.g. selector-50x4-64k.json, fork-50x4-delay10.json) with its text
# summary in logs/, report.html (every
# run: key figures, then charts grouped by load) and one SVG per load
# (e.g. 50x4-64k.svg) comparing the three servers.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

DURATION=3s
OUT=results/matrix
PLOT_ONLY=0
while getopts "d:o:ph" opt; do
    case "$opt" in
        d) DURATION=$OPTARG ;;
        o) OUT=$OPTARG ;;
        p) PLOT_ONLY=1 ;;
        h) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p bench-client
BC="${CARGO_TARGET_DIR:-target}/release/bench-client"
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

MODELS=(sync selector fork)
SHAPES=("1 1" "10 4" "50 4")
failed=()

# run NAME ARGS...: one measured run saved as $OUT/NAME.json. A failed run is
# reported and skipped, so that one misbehaving server still leaves a report.
run() {
    local name=$1
    shift
    printf '%-26s ' "$name"
    if "${PIN_CLIENT[@]}" "$BC" "$@" "${PIN_SERVER[@]}" -d "$DURATION" --warmup 500ms --quiet \
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
        run "$model-50x4-delay10" --server "$model" --max-clients 50 --max-conns 4 \
            http://127.0.0.1:8888/delay/10
    done
    echo "runs took $(($(date +%s) - start)) s"
    echo "after: $(uptime)" >>"$OUT/logs/conditions.txt"
fi

shopt -s nullglob
"$BC" plot "$OUT"/*.json -o "$OUT/report.html" --title "Reference servers: sync vs selector vs fork"
for load in 1x1-0 1x1-64k 10x4-0 10x4-64k 50x4-0 50x4-64k 50x4-delay10; do
    files=("$OUT"/*-"$load".json)
    if ((${#files[@]})); then
        "$BC" plot "${files[@]}" -o "$OUT/$load.svg" --title "Reference servers at $load"
    fi
done

if ((${#failed[@]})); then
    echo "failed runs: ${failed[*]}" >&2
    exit 1
fi
