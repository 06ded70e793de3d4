#!/usr/bin/env bash
# validate-manifests.sh: the Kubernetes manifests of deploy/kubernetes/
# checked offline, without a cluster. run.sh --dry-run renders them with
# fixed values (the Job, its --volume form and the reader pod), then
# kubernetes-validate --strict checks each against the Kubernetes API schemas
# of the oldest version the Job needs (1.33: backoffLimitPerIndex) and of
# the newest the validator knows: a misspelt or misplaced field, a wrong
# type or a missing required field fails. podmonitor.yaml is a Prometheus
# Operator resource, for which the validator has no schema: it is checked
# against the Job instead (its selector picks the Job's pods, its port is
# the container's metrics port). Not checked here: that a cluster accepts
# the Job (admission, quotas), the Dockerfile (no linter installed), the
# images.
#
# Usage: scripts/validate-manifests.sh [-h]
#   -h, --help   this help
#
# Installs kubernetes-validate with pip when missing (the one step that
# needs the network). Takes a few seconds. Exit status: 0 all valid, 1 a
# manifest is not, 2 bad usage.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

while [[ $# -gt 0 ]]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        *) usage_error "unknown argument '$1'" ;;
    esac
done

OLDEST=1.33.0
if ! command -v kubernetes-validate >/dev/null; then
    python3 -m pip install --quiet kubernetes-validate || die "pip could not install kubernetes-validate"
fi
command -v kubernetes-validate >/dev/null \
    || die "kubernetes-validate is installed but not on PATH (pip's scripts folder: $(python3 -m site --user-base)/bin)"
NEWEST="$(kubernetes-validate --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)"
[[ -n "$NEWEST" ]] || die "cannot read kubernetes-validate's version (its default Kubernetes version)"

DIR="$(mktemp -d "${TMPDIR:-/tmp}/validate-manifests.XXXXXX")"
# shellcheck disable=SC2016  # expanded when on_exit runs it
on_exit 'rm -rf -- "$DIR"'
RUN="$ROOT/deploy/kubernetes/run.sh"
# Every placeholder and option at a value that exercises it; the load
# arguments include what YAML and Kubernetes would otherwise read: quotes, a
# backslash, $(VAR).
COMMON=(--dry-run --name bench-check --start-at 2026-11-29T19:00:00.250Z --shards 4
    --image registry.example/bench-client:1.0 --cpu 1500m --memory 512Mi --timeout 900)
# shellcheck disable=SC2016  # literal on purpose
LOAD=(-- -c 64 -R 20000 -d 60s -H 'X-Note: "$(HOME)" \ end')
bash "$RUN" "${COMMON[@]}" http://target.default.svc:8080/ "${LOAD[@]}" >"$DIR/job.yaml"
bash "$RUN" "${COMMON[@]}" --volume bench-results https://target.example/ "${LOAD[@]}" >"$DIR/job-volume.yaml"

status=0
for version in "$OLDEST" "$NEWEST"; do
    echo "== Kubernetes $version"
    kubernetes-validate --strict --kubernetes-version "$version" "$DIR/job.yaml" "$DIR/job-volume.yaml" || status=1
done

# The rendered Job must still say what run.sh means: a template edit that
# drops an argument would pass the schema.
python3 - "$DIR/job.yaml" "$DIR/job-volume.yaml" "$ROOT/deploy/kubernetes/podmonitor.yaml" <<'EOF' || status=1
import sys
import yaml

job_file, volume_file, monitor_file = sys.argv[1:]
problems = []

def check(cond, what):
    if not cond:
        problems.append(what)

job = yaml.safe_load(open(job_file))
spec = job["spec"]
pod = spec["template"]
container = pod["spec"]["containers"][0]
args = container["args"]
check(spec["completionMode"] == "Indexed", "job.yaml: completionMode is not Indexed")
check(spec["completions"] == spec["parallelism"] == 4, "job.yaml: completions and parallelism are not both --shards")
check(spec.get("backoffLimitPerIndex") == 0, "job.yaml: a failed shard may be retried (backoffLimitPerIndex is not 0)")
check(pod["spec"]["restartPolicy"] == "Never", "job.yaml: restartPolicy is not Never")
for flag, value in [("--shards", "4"), ("--start-at", "2026-11-29T19:00:00.250Z"),
                    ("--metrics-addr", "0.0.0.0:9464"), ("-o", "-")]:
    check(flag in args and args[args.index(flag) + 1] == value, f"job.yaml: args lack {flag} {value}: {args}")
check(args[-1] == "http://target.default.svc:8080/", f"job.yaml: the URL is not the last argument: {args}")
check('X-Note: "$$(HOME)" \\ end' in args, f"job.yaml: the header argument did not survive quoting: {args}")
env = {e["name"]: e for e in container.get("env", [])}
check(env.get("BENCH_RUN_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
      == "metadata.labels['batch.kubernetes.io/controller-uid']", "job.yaml: BENCH_RUN_ID is not the Job's uid")
res = container["resources"]
check(res["requests"] == res["limits"], "job.yaml: requests differ from limits (the shard would share CPUs)")
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
check(ports.get("metrics") == 9464, "job.yaml: no container port named metrics on 9464")

volume, reader = yaml.safe_load_all(open(volume_file))
vargs = volume["spec"]["template"]["spec"]["containers"][0]["args"]
check(vargs[vargs.index("-o") + 1] == "/results/bench-check-shard-$(SHARD_INDEX).json",
      f"job-volume: -o is not the per-shard file on the volume: {vargs}")
claims = [v["persistentVolumeClaim"]["claimName"] for v in volume["spec"]["template"]["spec"]["volumes"]]
check(claims == ["bench-results"], f"job-volume: the volume is not the --volume claim: {claims}")
check([v["persistentVolumeClaim"]["claimName"] for v in reader["spec"]["volumes"]] == claims,
      "volume-reader.yaml reads another claim than the Job writes")

monitor = yaml.safe_load(open(monitor_file))
check(monitor["kind"] == "PodMonitor", "podmonitor.yaml is not a PodMonitor")
labels = pod["metadata"]["labels"]
selector = monitor["spec"]["selector"]["matchLabels"]
check(all(labels.get(k) == v for k, v in selector.items()),
      f"podmonitor.yaml: selector {selector} does not pick the Job's pods {labels}")
for endpoint in monitor["spec"]["podMetricsEndpoints"]:
    check(endpoint["port"] in ports, f"podmonitor.yaml: port {endpoint['port']} is not one of {list(ports)}")
annotations = pod["metadata"]["annotations"]
check(annotations.get("prometheus.io/port") == str(ports.get("metrics")), "job.yaml: prometheus.io/port is not the metrics port")

for p in problems:
    print("ERROR", p)
if not problems:
    print("INFO job.yaml, job-volume.yaml and podmonitor.yaml say what run.sh means")
sys.exit(1 if problems else 0)
EOF
((status == 0)) || die "a manifest did not validate (see above)"
echo "$SCRIPT: all manifests valid against Kubernetes $OLDEST and $NEWEST (offline; no cluster was used)"
