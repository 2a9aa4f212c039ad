#!/usr/bin/env bash
# The browser benchmark in quick mode (web/bench/run.mjs --quick): sessionkit's IndexedDB store
# through the npm package against the same operations over the `idb` package, in Debian's
# Chromium with IndexedDB on disk. Proves the benchmark runs; asserts nothing about times.
# Writes target/bench/browser-quick.json. Builds the package first only when it is not built.
#
#   scripts/bench-web-quick.sh        (the full run: cd web && npm run bench)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Browser benchmark, quick (IndexedDB: sessionkit vs idb; times reported, not asserted)"
apt_install chromium
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund)
fi
if [ ! -f web/dist/wasm/sessionkit_wasm_bg.wasm ]; then
  install_wasm_tools
  (cd web && npm run --silent build)
fi
(cd web && node bench/run.mjs --quick --out ../target/bench/browser-quick.json)
