#!/usr/bin/env bash
# tls-bench.sh: bench-client against wrk, oha and ab over HTTPS (TLS 1.3 by
# default: every tool and nginx offer it), the same rounds and pinning as
# peer-bench.sh, of which this is `peer-bench.sh --tls`:
#   - keep-alive GET / and POST /echo (64 KiB): req/s and client CPU per
#     request against wrk's, with the HTTPS gate (req/s >= 0.95x wrk,
#     CPU per request <= 1.0x wrk);
#   - `cpr`, a new connection per request (a full or resumed handshake each):
#     connections/s and client CPU per connection, bench-client with and
#     without session resumption, oha --disable-keepalive and ab.
# The target's certificate is made at start with openssl and never committed.
#
# Usage: scripts/tls-bench.sh [-o DIR | --regenerate] [--install-oha] [-h]
#   --regenerate  rewrite results/tls-bench/TARGET-tls.txt
#   (the environment and the other options are peer-bench.sh's; see its --help)
set -euo pipefail
case "${1:-}" in
    -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
esac
exec "$(dirname "${BASH_SOURCE[0]}")/peer-bench.sh" --tls "$@"
