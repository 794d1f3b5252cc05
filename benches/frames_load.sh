#!/usr/bin/env bash
# Loading the analytics frames from PostgreSQL: about a million policies, read by `autochannel analytics
# dealers` (src/store/frames.rs), timed per frame.
#
#   benches/frames_load.sh [RUNS]
#
# Builds the release binary (or runs AUTOCHANNEL_BIN), fills database ac_frames_load with demo data
# (200 dealers, 200,000 policies, claim rate 0.5; about 4.5 minutes) and adds four copies of its policies and
# their versions in SQL (ids + k·10^7, written in id order as a table filled over time is), for 1.07 million
# policies in all; then VACUUM ANALYZE, the plan of the policies query, and RUNS (default 3) loads, each
# printing the seconds per frame. REUSE=1 keeps the database of the previous run.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
admin=postgres://postgres@127.0.0.1:5432/postgres
url=postgres://postgres@127.0.0.1:5432/ac_frames_load
target=${CARGO_TARGET_DIR:-target}
bin=${AUTOCHANNEL_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet --bin autochannel
  bin=$target/release/autochannel
fi

if [ "${REUSE:-0}" != 1 ]; then
  psql "$admin" -qc "DROP DATABASE IF EXISTS ac_frames_load WITH (FORCE)" -c "CREATE DATABASE ac_frames_load"
  time "$bin" --database-url "$url" demo-data --dealers 200 --policies 200000 --claim-rate 0.5
  # Every column but the ones a copy must change, so that the copies follow the schema as it grows.
  columns() {
    psql "$url" -Atc "SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns
                       WHERE table_name = '$1' AND column_name NOT IN ($2)"
  }
  policy_columns=$(columns policies "'id', 'policy_no'")
  version_columns=$(columns policy_versions "'id', 'policy_id'")
  echo "== four copies of the policies and their versions"
  time psql "$url" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO policies (id, policy_no, $policy_columns)
  SELECT id + k * 10000000, policy_no || '-' || k, $policy_columns
  FROM policies, generate_series(1, 4) AS k ORDER BY k, id;
INSERT INTO policy_versions (policy_id, $version_columns)
  SELECT policy_id + k * 10000000, $version_columns
  FROM policy_versions, generate_series(1, 4) AS k ORDER BY k, policy_id, seq;
SQL
  psql "$url" -qc "VACUUM ANALYZE"
fi
psql "$url" -Atc "SELECT count(*) || ' policies, ' || (SELECT count(*) FROM policy_versions) || ' versions' FROM policies"

echo "== plan of the loader's policies query"
psql "$url" -Atc "EXPLAIN (ANALYZE, BUFFERS) SELECT id, quote_id, dealer_id, product, business_type, start_date, end_date,
  cancelled_from, premium_fen, pricing_coefficient_micros, renewal_of_policy_id FROM policies"

for run in $(seq 1 "$runs"); do
  echo "== load $run"
  "$bin" --database-url "$url" analytics dealers --out /tmp/frames_load_figures.csv | grep "loaded from the database"
done
