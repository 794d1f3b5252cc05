#!/usr/bin/env bash
# The mixed load of every role (benches/load/src/bin/mix_load.rs) against the release server on a fresh
# database with the `serve --demo` data (20 dealers, about 2,000 policies).
# Usage: benches/mix_load.sh postgres|sqlite [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/autovacuum.sh
backend=${1:-postgres}
clients=${2:-32}
seconds=${3:-30}
case "$backend" in
  postgres)
    admin=postgres://postgres@127.0.0.1:5432/postgres
    psql "$admin" -qc "DROP DATABASE IF EXISTS ac_mix_load WITH (FORCE)" -c "CREATE DATABASE ac_mix_load"
    url=postgres://postgres@127.0.0.1:5432/ac_mix_load ;;
  sqlite)
    rm -f /tmp/ac_mix_load.db*
    url=sqlite:///tmp/ac_mix_load.db ;;
  *) echo "usage: $0 postgres|sqlite [clients] [seconds]" >&2; exit 2 ;;
esac
cargo build --release --quiet
cargo build --release --quiet -p autochannel-load --bin mix_load
DATABASE_URL=$url AUTOCHANNEL_DEMO_PASSWORD=demo-password-1 AUTOCHANNEL_LOG=warn AUTOCHANNEL_DOCUMENT_DIR=/tmp/ac_mix_docs \
  AUTOCHANNEL_BIND=127.0.0.1:18092 AUTOCHANNEL_LOGIN_MAX_FAILURES=1000 "${CARGO_TARGET_DIR:-target}/release/autochannel" serve --demo >/tmp/mix_load_server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; autovacuum_restore' EXIT
if [ "$backend" = postgres ]; then autovacuum_for_run "$admin"; fi
for _ in $(seq 1 120); do curl -sf http://127.0.0.1:18092/readyz >/dev/null && break; sleep 1; done
echo "== $backend"
AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18092 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=$seconds "${CARGO_TARGET_DIR:-target}/release/mix_load"
