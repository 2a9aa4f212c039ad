#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer, nightly toolchain): the targets in fuzz/fuzz_targets/.
#
#   scripts/fuzz.sh --quick             build once, then each target for 20 s, one after another
#   scripts/fuzz.sh --long SECONDS      build once, then every target for SECONDS, all at once
#                                       (a target stops early after 50 million executions,
#                                       leaving the cores to the slower ones)
#
# Each target starts from its committed seeds (fuzz/seeds/TARGET) and grows a local corpus
# (fuzz/corpus/TARGET, not committed); a crash leaves its input in fuzz/artifacts/TARGET and
# fails the script. Logs go to fuzz/logs/; the executions per target are printed at the end.
# SESSIONKIT_FUZZ_TARGET_DIR overrides where the build goes (default ~/.cache/sessionkit/).
#
# Built without a sanitizer (`--sanitizer none`): the engine and the store forbid unsafe code,
# and cargo-fuzz instruments only Rust, never the C of SQLite and zstd, so AddressSanitizer
# would slow every run and the build without finding more. Panics, failed assertions and
# out-of-memory (`-malloc_limit_mb`: a decompression bomb that allocated would trip it) are
# what the targets catch.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

TARGETS=(token cursor state_blob merge_patch differential)

mode=${1:---quick}
case "$mode" in
  --quick) seconds=20 runs=-1 ;;
  --long)
    seconds=${2:?usage: scripts/fuzz.sh --long SECONDS}
    runs=50000000
    ;;
  *)
    echo "usage: scripts/fuzz.sh [--quick | --long SECONDS]" >&2
    exit 2
    ;;
esac

install_cargo_fuzz
cd fuzz
# The build lives outside the work tree by default, so a fresh clone on the same machine (CI)
# reuses the compiled dependencies (SQLite's C above all) instead of starting over.
target_dir=${SESSIONKIT_FUZZ_TARGET_DIR:-$HOME/.cache/sessionkit/fuzz-target}
build_flags=(--sanitizer none --target-dir "$target_dir")
# Scratch databases of the differential target, removed on exit.
SESSIONKIT_FUZZ_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sessionkit-fuzz.XXXXXX")
export SESSIONKIT_FUZZ_TMP
trap 'rm -rf "$SESSIONKIT_FUZZ_TMP"' EXIT

echo "building the fuzz targets (cargo +nightly fuzz build ${build_flags[*]})"
cargo +nightly fuzz build "${build_flags[@]}"

mkdir -p logs
run_target() {
  local target=$1
  local corpora=("corpus/$target")
  [ -d "seeds/$target" ] && corpora+=("seeds/$target")
  mkdir -p "corpus/$target" "artifacts/$target"
  # (cargo fuzz run puts crash inputs in artifacts/TARGET/ itself.)
  cargo +nightly fuzz run "${build_flags[@]}" "$target" "${corpora[@]}" -- \
    -max_total_time="$seconds" -runs="$runs" -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=4096 \
    -print_final_stats=1 >"logs/$target.log" 2>&1
}

failed=()
if [ "$mode" = --quick ]; then
  for target in "${TARGETS[@]}"; do
    echo "fuzzing $target for ${seconds}s"
    run_target "$target" || failed+=("$target")
  done
else
  echo "fuzzing ${TARGETS[*]} for ${seconds}s, all at once"
  pids=()
  for target in "${TARGETS[@]}"; do
    run_target "$target" &
    pids+=($!)
  done
  for i in "${!TARGETS[@]}"; do
    wait "${pids[$i]}" || failed+=("${TARGETS[$i]}")
  done
fi

printf '\n%-14s %14s %10s\n' target executions crashes
for target in "${TARGETS[@]}"; do
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "logs/$target.log" | tail -n1)
  crashes=$(find "artifacts/$target" -type f | wc -l)
  printf '%-14s %14s %10s\n' "$target" "${execs:-?}" "$crashes"
done

if [ ${#failed[@]} -gt 0 ]; then
  for target in "${failed[@]}"; do
    echo "== $target failed; the end of fuzz/logs/$target.log:" >&2
    tail -n 40 "logs/$target.log" >&2
  done
  exit 1
fi
