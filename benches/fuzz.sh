#!/usr/bin/env bash
# Fuzzes the parsers of what users type or upload (VIN, plate, resident ID, dealer CSV import, triangle CSV)
# with cargo-fuzz (libFuzzer + AddressSanitizer), each for SECONDS (default 600), two at a time.
# Debug builds: compiling the service (polars included) with sanitizers in release takes longer than the runs.
# The machine's toolchain is stable; RUSTC_BOOTSTRAP lets it take the sanitizer flags cargo-fuzz passes.
# Crashes land in fuzz/artifacts/<target>/; the corpus grows in target/fuzz-corpus/<target>/ (seeded from fuzz/seeds).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-600}"
TARGETS=(vin plate resident_id dealer_csv triangle_csv)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
echo "== building the fuzz targets"
cargo fuzz build --fuzz-dir fuzz --dev >/dev/null
run() {
  local target="$1" corpus="target/fuzz-corpus/$1"
  mkdir -p "$corpus"
  cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  if cargo fuzz run --fuzz-dir fuzz --dev "$target" "$corpus" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=4096 \
      >"target/fuzz-$target.log" 2>&1; then
    echo "$target: $(grep -E '^#[0-9]+.*DONE' "target/fuzz-$target.log" | tail -1 | cut -c1-120) — no crash in ${SECONDS_EACH} s"
  else
    echo "$target: CRASH — see target/fuzz-$target.log and fuzz/artifacts/$target/"
    return 1
  fi
}
status=0
for ((i = 0; i < ${#TARGETS[@]}; i += 2)); do
  run "${TARGETS[i]}" & first=$!
  if ((i + 1 < ${#TARGETS[@]})); then run "${TARGETS[i + 1]}" & second=$!; wait "$second" || status=1; fi
  wait "$first" || status=1
done
exit "$status"
