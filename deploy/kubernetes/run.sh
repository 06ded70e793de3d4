#!/usr/bin/env bash
# run.sh: a sharded bench-client run as a Kubernetes Indexed Job. Fills
# job.yaml (pod I runs shard I of N) with one absolute start time, now + a
# margin, applies it, waits until every shard has finished, saves each
# shard's result JSON (from its log; with --volume from a shared volume) as
# shard-I.json, merges them with the local bench-client into merged.json and
# prints each shard's figures and the merged summary.
#
# Usage: deploy/kubernetes/run.sh [options] URL [-- BENCH-CLIENT-ARGS...]
#   -s, --shards N      pods, one shard each (default 3)
#   --image IMAGE       the bench-client image, built from deploy/Dockerfile
#                       (default $BENCH_IMAGE, else bench-client:latest)
#   --name NAME         the Job's name (default bench-<UTC time>)
#   -n, --namespace NS  (default: kubectl's current namespace)
#   --margin SECONDS    from now to the start: scheduling and image pulls
#                       must fit in it (default 30)
#   --start-at TIME     this RFC 3339 start instead of now + margin
#   --cpu CPUS          each shard's CPU request and limit (default 2)
#   --memory SIZE       each shard's memory request and limit (default 1Gi)
#   --timeout SECONDS   the Job's deadline from its creation, margin included;
#                       shards still running then are stopped and print a
#                       partial result (default 600)
#   --volume CLAIM      the results go to the ReadWriteMany claim CLAIM
#                       (job-volume.yaml) and are read back by a reader pod
#   --reader-image IMG  that pod's image, with sh and cat (default busybox:1.36)
#   --keep              keep the Job and its pods (default: deleted once the
#                       results are saved)
#   --dry-run           print the filled manifests and stop: no cluster, no
#                       output folder
#   -o, --output DIR    write into DIR (default: a new out/k8s-<UTC time>/)
#   -h, --help          this help
# BENCH-CLIENT-ARGS: the load, e.g. -c 64 -R 20000 -d 60s (the whole run's
# connections and rate, shared out by the shards). --shard(s), --start-at,
# --run-id, --metrics-addr, -o and -q are set here. The run id is the Job's
# uid.
#
# Needs kubectl (and a cluster) unless --dry-run, a local bench-client for
# the merge (BENCH_CLIENT=path or SKIP_BUILD=1, see scripts/lib.sh), and jq
# for the table. Exit status: 0 every shard exited 0 and the merge worked;
# 1 a shard failed or is missing (the others are still merged), the Job did
# not finish in time, or the merge failed; 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
HERE="$ROOT/deploy/kubernetes"

SHARDS=3
IMAGE="${BENCH_IMAGE:-bench-client:latest}"
NAME="bench-$(date -u +%Y%m%d-%H%M%S)"
NAMESPACE=""
MARGIN=30
START_AT=""
CPU=2
MEMORY=1Gi
TIMEOUT=600
CLAIM=""
READER_IMAGE=busybox:1.36
KEEP=0
DRY_RUN=0
URL=""
LOAD=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        -s|--shards) SHARDS="$(opt_value "$@")"; shift 2 ;;
        --image) IMAGE="$(opt_value "$@")"; shift 2 ;;
        --name) NAME="$(opt_value "$@")"; shift 2 ;;
        -n|--namespace) NAMESPACE="$(opt_value "$@")"; shift 2 ;;
        --margin) MARGIN="$(opt_value "$@")"; shift 2 ;;
        --start-at) START_AT="$(opt_value "$@")"; shift 2 ;;
        --cpu) CPU="$(opt_value "$@")"; shift 2 ;;
        --memory) MEMORY="$(opt_value "$@")"; shift 2 ;;
        --timeout) TIMEOUT="$(opt_value "$@")"; shift 2 ;;
        --volume) CLAIM="$(opt_value "$@")"; shift 2 ;;
        --reader-image) READER_IMAGE="$(opt_value "$@")"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -o|--output) OUT="$(opt_value "$@")"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        --) shift; LOAD=("$@"); break ;;
        -*) usage_error "unknown argument '$1'" ;;
        *) [[ -z "$URL" ]] || usage_error "one URL only ('$URL', then '$1'); bench-client's arguments go after --"
           URL="$1"; shift ;;
    esac
done
[[ -n "$URL" ]] || usage_error "the target URL is missing, e.g. http://target.default.svc:8080/"
[[ "$URL" =~ ^https?:// ]] || usage_error "the URL must start with http:// or https://, not '$URL'"
[[ "$SHARDS" =~ ^[1-9][0-9]{0,3}$ ]] || usage_error "--shards needs a whole number from 1 to 9999, not '$SHARDS'"
[[ "$MARGIN" =~ ^[0-9]+$ ]] || usage_error "--margin needs whole seconds, not '$MARGIN'"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout needs whole seconds, not '$TIMEOUT'"
# The pods are NAME-I-xxxxx with hostname NAME-I: NAME must be a DNS label
# with room for the index.
[[ "$NAME" =~ ^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$ ]] \
    || usage_error "--name needs lowercase letters, digits and '-' (at most 52, not starting or ending with '-'), not '$NAME'"
[[ "$CPU" =~ ^[0-9]+(\.[0-9]+|m)?$ ]] || usage_error "--cpu needs a CPU quantity (2, 1.5, 500m), not '$CPU'"
[[ "$MEMORY" =~ ^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$ ]] || usage_error "--memory needs a memory quantity (512Mi, 1Gi), not '$MEMORY'"
[[ -z "$START_AT" || "$START_AT" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] \
    || usage_error "--start-at needs an RFC 3339 time such as 2026-11-29T19:00:00Z, not '$START_AT'"
[[ "$IMAGE" =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || usage_error "--image '$IMAGE' is not an image reference"
[[ "$READER_IMAGE" =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]] || usage_error "--reader-image '$READER_IMAGE' is not an image reference"
[[ -z "$CLAIM" || "$CLAIM" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || usage_error "--volume needs a claim name, not '$CLAIM'"
refuse_flags "--shard --shards --start-at --run-id --metrics-addr -o --output -q --quiet --no-save" "${LOAD[@]}"

if ((DRY_RUN == 0)); then
    command -v kubectl >/dev/null || die "needs kubectl (or use --dry-run to print the manifests)"
    # Before the start time is picked: a first build takes minutes.
    BC="$(find_binary bench-client)"
fi
[[ -n "$START_AT" ]] || START_AT="$(start_time "$MARGIN")"
if [[ -n "$CLAIM" ]]; then
    RESULT_DIR=/results
    OUTPUT="$RESULT_DIR/$NAME-shard-\$(SHARD_INDEX).json"
else
    OUTPUT=-
fi
ARGS_YAML=""
for arg in "${LOAD[@]}" "$URL"; do
    ARGS_YAML+="- $(yaml_quote "$arg")"$'\n'
done

# render TEMPLATE: the template with each ${NAME} placeholder replaced by
# the value of T_NAME, and a line holding only ${ARGS} by the argument list
# at its indentation. A placeholder without a value is an error, so that no
# manifest goes out with a ${...} in it.
render() {
    awk '
        /^[ ]*\$\{ARGS\}[ ]*$/ {
            indent = substr($0, 1, index($0, "$") - 1)
            n = split(ENVIRON["T_ARGS"], lines, "\n")
            for (i = 1; i <= n; i++) if (lines[i] != "") print indent lines[i]
            next
        }
        {
            rest = $0; out = ""
            while (match(rest, /\$\{[A-Z_]+\}/)) {
                key = "T_" substr(rest, RSTART + 2, RLENGTH - 3)
                if (!(key in ENVIRON)) {
                    printf "%s: line %d: no value for %s\n", FILENAME, NR, substr(rest, RSTART, RLENGTH) > "/dev/stderr"
                    bad = 1
                }
                out = out substr(rest, 1, RSTART - 1) ENVIRON[key]
                rest = substr(rest, RSTART + RLENGTH)
            }
            print out rest
        }
        END { exit bad }' "$1"
}
# The Job's deadline counts from its creation: the wait for the start comes
# first, then --timeout for the run itself.
until_start=$(( $(date -u -d "$START_AT" +%s 2>/dev/null || date +%s) - $(date +%s) ))
((until_start > 0)) || until_start=0
export T_NAME="$NAME" T_SHARDS="$SHARDS" T_START_AT="$START_AT" T_DEADLINE_S="$((TIMEOUT + until_start))" \
    T_IMAGE="$IMAGE" T_CPU="$CPU" T_MEMORY="$MEMORY" T_OUTPUT="$OUTPUT" T_ARGS="$ARGS_YAML" \
    T_CLAIM="$CLAIM" T_READER_IMAGE="$READER_IMAGE"

# job_manifest: the Job, with the volume patch over it for --volume (kubectl
# patch --local merges the two offline, containers by name).
job_manifest() {
    local job
    job="$(render "$HERE/job.yaml")" || die "job.yaml has a placeholder run.sh does not fill"
    if [[ -z "$CLAIM" ]]; then
        printf '%s\n' "$job"
        return
    fi
    command -v kubectl >/dev/null || die "--volume needs kubectl, even with --dry-run (kubectl patch --local merges job-volume.yaml)"
    local patch
    patch="$(render "$HERE/job-volume.yaml")" || die "job-volume.yaml has a placeholder run.sh does not fill"
    kubectl patch --local -f - --type strategic -p "$patch" -o yaml <<<"$job" \
        || die "kubectl patch --local could not merge job-volume.yaml into job.yaml"
}

if ((DRY_RUN)); then
    job_manifest
    if [[ -n "$CLAIM" ]]; then
        echo "---"
        render "$HERE/volume-reader.yaml"
    fi
    exit 0
fi

KUBECTL=(kubectl)
[[ -z "$NAMESPACE" ]] || KUBECTL+=(--namespace "$NAMESPACE")
output_open k8s
cd "$OUT_DIR"

job_manifest >job.yaml
"${KUBECTL[@]}" apply -f job.yaml >&2 || die "kubectl apply of the Job failed (manifest: $OUT_DIR/job.yaml)"
# shellcheck disable=SC2317  # run by on_exit
delete_job() { "${KUBECTL[@]}" delete job "$NAME" --wait=false >/dev/null 2>&1; }
((KEEP)) || on_exit delete_job
echo "$SCRIPT: job/$NAME: $SHARDS shards start at $START_AT" >&2

# Wait for Complete or Failed (kubectl wait takes one condition; a failed
# shard must not leave us waiting out the deadline). The Job's own deadline
# ends it; the extra minute covers the controller's reaction.
deadline=$(( $(date +%s) + TIMEOUT + 60 ))
state=""
while :; do
    state="$("${KUBECTL[@]}" get job "$NAME" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}' 2>/dev/null || true)"
    [[ " $state " == *" Complete "* || " $state " == *" Failed "* ]] && break
    (( $(date +%s) < deadline )) || { echo "$SCRIPT: job/$NAME has not finished after $((TIMEOUT + 60)) s; collecting what there is" >&2; break; }
    sleep 5
done
echo "$SCRIPT: job/$NAME: ${state:-unfinished}" >&2

# index pod phase exit-code, one line per pod.
"${KUBECTL[@]}" get pods -l "app.kubernetes.io/instance=$NAME" -o jsonpath='{range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index}{" "}{.metadata.name}{" "}{.status.phase}{" "}{.status.containerStatuses[0].state.terminated.exitCode}{"\n"}{end}' >pods.txt \
    || die "kubectl get pods failed"

if [[ -n "$CLAIM" ]]; then
    render "$HERE/volume-reader.yaml" >reader.yaml
    "${KUBECTL[@]}" apply -f reader.yaml >&2 || die "could not start the reader pod (reader.yaml)"
    # shellcheck disable=SC2317  # run by on_exit
    delete_reader() { "${KUBECTL[@]}" delete pod "$NAME-reader" --wait=false >/dev/null 2>&1; }
    on_exit delete_reader
    "${KUBECTL[@]}" wait --for=condition=Ready "pod/$NAME-reader" --timeout=120s >&2 \
        || die "the reader pod $NAME-reader did not become ready (is $CLAIM ReadWriteMany?)"
fi

failed=0
for ((i = 0; i < SHARDS; i++)); do
    line="$(awk -v i="$i" '$1 == i' pods.txt | head -1)"
    if [[ -z "$line" ]]; then
        echo "$SCRIPT: shard $i: no pod (never scheduled?)" >&2
        failed=1
        continue
    fi
    read -r _ pod phase code <<<"$line"
    "${KUBECTL[@]}" logs "$pod" >"shard-$i.log" 2>&1 || true
    if [[ -n "$CLAIM" ]]; then
        "${KUBECTL[@]}" exec "$NAME-reader" -- cat "$RESULT_DIR/$NAME-shard-$i.json" >"shard-$i.json" 2>/dev/null || rm -f "shard-$i.json"
    else
        # The log holds stdout and stderr together; the result is the one
        # pretty-printed object, from a line "{" to the line "}" closing it.
        awk '/^\{$/ { on = 1 } on { print } on && /^\}$/ { exit }' "shard-$i.log" >"shard-$i.json"
        [[ -s "shard-$i.json" ]] || rm -f "shard-$i.json"
    fi
    if [[ "$code" != 0 ]]; then
        echo "$SCRIPT: shard $i ($pod): $phase, exit ${code:-none}; its log: $OUT_DIR/shard-$i.log" >&2
        failed=1
    fi
    [[ -e "shard-$i.json" ]] || { echo "$SCRIPT: shard $i: no result in its output" >&2; failed=1; }
done

merge_shards "$OUT_DIR" "$BC" "$SHARDS" || failed=1
# No committed folder, so nothing to name for --regenerate.
# shellcheck disable=SC2119
output_publish
exit "$failed"
