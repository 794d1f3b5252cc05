#!/usr/bin/env bash
# The dealer figures on synthetic data: polars (analytics::figures) against DuckDB on the same Parquet files.
#
#   benches/analytics_duckdb.sh [DIR] [POLICIES]
#
# DIR defaults to target/analytics-bench/p<POLICIES>; POLICIES to 10000000. The data (POLICIES policies,
# CLAIMS claims — 15 % of POLICIES unless set — DEALERS=2000 dealers, SEED=1) is generated there by the
# `synth` example when DIR does not exist. Then `figures_bench` times reading the frames and the figures pass
# (RUNS=5 runs) and writes its result, and benches/analytics_duckdb.py does the same computation in DuckDB
# SQL (from PyPI, installed in target/duckdb-venv), checks that both agree and prints the table and ratio.
# Both engines' figures are kept as CSV in target/analytics-bench/results/<DIR name>-<time>-<pid>/.
#
# Environment: CLAIMS, DEALERS, SEED, RUNS; NOW (RFC 3339, default the current time) fixes "today";
# BUILD_NICE (default 0) is the niceness of the cargo build; DIRECT=1 also times DuckDB straight over the
# Parquet files; PROFILE=1 prints polars' slowest plan nodes. CARGO_TARGET_DIR is honoured.
set -euo pipefail
cd "$(dirname "$0")/.."

POLICIES=${2:-10000000}
DIR=${1:-target/analytics-bench/p$POLICIES}
CLAIMS=${CLAIMS:-$((POLICIES * 15 / 100))}
DEALERS=${DEALERS:-2000}
SEED=${SEED:-1}
RUNS=${RUNS:-5}
NOW=${NOW:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
TARGET=${CARGO_TARGET_DIR:-target}
VENV=target/duckdb-venv
# Each run writes its results to a folder of its own, so that runs side by side do not mix their outputs.
OUT=target/analytics-bench/results/$(basename "$DIR")-$(date -u +%Y%m%dT%H%M%S)-$$
mkdir -p "$OUT"

if ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
    echo "== installing DuckDB into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet duckdb
fi

echo "== building the examples (release)"
nice -n "${BUILD_NICE:-0}" cargo build --release -p analytics --example synth --example figures_bench
EXAMPLES=$TARGET/release/examples

if [ ! -d "$DIR" ]; then
    echo "== generating $POLICIES policies, $CLAIMS claims, $DEALERS dealers into $DIR"
    rm -rf "$DIR.tmp"
    "$EXAMPLES/synth" --dir "$DIR.tmp" --policies "$POLICIES" --claims "$CLAIMS" --dealers "$DEALERS" \
        --seed "$SEED" --now "$NOW"
    mv "$DIR.tmp" "$DIR"
fi
echo "== data: $(du -sh "$DIR" | cut -f1) in $DIR"
ls -l "$DIR"
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== polars"
PROFILE_FLAG=()
if [ "${PROFILE:-0}" = 1 ]; then PROFILE_FLAG=(--profile); fi
"$EXAMPLES/figures_bench" --dir "$DIR" --now "$NOW" --runs "$RUNS" \
    --out "$OUT/polars.csv" --json "$OUT/polars.json" "${PROFILE_FLAG[@]}"

echo "== DuckDB"
DIRECT_FLAG=()
if [ "${DIRECT:-0}" = 1 ]; then DIRECT_FLAG=(--direct); fi
"$VENV/bin/python" benches/analytics_duckdb.py --dir "$DIR" --now "$NOW" --runs "$RUNS" \
    --polars-csv "$OUT/polars.csv" --polars-json "$OUT/polars.json" --out "$OUT/duckdb.csv" "${DIRECT_FLAG[@]}"
