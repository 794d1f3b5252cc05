#!/usr/bin/env bash
# Soak: the mixed load of every role (benches/load/src/bin/mix_load.rs), paced at a fixed rate (about half the
# measured maximum) for 30 minutes against the release server, sampling the server's memory (RSS)
# every minute. Passes when there are no errors and memory stays flat after warm-up: it prints the
# RSS growth over the second half of the run.
# Usage: benches/soak.sh postgres|sqlite [clients] [minutes] [requests/s]
# STORES=N (default 20): the assistants' quotes, issues and feedback go to N of the channel manager's stores in turn,
# as a real deployment's are spread over many stores (STORES=1: all into the one demo store, as runs before 2026-12-04).
# HEAPTRACK=1 runs the server under heaptrack (Debian's package), built without mimalloc so that heaptrack sees
# every allocation; `heaptrack_print` on the file it names then tells what the heap holds at the end, what
# grew, and from where. (Slower: run it at a lower rate than the plain soak.)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/autovacuum.sh
backend=${1:-postgres}
clients=${2:-12}
minutes=${3:-30}
rate=${4:-0}
case "$backend" in
  postgres)
    admin=postgres://postgres@127.0.0.1:5432/postgres
    psql "$admin" -qc "DROP DATABASE IF EXISTS ac_soak WITH (FORCE)" -c "CREATE DATABASE ac_soak"
    url=postgres://postgres@127.0.0.1:5432/ac_soak ;;
  sqlite)
    rm -f /tmp/ac_soak.db*
    url=sqlite:///tmp/ac_soak.db ;;
  *) echo "usage: $0 postgres|sqlite [clients] [minutes]" >&2; exit 2 ;;
esac
wrapper=()
if [ "${HEAPTRACK:-0}" = 1 ]; then
  command -v heaptrack >/dev/null || { echo "HEAPTRACK=1 needs heaptrack (apt-get install heaptrack)" >&2; exit 2; }
  cargo build --release --quiet --no-default-features
  wrapper=(heaptrack -o /tmp/soak-heap)
else
  cargo build --release --quiet
fi
cargo build --release --quiet -p autochannel-load --bin mix_load
DATABASE_URL=$url AUTOCHANNEL_DEMO_PASSWORD=demo-password-1 AUTOCHANNEL_LOG=warn AUTOCHANNEL_DOCUMENT_DIR=/tmp/ac_soak_docs \
  AUTOCHANNEL_BIND=127.0.0.1:18093 AUTOCHANNEL_LOGIN_MAX_FAILURES=1000 "${wrapper[@]}" "${CARGO_TARGET_DIR:-target}/release/autochannel" serve --demo >/tmp/soak_server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; kill $sampler 2>/dev/null || true; autovacuum_restore' EXIT
if [ "$backend" = postgres ]; then autovacuum_for_run "$admin"; fi
for _ in $(seq 1 120); do curl -sf http://127.0.0.1:18093/readyz >/dev/null && break; sleep 1; done
if [ ${#wrapper[@]} -gt 0 ]; then
  # The server is heaptrack's child: sample (and at the end stop) the server itself.
  server=$(pgrep -n -f "release/autochannel serve --demo")
fi
echo "== soak: $backend, $clients clients, $minutes minutes at $rate requests/s (0: unpaced); server RSS and its anonymous part (the heap, not the mapped binary) in KiB every minute (sampled every 10 s), then the part of it in transparent huge pages"
# RSS, its anonymous part and, of that, what is backed by transparent huge pages: the kernel's khugepaged can fill a
# 2 MiB range of which one page was used, a step in RSS that no allocation made.
sample_memory() {
  awk '/^VmRSS|^RssAnon/ { printf "%s ", $2 }' /proc/$server/status
  awk '/^AnonHugePages/ { printf "%s ", $2 }' /proc/$server/smaps_rollup
}
rss_log=$(mktemp)
( i=0; while kill -0 $server 2>/dev/null; do
    line="rss $(date +%H:%M:%S) $(sample_memory)"; echo "$line" >>"$rss_log"
    [ $((i % 6)) = 0 ] && echo "$line"; i=$((i + 1)); sleep 10; done ) &
sampler=$!
AUTOCHANNEL_LOAD_STORES=${STORES:-20} AUTOCHANNEL_LOAD_URL=http://127.0.0.1:18093 AUTOCHANNEL_LOAD_CLIENTS=$clients AUTOCHANNEL_LOAD_SECONDS=$((minutes * 60)) AUTOCHANNEL_LOAD_RATE=$rate \
  "${CARGO_TARGET_DIR:-target}/release/mix_load"
echo "rss $(date +%H:%M:%S) $(sample_memory)(end)" | tee -a "$rss_log"
# Flat memory: the second half of the run (after warm-up) should add next to nothing. The trend is the least-squares
# slope over the second half's samples (the RSS swings by tens of MiB from minute to minute, so two samples mislead).
awk '{ kib[NR] = $3; anon[NR] = $4 } END {
  half = int((NR + 1) / 2); first = NR >= 7 ? 7 : 1;
  for (k = 0; k < 2; k++) {
    n = 0; sx = 0; sy = 0; sxx = 0; sxy = 0;
    for (i = half; i <= NR; i++) { x = i / 6; y = (k ? anon[i] : kib[i]) / 1024; n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
    slope = (n > 1 && n * sxx - sx * sx != 0) ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
    if (k) { a = anon[first]; h = anon[half]; e = anon[NR] } else { a = kib[first]; h = kib[half]; e = kib[NR] }
    printf "%s: %.1f MiB after 1 min, %.1f MiB at half time, %.1f MiB at the end; second-half trend %+.2f MiB/min (least squares over %d samples, one every 10 s)\n", k ? "RSS, anonymous" : "RSS", a / 1024, h / 1024, e / 1024, slope, n
  } }' "$rss_log"
if [ ${#wrapper[@]} -gt 0 ]; then
  # SIGKILL, not a graceful stop: what is still allocated then is what the service held at the end, which heaptrack
  # reports as "leaked" (compare two runs of different length with `heaptrack_print -f LONG.zst -d SHORT.zst -l 1`).
  # Let heaptrack finish its recording, then print the live heap per minute (mean and maximum of its samples).
  kill -KILL "$server" 2>/dev/null || true
  while kill -0 "$server" 2>/dev/null; do sleep 1; done
  sleep 5
  heaptrack_print -f /tmp/soak-heap.zst -p 0 -a 0 -T 0 -l 0 -s 0 -M /tmp/soak-heap.massif | grep -E "^total memory leaked" |
    sed 's/^total memory leaked/live heap at the end (allocated, never freed)/'
  awk -F= '/^time=/ { t = $2 } /^mem_heap_B=/ { m = int(t / 60); sum[m] += $2; n[m]++; if ($2 > max[m]) max[m] = $2 }
    END { for (i = 0; i in n; i++) printf "heap, minute %d: mean %.1f MiB, max %.1f MiB\n", i, sum[i] / n[i] / 1048576, max[i] / 1048576 }' \
    /tmp/soak-heap.massif
  echo "heaptrack's recording: /tmp/soak-heap.zst (heaptrack_print -f /tmp/soak-heap.zst for the allocation sites)"
fi
