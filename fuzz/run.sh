#!/usr/bin/env bash
# Builds every fuzz target once, then runs each for SECONDS (default 35) from the committed
# seeds in corpus/<target>/, and fails when any target finds a crash (the input is kept under
# artifacts/<target>/). Usage: fuzz/run.sh [SECONDS] [TARGET...]
#
# cargo-fuzz needs nightly-only rustc and cargo flags (-Zsanitizer, sanitizer coverage).
# RUSTC_BOOTSTRAP=1 lets the pinned stable toolchain accept them; it is set here only, for
# the fuzz workspace's own builds, never for the host's.
set -euo pipefail
cd "$(dirname "$0")"

seconds=${1:-35}
shift || true

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked

export RUSTC_BOOTSTRAP=1
# Debug assertions on: an integer overflow is a crash here, as it is in the host's tests.
flags=(--debug-assertions --sanitizer address)

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in src/bin/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

start=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz build: $(($(date +%s) - start)) s"

failed=()
summary=()
for t in "${targets[@]}"; do
  # libFuzzer adds what it finds to the first directory, reads the seeds from the second:
  # the committed corpus stays as it is.
  mkdir -p "work/$t" "corpus/$t" "artifacts/$t"
  log="work/$t.log"
  echo "+ $t: ${seconds} s"
  if cargo fuzz run "${flags[@]}" "$t" "work/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    failed+=("$t")
    tail -n 60 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  units=$(find "work/$t" "corpus/$t" -type f | wc -l)
  summary+=("$(printf '%-20s %-6s %12s runs %8s exec/s %6s corpus files' "$t" "$result" "${runs:-?}" "${rate:-?}" "$units")")
done

printf '%s\n' "${summary[@]}"
echo "fuzz total: $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashes in: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
  exit 1
fi
