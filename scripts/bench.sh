#!/usr/bin/env bash
# The benchmark command: builds the native bench (benches/sessionkit-bench) and runs every case,
# each paired in the same run with its baseline, interleaved, medians reported.
#
#   scripts/bench.sh            full: release build, 10k/100k/1M sessions, the peer
#                               (benches/peer-tower, built if needed); writes BENCHMARKS.md.
#                               Takes a while (the 1M cleanup runs dominate).
#   scripts/bench.sh --quick    tiny sizes, few rounds, the dev profile; writes
#                               target/bench/BENCHMARKS.quick.md. Proves the suite runs (a couple
#                               of minutes including the build); its figures mean nothing.
#
# Fixtures are cached in target/bench/fixtures (keyed by size and schema version). The browser
# figures come from target/bench/browser.json, which the full mode first writes by running
# scripts/bench-web.sh (the package built, the page run in Chromium).
# Nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
case "${1:-}" in
  --quick) quick=1 ;;
  "") ;;
  *) echo "usage: scripts/bench.sh [--quick]" >&2; exit 2 ;;
esac

mkdir -p target/bench
peer_args=()
if [ "$quick" = 1 ]; then
  cargo build -p sessionkit-bench --locked
  bench=target/debug/sessionkit-bench
  # The peer pulls in sqlx: too heavy to compile here, so it joins only if already built.
  peer_bin=benches/peer-tower/target/release/peer-tower-bench
  [ -x "$peer_bin" ] && peer_args=(--peer-bin "$peer_bin")
  "$bench" run --quick --command "scripts/bench.sh --quick" \
    --notes benches/sessionkit-bench/notes.md "${peer_args[@]}"
else
  # The browser case first: its results (target/bench/browser.json) go into the same report.
  scripts/bench-web.sh
  cargo build --release -p sessionkit-bench --locked
  bench=target/release/sessionkit-bench
  if [ -f benches/peer-tower/Cargo.toml ]; then
    cargo build --release --locked --manifest-path benches/peer-tower/Cargo.toml
    peer_args=(--peer-bin benches/peer-tower/target/release/peer-tower-bench)
  fi
  "$bench" run --command "scripts/bench.sh" --out BENCHMARKS.md \
    --notes benches/sessionkit-bench/notes.md "${peer_args[@]}"
fi
