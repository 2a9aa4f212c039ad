#!/usr/bin/env bash
# The browser benchmark (web/bench/run.mjs): sessionkit's IndexedDB store through the npm
# package against the same operations over the `idb` package, in Debian's Chromium with
# IndexedDB on disk. Asserts nothing about times.
#
#   scripts/bench-web.sh            full: builds the package, writes target/bench/browser.json
#                                   (scripts/bench.sh runs this and puts it in BENCHMARKS.md)
#   scripts/bench-web.sh --quick    tiny run, only to prove it works (scripts/test.sh); builds the
#                                   package only when it is not built; writes
#                                   target/bench/browser-quick.json
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
  --quick) mode=quick ;;
  "") ;;
  *) echo "usage: scripts/bench-web.sh [--quick]" >&2; exit 2 ;;
esac

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Browser benchmark ($mode): IndexedDB, sessionkit vs idb; times reported, not asserted"
apt_install chromium
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund)
fi
mkdir -p target/bench
if [ "$mode" = quick ]; then
  if [ ! -f web/dist/wasm/sessionkit_wasm_bg.wasm ]; then
    install_wasm_tools
    (cd web && npm run --silent build)
  fi
  (cd web && node bench/run.mjs --quick --out ../target/bench/browser-quick.json)
else
  install_wasm_tools
  (cd web && npm run --silent build)
  (cd web && node bench/run.mjs --out ../target/bench/browser.json)
fi
