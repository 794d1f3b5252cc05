#!/usr/bin/env bash
# Issue #5's speed targets on PostgreSQL: 200 dealers, 1,000,000 policies, about 150,000 claims
# (demo data over the last 13 months, built once into the database ac_dashboards and kept between
# runs; set REBUILD=1 to start again), then benches/load/src/bin/dashboard_load.rs against the release server:
# the portfolio overview of all 200 dealers and dealers' dashboards under load.
# Usage: benches/dashboard_load.sh [clients] [seconds] [policies]
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/autovacuum.sh
clients=${1:-16}
seconds=${2:-30}
policies=${3:-1000000}
target=${CARGO_TARGET_DIR:-target}
admin=postgres://postgres@127.0.0.1:5432/postgres
db=ac_dashboards
url=postgres://postgres@127.0.0.1:5432/$db
cargo build --release --quiet --bin autochannel
cargo build --release --quiet -p autochannel-load --bin dashboard_load
exists=$(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")
if [ "${REBUILD:-0}" = 1 ] || [ "$exists" != 1 ]; then
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  # 0.5 claims per vehicle-year over 13 months of issuing gives about 15 claims per 100 policies.
  DATABASE_URL=$url "$target/release/autochannel" demo-data --dealers 200 --policies "$policies" --claim-rate 0.5
  printf 'demo-password-1\n' | DATABASE_URL=$url "$target/release/autochannel" user add --name admin --role administrator
fi
psql "$url" -tAc "SELECT 'policies ' || (SELECT count(*) FROM policies) || ', claims ' || (SELECT count(*) FROM claims) || ', dealers ' || (SELECT count(*) FROM dealers)"
DATABASE_URL=$url AUTOCHANNEL_LOG=warn AUTOCHANNEL_BIND=127.0.0.1:18094 AUTOCHANNEL_LOGIN_MAX_FAILURES=1000 \
  "$target/release/autochannel" serve >/tmp/dashboard_load_server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; autovacuum_restore' EXIT
autovacuum_for_run "$admin"
for _ in $(seq 1 120); do curl -sf http://127.0.0.1:18094/readyz >/dev/null && break; sleep 1; done
AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18094 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=$seconds \
  "${CARGO_TARGET_DIR:-target}/release/dashboard_load"
