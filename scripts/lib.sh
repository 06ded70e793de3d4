# shellcheck shell=bash
# lib.sh: what the scripts in scripts/ share. Sourced, never run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It sets ROOT (the repository root, absolute) and SCRIPT (the script's file
# name), and provides:
#
#   usage                     print the calling script's header (--help)
#   die MSG, usage_error MSG  exit 1 / exit 2 with "SCRIPT: MSG" on stderr
#   opt_value "$@"            the value of the option in $1, or a usage error
#   on_exit CMD               run CMD when the script exits (last added first)
#   find_binary NAME          print the path of a release binary of this
#                             workspace (bench-client, selector-server, ...),
#                             built with cargo unless overridden (see below)
#   listen_addr FILE          IP:PORT from a server's `listening on` line
#   wait_listen_addr FILE PID [SECONDS]
#                             the same, waiting for the line (default 10 s)
#   output_open NAME [COMMITTED_DIR]
#   output_publish [PATTERN...]
#                             the output folder; see "Output" below
#   free_port                 a free TCP port on 127.0.0.1
#   make_test_cert DIR        DIR/cert.pem and DIR/key.pem: a self-signed
#                             ECDSA P-256 certificate for 127.0.0.1/localhost
#   nginx_start PREFIX CPU    run $NGINX on PREFIX/nginx.conf, pinned to CPU,
#                             in the background; sets NGINX_PID
#   nginx_wait PREFIX URL [CURL_ARG...]
#                             wait (10 s at most) until that nginx answers
#   start_time SECONDS        an RFC 3339 UTC time SECONDS from now, for
#                             --start-at
#   refuse_flags "FLAG..." ARG...
#                             a usage error when an ARG is one of FLAGS (the
#                             flags a runner of shards sets itself)
#   yaml_quote ARG            ARG as a YAML double-quoted string
#   merge_shards DIR BIN N    DIR/shard-*.json (N expected) merged into
#                             DIR/merged.json by BIN, then a table of the
#                             shards and the merged summary
#
# Binaries: BENCH_CLIENT=path (or SELECTOR_SERVER=path, ... the name in
# capitals with - as _) uses that file instead of building; SKIP_BUILD=1 uses
# the existing release build in ${CARGO_TARGET_DIR:-target}/release.
#
# Output: every script that writes files takes `-o/--output DIR` and
# `--regenerate`, parsed into OUT and REGENERATE, then calls output_open,
# which sets OUT_DIR, the folder to write into:
#   - default: a new folder out/NAME-<UTC time>/ in the repository (git
#     ignores out/), so that nothing committed is touched;
#   - -o DIR: DIR (created if needed), unless it holds files that git tracks:
#     committed measurements are rewritten only by --regenerate;
#   - --regenerate: a fresh staging folder; once the script has succeeded,
#     output_publish removes every file the script owns in COMMITTED_DIR (the
#     PATTERNs, relative to it), copies the new ones in, and says so. A failed
#     run leaves the committed files as they were.
# output_publish then prints the folder the results are in (last line).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIPT="$(basename "$0")"
OUT=""
REGENERATE=0
OUT_DIR=""
_PUBLISH_TO=""
_PUBLISHED=0
_ON_EXIT=()

usage() {
    # The header: every comment line after the shebang, up to the first other line.
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

die() {
    echo "$SCRIPT: $*" >&2
    exit 1
}

usage_error() {
    echo "$SCRIPT: $* (try --help)" >&2
    exit 2
}

# opt_value "$@": prints $2, the value of option $1; a usage error when there
# is none. Use as VAR=$(opt_value "$@"); shift 2 (set -e stops on the error).
opt_value() {
    [[ $# -ge 2 && -n "$2" ]] || usage_error "$1 needs a value"
    printf '%s' "$2"
}

on_exit() {
    _ON_EXIT+=("$1")
}

_run_on_exit() {
    local status=$? i
    for ((i = ${#_ON_EXIT[@]} - 1; i >= 0; i--)); do
        eval "${_ON_EXIT[i]}" || true
    done
    exit "$status"
}
trap _run_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

find_binary() {
    local name="$1" var
    var="$(tr 'a-z-' 'A-Z_' <<<"$name")"
    if [[ -n "${!var:-}" ]]; then
        [[ -x "${!var}" ]] || die "$var=${!var} is not an executable file"
        printf '%s' "${!var}"
        return
    fi
    local package=bench-client
    [[ "$name" == bench-client ]] || package=reference-servers
    if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
        echo "$SCRIPT: building $name (cargo build --release)" >&2
        (cd "$ROOT" && PATH="$HOME/.cargo/bin:$PATH" cargo build --release --quiet -p "$package" --bin "$name") \
            || die "cargo build of $name failed"
    fi
    local target="${CARGO_TARGET_DIR:-$ROOT/target}"
    [[ "$target" == /* ]] || target="$ROOT/$target"
    [[ -x "$target/release/$name" ]] || die "$target/release/$name not found (build it, or set $var=path)"
    printf '%s' "$target/release/$name"
}

# listen_addr FILE: prints IP:PORT from the first line of FILE of the form
#   listening on SCHEME://IP:PORT[/] [key=value ...]
# (today `listening on http://127.0.0.1:8888`; a TLS server may add fields,
# e.g. `listening on https://127.0.0.1:8443 cert=PATH`). IPv6 stays in
# brackets: [::1]:80. Fails (status 1, prints nothing) when there is none.
listen_addr() {
    local line
    line="$(grep -m1 -E '^listening on [a-z][a-z0-9+.-]*://' "$1" 2>/dev/null)" || return 1
    line="${line#listening on *://}"
    line="${line%%[[:space:]]*}"
    line="${line%/}"
    [[ "$line" =~ ^(\[[0-9a-fA-F:.]+\]|[0-9.]+):[0-9]+$ ]] || return 1
    printf '%s' "$line"
}

# wait_listen_addr FILE PID [SECONDS]: listen_addr once the server PID has
# printed the line; dies when PID exits first or SECONDS (default 10) pass,
# quoting the server's stderr when it went to FILE with .err for .out
# (server.out, server.err).
wait_listen_addr() {
    local file="$1" pid="$2" tenths=$(( ${3:-10} * 10 )) addr i
    for ((i = 0; i < tenths; i++)); do
        if addr="$(listen_addr "$file")"; then
            printf '%s' "$addr"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || die "the server (pid $pid) exited before printing its listening line: $(cat "${file%.out}.err" 2>/dev/null || true)"
        sleep 0.1
    done
    die "the server (pid $pid) did not print its listening line within ${3:-10} s"
}

# output_open NAME [COMMITTED_DIR]: sets OUT_DIR from OUT and REGENERATE (see
# the header). COMMITTED_DIR is relative to ROOT; without it the script has no
# committed output and --regenerate is refused.
output_open() {
    local name="$1" committed="${2:-}"
    if ((REGENERATE)); then
        [[ -n "$committed" ]] || usage_error "--regenerate: this script has no committed output"
        [[ -z "$OUT" ]] || usage_error "--regenerate writes $committed; it cannot be combined with -o"
        _PUBLISH_TO="$ROOT/$committed"
        OUT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/$name-regenerate.XXXXXX")"
        on_exit _drop_stage
        return
    fi
    if [[ -n "$OUT" ]]; then
        OUT_DIR="$(realpath -m -- "$OUT")"
        if [[ -d "$OUT_DIR" ]] && [[ -n "$(git -C "$OUT_DIR" ls-files 2>/dev/null | head -1)" ]]; then
            usage_error "$OUT holds files committed to git; rewrite committed results with --regenerate, not -o"
        fi
    else
        local stamp
        stamp="$(date -u +%Y%m%dT%H%M%SZ)"
        OUT_DIR="$ROOT/out/$name-$stamp"
        local n=2
        while [[ -e "$OUT_DIR" ]]; do OUT_DIR="$ROOT/out/$name-$stamp-$n"; n=$((n + 1)); done
    fi
    mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
}

# A published staging folder goes; an unpublished one (the run failed) stays
# for a look, and the committed files are untouched.
_drop_stage() {
    if ((_PUBLISHED)); then
        rm -rf -- "$OUT_DIR"
    elif [[ -d "$OUT_DIR" ]]; then
        echo "$SCRIPT: ${_PUBLISH_TO#"$ROOT"/}/ left as it was; this run's files are in $OUT_DIR" >&2
    fi
}

# output_publish [PATTERN...]: finishes a successful run. With --regenerate,
# removes COMMITTED_DIR/PATTERN for each PATTERN (the files this script owns
# there; none removed when no PATTERN is given), then copies OUT_DIR's files
# in. Drops empty *.err files first: an empty error log says nothing. Prints
# where the results are.
output_publish() {
    find "$OUT_DIR" -name '*.err' -type f -empty -delete
    if [[ -n "$_PUBLISH_TO" ]]; then
        mkdir -p "$_PUBLISH_TO"
        local pattern
        for pattern in "$@"; do
            # Unquoted on purpose: PATTERN is a glob within the committed folder.
            # shellcheck disable=SC2086
            rm -rf -- "${_PUBLISH_TO:?}"/$pattern
        done
        cp -R -- "$OUT_DIR"/. "$_PUBLISH_TO"/
        _PUBLISHED=1
        echo "$SCRIPT: regenerated ${_PUBLISH_TO#"$ROOT"/}/ (review with git diff, then commit)" >&2
        echo "output: $_PUBLISH_TO"
    else
        echo "output: $OUT_DIR"
    fi
}

# free_port: prints a TCP port of 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_test_cert DIR: DIR/cert.pem and DIR/key.pem, a self-signed ECDSA
# P-256 certificate for IP 127.0.0.1 and localhost, valid for a day; never
# committed. ECDSA P-256, as most sites serve today: the client verifies one
# signature per full handshake whatever the key, so the choice matters to
# handshake costs, not to keep-alive requests. CA:FALSE: openssl marks a
# self-signed certificate as a CA by default, which rustls (bench-client,
# oha) refuses as a server's own certificate.
make_test_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
        -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1 \
        || die "openssl could not make the test certificate"
    # Readable by an nginx worker that root started as another user.
    chmod 644 "$1/key.pem" "$1/cert.pem"
}

# nginx_start PREFIX CPU: runs ${NGINX:-nginx} on PREFIX/nginx.conf (written
# by the caller, `daemon off`) with PREFIX as its prefix folder, pinned to
# CPU, in the background of this shell, so that NGINX_PID is its master and
# the caller can stop it and wait for it. Its output goes to PREFIX/nginx.out,
# its error log to PREFIX/error.log. Creates the tmp/ folders the usual
# bench configurations name.
nginx_start() {
    local prefix="$1" cpu="$2"
    mkdir -p "$prefix"/tmp/{client_body,proxy,fastcgi,uwsgi,scgi}
    # Started as root, nginx runs its worker as an unprivileged user, which
    # must reach the prefix and write its temporary folders.
    chmod 755 "$(dirname "$prefix")" "$prefix"
    chmod 777 "$prefix/tmp" "$prefix"/tmp/*
    # The worker's connections need descriptors: raise the soft limit.
    ( ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
      exec taskset -c "$cpu" "${NGINX:-nginx}" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log" ) \
        >"$prefix/nginx.out" 2>&1 &
    NGINX_PID=$!
}

# nginx_wait PREFIX URL [CURL_ARG...]: returns once the nginx of
# nginx_start answers URL (any status); dies when it exits first or 10 s
# pass, quoting its output and error log.
nginx_wait() {
    local prefix="$1" url="$2" i
    shift 2
    for ((i = 0; i < 100; i++)); do
        curl -s "$@" -o /dev/null --max-time 1 "$url" && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.1
    done
    die "nginx did not answer on $url within 10 s: $(cat "$prefix/nginx.out" "$prefix/error.log" 2>/dev/null || true)"
}

# start_time SECONDS: now + SECONDS as 2026-11-29T19:00:00Z. Whole seconds:
# an absolute start a person can read back in every shard's command line.
start_time() {
    local at=$(( $(date +%s) + $1 ))
    # GNU date, else BSD date (macOS), where -r takes seconds.
    date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$at" +%Y-%m-%dT%H:%M:%SZ
}

# refuse_flags "FLAG..." ARG...: the runner sets these flags on every shard;
# given again, bench-client would refuse the repeat, or worse, each shard
# would not be a shard of one run. Matches --flag, --flag=VALUE and -oVALUE.
refuse_flags() {
    local flags="$1" arg flag
    shift
    for arg in "$@"; do
        for flag in $flags; do
            if [[ "$arg" == "$flag" || "$arg" == "$flag="* ]] \
                || [[ ${#flag} -eq 2 && "$arg" == "$flag"?* && "$arg" != --* ]]; then
                usage_error "bench-client's $flag is set by $SCRIPT for every shard; leave it out of the arguments after --"
            fi
        done
    done
}

# yaml_quote ARG: a YAML double-quoted scalar holding exactly ARG, for a
# container's args. Every $ is doubled: Kubernetes reads $(NAME) in args as
# a variable reference and $$ as one $. Control characters are refused
# rather than escaped: no bench-client argument needs one.
yaml_quote() {
    local s="$1"
    [[ "$s" != *[[:cntrl:]]* ]] || usage_error "an argument holds a control character (newline, tab...): $(printf '%q' "$s")"
    s="${s//\\/\\\\}"
    s="${s//\"/\\\"}"
    s="${s//\$/\$\$}"
    printf '"%s"' "$s"
}

# merge_shards DIR BIN N: merges DIR/shard-*.json with `BIN merge` into
# DIR/merged.json (one shard: a copy; merge takes two or more), then prints
# each shard's figures and how late it started, and the merged summary (jq
# when installed; without it, merge's own line only). Fewer files than the N
# shards still merge, with a warning that says so: the others' figures are
# worth a look, but not as the whole run. Returns merge's status.
merge_shards() {
    local dir="$1" bin="$2" n="$3" files=() f
    for f in "$dir"/shard-*.json; do
        [[ -e "$f" ]] && files+=("$f")
    done
    ((${#files[@]} > 0)) || { echo "$SCRIPT: no shard result to merge in $dir" >&2; return 1; }
    if ((${#files[@]} == 1)); then
        cp -- "${files[0]}" "$dir/merged.json"
    elif ((${#files[@]} < n)); then
        # merge refuses a shard set with a hole unless forced: the partial
        # merge is still worth a look, and is said to be partial below.
        "$bin" merge --force "${files[@]}" -o "$dir/merged.json" || return
    else
        "$bin" merge "${files[@]}" -o "$dir/merged.json" || return
    fi
    if ((${#files[@]} < n)); then
        echo "$SCRIPT: merged.json holds ${#files[@]} of the $n shards: it is not the whole run" >&2
    fi
    command -v jq >/dev/null || { echo "$SCRIPT: install jq for the per-shard table" >&2; return 0; }
    # shard/start are absent from a result made without the shard flags:
    # shown as "-", never as an error here.
    jq -r -s '
        def ms: if . == null then "-" else (. * 1000 | round / 1000 | tostring) end;
        (["shard", "requests", "errors", "req/s", "p50 ms", "p99 ms", "late ms", "clock"] | @tsv),
        (.[] | [
            (if .shard then "\(.shard.index)/\(.shard.count)" else "-" end),
            .summary.requests, .summary.errors, (.summary.requests_per_sec | round),
            (.latency.percentiles["50"] / 1000 | ms), (.latency.percentiles["99"] / 1000 | ms),
            (.start.late_ms | ms), (.start.clock.status // "-")
        ] | @tsv)' "${files[@]}" "$dir/merged.json" \
        | awk -F'\t' 'NR == 1 + '"${#files[@]}"' + 1 { $1 = "merged" } { printf "%-8s %10s %8s %10s %8s %8s %8s  %s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
}
