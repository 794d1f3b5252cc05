#!/usr/bin/env bash
# Issuing under load on PostgreSQL: builds the release server, starts it on a fresh
# database with demo data, runs benches/load/src/bin/issue_load.rs against it, and runs `pgbench -N`
# on the same server as the machine's write ceiling. Usage: benches/issue_load.sh [clients] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/autovacuum.sh
clients=${1:-32}
seconds=${2:-20}
admin=postgres://postgres@127.0.0.1:5432/postgres
db=ac_load
psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
target=${CARGO_TARGET_DIR:-target}
# AUTOCHANNEL_BIN runs a given server binary instead of building this checkout (to compare two builds).
bin=${AUTOCHANNEL_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=$target/release/autochannel
fi
cargo build --release --quiet -p autochannel-load --bin issue_load
DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db AUTOCHANNEL_DEMO_PASSWORD=demo-password-1 AUTOCHANNEL_LOG=warn \
  AUTOCHANNEL_BIND=127.0.0.1:18090 AUTOCHANNEL_LOGIN_MAX_FAILURES=1000 "$bin" serve --demo >/tmp/issue_load_server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; autovacuum_restore' EXIT
autovacuum_for_run "$admin"
for _ in $(seq 1 60); do curl -sf http://127.0.0.1:18090/readyz >/dev/null && break; sleep 1; done
# Warm-up, then VACUUM ANALYZE: on a fresh database the idempotency keys table starts empty, so the plans the
# connections cache for it are sequential scans that slow as it fills (0.5 ms a lookup after 9,000 keys);
# in service autovacuum analyzes a table within a minute of its growing. The run measures that steady state.
echo "== warm-up: $clients clients, 5 s (not measured), then VACUUM ANALYZE"
AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18090 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=5 "${CARGO_TARGET_DIR:-target}/release/issue_load" >/dev/null
psql "postgres://postgres@127.0.0.1:5432/$db" -qc "VACUUM ANALYZE"
echo "== autochannel: $clients clients, $seconds s"
AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18090 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=$seconds "${CARGO_TARGET_DIR:-target}/release/issue_load"
echo "== pgbench -N (simple updates), $clients clients, $seconds s, same server"
pgbench -h 127.0.0.1 -U postgres -i -q -s 10 $db >/dev/null 2>&1
pgbench -h 127.0.0.1 -U postgres -N -c "$clients" -j 2 -T "$seconds" $db 2>/dev/null | grep -E "^tps|latency average"
