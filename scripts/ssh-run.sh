#!/usr/bin/env bash
# ssh-run.sh: a sharded bench-client run on a few plain hosts over ssh, the
# same run deploy/kubernetes/run.sh makes as a Job. Picks one absolute start
# time (now + a margin) and one run id, starts shard I of N on the I-th host:
#   bench-client ARGS --shard I/N --run-id ID --start-at TIME -q -o -
# with its stdout (the result JSON) saved here as shard-I.json and its stderr
# as shard-I.err; waits for every host, then merges the results with the
# local bench-client into merged.json and prints each shard's figures and
# the merged summary.
#
# Usage: scripts/ssh-run.sh [options] HOST... -- BENCH-CLIENT-ARGS...
#   --margin SECONDS    from now to the start: every ssh connection and
#                       process start must fit in it (default 10)
#   --ssh COMMAND       how to reach a host, split on spaces, run as
#                       COMMAND HOST REMOTE-COMMAND (default
#                       "ssh -o BatchMode=yes"), e.g. --ssh "ssh -i key -p 2222"
#   --remote-bin PATH   bench-client on the hosts (default: bench-client, on
#                       their PATH)
#   --run-id ID         the run id (default ssh-<epoch seconds>-<random>)
#   -o, --output, --out DIR
#                       write into DIR (default: a new out/ssh-run-<UTC time>/)
#   -h, --help          this help
# HOST: anything ssh takes (host, user@host, an alias of ~/.ssh/config).
# BENCH-CLIENT-ARGS: the URL and the whole run's load (-c, -R are shared out
# by the shards); --shard, --start-at, --run-id, -o and -q are set here.
# Add --metrics-addr 0.0.0.0:9464 for live metrics on every host.
#
# The hosts' clocks must be synchronized (NTP, chrony): each result records
# its host's clock state under `start.clock`. Interrupting this script ends
# the local ssh processes; whether a remote bench-client stops with them
# depends on the host's sshd. A local bench-client does the merge
# (BENCH_CLIENT=path or SKIP_BUILD=1, see scripts/lib.sh); jq makes the
# table. Exit status: 0 every shard exited 0 and the merge worked; 1 a shard
# failed (the others are still merged) or the merge failed; 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARGIN=10
SSH_COMMAND="ssh -o BatchMode=yes"
REMOTE_BIN=bench-client
RUN_ID=""
HOSTS=()
ARGS=()
SEEN_DASHES=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --margin) MARGIN="$(opt_value "$@")"; shift 2 ;;
        --ssh) SSH_COMMAND="$(opt_value "$@")"; shift 2 ;;
        --remote-bin) REMOTE_BIN="$(opt_value "$@")"; shift 2 ;;
        --run-id) RUN_ID="$(opt_value "$@")"; shift 2 ;;
        -o|--output|--out) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; ARGS=("$@"); SEEN_DASHES=1; break ;;
        -*) usage_error "unknown argument '$1'" ;;
        *) HOSTS+=("$1"); shift ;;
    esac
done
((${#HOSTS[@]} > 0)) || usage_error "no host given: scripts/ssh-run.sh HOST... -- BENCH-CLIENT-ARGS"
if ((SEEN_DASHES == 0 || ${#ARGS[@]} == 0)); then usage_error "bench-client's arguments are missing: put them after --, e.g. -- -c 64 -d 30s http://target:8080/"; fi
[[ "$MARGIN" =~ ^[0-9]+$ ]] || usage_error "--margin needs whole seconds, not '$MARGIN'"
read -ra SSH <<<"$SSH_COMMAND"
((${#SSH[@]} > 0)) || usage_error "--ssh needs a command, e.g. \"ssh -i key\""
[[ -z "$RUN_ID" || "$RUN_ID" =~ ^[A-Za-z0-9._-]{1,128}$ ]] \
    || usage_error "--run-id takes letters, digits, '.', '_' and '-' (at most 128), not '$RUN_ID'"
refuse_flags "--shard --shards --start-at --run-id -o --output -q --quiet --no-save" "${ARGS[@]}"

# sh_quote WORD: WORD for a POSIX shell on the far side (ssh runs the
# remote command through the user's login shell, which may not be bash).
sh_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

N=${#HOSTS[@]}
[[ -n "$RUN_ID" ]] || RUN_ID="ssh-$(date +%s)-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
BC="$(find_binary bench-client)"
output_open ssh-run
cd "$OUT_DIR"
START_AT="$(start_time "$MARGIN")"

PIDS=()
# shellcheck disable=SC2317  # run by on_exit
stop_ssh() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
on_exit stop_ssh
for ((i = 0; i < N; i++)); do
    remote="$(sh_quote "$REMOTE_BIN")"
    for arg in "${ARGS[@]}" --shard "$i/$N" --run-id "$RUN_ID" --start-at "$START_AT" -q -o -; do
        remote+=" $(sh_quote "$arg")"
    done
    printf '%s %s\n' "${HOSTS[i]}" "$remote" >>commands.txt
    "${SSH[@]}" "${HOSTS[i]}" "$remote" </dev/null >"shard-$i.json" 2>"shard-$i.err" &
    PIDS+=($!)
done
echo "$SCRIPT: $N shards, run $RUN_ID, start at $START_AT (commands: $OUT_DIR/commands.txt)" >&2

failed=0
for ((i = 0; i < N; i++)); do
    code=0
    wait "${PIDS[i]}" || code=$?
    if ((code != 0)); then
        # 255 is ssh's own failure (no connection, refused key), not bench-client's.
        why="bench-client exit $code"
        ((code != 255)) || why="ssh failed (exit 255)"
        echo "$SCRIPT: shard $i on ${HOSTS[i]}: $why: $(tail -n 3 "shard-$i.err" 2>/dev/null | tr '\n' ' ')" >&2
        failed=1
    fi
    if [[ ! -s "shard-$i.json" ]]; then
        rm -f "shard-$i.json"
        ((code != 0)) || echo "$SCRIPT: shard $i on ${HOSTS[i]}: exit 0 but no result on its stdout" >&2
        failed=1
    fi
done
PIDS=()

merge_shards "$OUT_DIR" "$BC" "$N" || failed=1
# No committed folder, so nothing to name for --regenerate.
# shellcheck disable=SC2119
output_publish
exit "$failed"
