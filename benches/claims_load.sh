#!/usr/bin/env bash
# Claims under load: builds the release server, fills a fresh database with demo data
# holding about 100,000 claims, starts the server and runs benches/load/src/bin/claims_load.rs against it.
# On PostgreSQL it ends with `pgbench -N` on the same server as the write ceiling.
# Usage: benches/claims_load.sh postgres|sqlite [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/autovacuum.sh
backend=${1:-postgres}
clients=${2:-32}
seconds=${3:-20}
# REUSE=1 runs against the database of the previous run (same data, minutes saved).
reuse=${REUSE:-0}
case "$backend" in
  postgres)
    admin=postgres://postgres@127.0.0.1:5432/postgres
    [ "$reuse" = 1 ] || psql "$admin" -qc "DROP DATABASE IF EXISTS ac_claims_load WITH (FORCE)" -c "CREATE DATABASE ac_claims_load"
    url=postgres://postgres@127.0.0.1:5432/ac_claims_load ;;
  sqlite)
    [ "$reuse" = 1 ] || rm -f /tmp/ac_claims_load.db*
    url=sqlite:///tmp/ac_claims_load.db ;;
  *) echo "usage: $0 postgres|sqlite [clients] [seconds]" >&2; exit 2 ;;
esac
target=${CARGO_TARGET_DIR:-target}
# AUTOCHANNEL_BIN runs a given server binary instead of building this checkout (to compare two builds on one
# database, with REUSE=1).
bin=${AUTOCHANNEL_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=$target/release/autochannel
fi
cargo build --release --quiet -p autochannel-load --bin claims_load
if [ "$reuse" != 1 ]; then
  # 200 dealers, 400,000 policies; 1.0 claims per vehicle-year gives about 100,000 claims.
  time "$bin" --database-url "$url" demo-data --dealers 200 --policies 400000 --claim-rate 1.0
  # The two logins the load signs in with (serve --demo adds none to a filled database).
  echo demo-password-1 | "$bin" --database-url "$url" user add --name claims_lead --role claims_adjuster --authority-limit 500000
  echo demo-password-1 | "$bin" --database-url "$url" user add --name assistant --role sales_assistant --dealer DLR0001
fi
DATABASE_URL=$url AUTOCHANNEL_DEMO_PASSWORD=demo-password-1 AUTOCHANNEL_LOG=warn AUTOCHANNEL_DOCUMENT_DIR=/tmp/ac_claims_docs \
  AUTOCHANNEL_BIND=127.0.0.1:18091 AUTOCHANNEL_LOGIN_MAX_FAILURES=1000 "$bin" serve >/tmp/claims_load_server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; autovacuum_restore' EXIT
if [ "$backend" = postgres ]; then autovacuum_for_run "$admin"; fi
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:18091/readyz >/dev/null && break; sleep 1; done
if [ "$backend" = postgres ]; then
  # Warm-up, then VACUUM ANALYZE: the state autovacuum keeps a server in. The demo data was just written
  # (or a previous run's claims) with autovacuum off, and its first pass would otherwise fall in the measured
  # run; the idempotency keys of the reports and payments start from an empty table whose cached plans are
  # sequential scans until analyzed.
  echo "== warm-up: $clients clients, 5 s a phase (not measured), then VACUUM ANALYZE"
  AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18091 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=5 "$target/release/claims_load" >/dev/null
  psql "$url" -qc "VACUUM ANALYZE"
fi
AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18091 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=$seconds "$target/release/claims_load"
if [ "$backend" = postgres ]; then
  # The machine's write ceiling in the same run, as in issue_load.sh: this shared machine's speed drifts by
  # a fifth from hour to hour, and the transitions with it.
  echo "== pgbench -N (simple updates), $clients clients, 10 s, same server"
  pgbench -h 127.0.0.1 -U postgres -i -q -s 10 ac_claims_load >/dev/null 2>&1
  pgbench -h 127.0.0.1 -U postgres -N -c "$clients" -j 2 -T 10 ac_claims_load 2>/dev/null | grep -E "^tps"
fi
