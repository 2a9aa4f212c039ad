#!/usr/bin/env bash
# The IndexedDB store in a real browser, and the engine in Node:
#
#   1. headless Chromium (wasm-pack test --headless --chrome): the store test kit on the
#      IndexedDB store (every conformance scenario of tests/conformance/, the differential run
#      against the memory store, the concurrency invariants), the state codec vectors, and the
#      IndexedDB-specific tests (schema and its upgrades, newer schemas refused, persistence,
#      atomicity);
#      Then the wasm face (bindings/wasm) in the same browser: a bad configuration creates no
#      IndexedDB database;
#   2. Node (wasm-pack test --node): the store test kit on the memory store compiled to wasm,
#      and the vectors.
#
# Installs what is missing, idempotently: the wasm32 target, clang (zstd's C code for wasm32),
# Debian's chromium + chromium-driver (apt-get update only when something is missing), and
# wasm-bindgen-cli (at the version Cargo.lock pins wasm-bindgen to) and wasm-pack 0.15.1 via
# `cargo install --locked`, only when missing or at another version. Downloads nothing at test
# time: wasm-pack uses the installed wasm-bindgen and /usr/bin/chromedriver.
#
#   scripts/test-web-store.sh            both runs
#   scripts/test-web-store.sh browser    the browser run only
#   scripts/test-web-store.sh node       the Node run only
set -euo pipefail
cd "$(dirname "$0")/.."

CRATE=core/sessionkit-indexeddb
CHROMEDRIVER_BIN=/usr/bin/chromedriver
what=${1:-all}
case "$what" in all | browser | node) ;; *)
  echo "usage: $0 [all|browser|node]" >&2
  exit 2
  ;;
esac

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Install prerequisites (only what is missing)"
install_wasm_tools
if [ "$what" != node ]; then apt_install chromium chromium-driver; fi

# An upper bound for one test binary in the browser (the default is 20 s), not a wait.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

run_logged() {
  local name=$1
  shift
  local start=$SECONDS
  "$@" 2>&1 | tee "$log_dir/$name.log"
  echo "($name run: $((SECONDS - start)) s)" | tee -a "$log_dir/summary"
}

if [ "$what" != node ]; then
  step "Browser: headless Chromium, IndexedDB store"
  # The browser flags (no sandbox as root, no network, no first-run) are in $CRATE/webdriver.json.
  export CHROMEDRIVER=$CHROMEDRIVER_BIN
  export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/$CRATE/webdriver.json"
  run_logged browser wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER_BIN" \
    "$CRATE" --locked -- --nocapture
  step "Browser: the wasm face (bindings/wasm) on IndexedDB"
  run_logged face wasm-pack test --headless --chrome --chromedriver "$CHROMEDRIVER_BIN" \
    bindings/wasm --locked -- --nocapture
fi

if [ "$what" != browser ]; then
  step "Node: memory store compiled to wasm"
  run_logged node wasm-pack test --node "$CRATE" --locked -- --nocapture
fi

step "Summary"
grep -hE '^\s*(browser|node) (kit|state codec)' "$log_dir"/*.log | sed 's/^\s*//'
cat "$log_dir/summary"
