#!/usr/bin/env bash
# The npm package `sessionkit` (web/), end to end:
#
#   1. build       wasm-pack (profile wasm-release) + wasm-opt -Oz from npm's binaryen -> web/dist/wasm
#   2. conformance every tests/conformance/*.json scenario through the JS API in Node (memory store)
#   3. api         JS-specific tests (SessionkitError, events, conversion, vectors, export/import)
#   4. client      SessionClient (§9) in Node against a real `sessionkit serve` (the CLI, built
#                  here in debug): sign-in, edits, conflicts under each policy, revocation, the
#                  server killed and restarted
#   5. types       tsc --noEmit --strict on web/types/usage.ts against the hand-written index.d.ts
#   6. smoke       npm pack, install the .tgz into an empty temp project, import it from Node
#   7. size        the gzipped wasm against its budget
#   8. e2e         the demo page in Debian's Chromium (playwright-core, IndexedDB on disk), and every
#                  scenario through the JS API on IndexedDB in that browser; SessionClient in
#                  Chromium against `sessionkit serve` (tabs, devices, offline, restarts, reload)
#
# Installs what is missing, idempotently: the wasm32 target, clang (zstd's C code for wasm32),
# Node >= 20 and npm, Debian's chromium + chromium-driver (apt-get update only when something is
# missing), wasm-bindgen-cli (at the version Cargo.lock pins) and wasm-pack 0.15.1 via
# `cargo install --locked`, and web/node_modules via `npm ci` when the lockfile changed. Never
# downloads a browser or a wasm-opt binary: Chromium is /usr/bin/chromium, wasm-opt is npm's.
#
#   scripts/test-web.sh           everything
#   scripts/test-web.sh --no-e2e  everything but the browser part
set -euo pipefail
cd "$(dirname "$0")/.."

run_e2e=1
for arg in "$@"; do
  case "$arg" in
    --no-e2e) run_e2e=0 ;;
    *) echo "usage: $0 [--no-e2e]" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Install prerequisites (only what is missing)"
install_wasm_tools
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm; fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node >= 20 is needed, found $(node --version)" >&2
  exit 1
fi
[ $run_e2e = 1 ] && apt_install chromium chromium-driver
# npm ci when node_modules is missing or older than the lockfile (npm writes its own copy).
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  (cd web && npm ci --no-audit --no-fund)
else
  echo "web/node_modules: up to date"
fi

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT
failed_parts=()
summary=()

# Runs a node:test part, then prints "<name>: N passed, M failed" from the runner's totals.
node_part() {
  local name=$1
  shift
  step "$name"
  local status=0
  (cd web && node --test --test-reporter=spec "$@") 2>&1 | tee "$log_dir/part.log" || status=$?
  local pass fail skip
  pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log_dir/part.log" | tail -1)
  fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log_dir/part.log" | tail -1)
  skip=$(sed -n 's/^ℹ skipped \([0-9]*\)$/\1/p' "$log_dir/part.log" | tail -1)
  local line="$name: ${pass:-0} passed, ${fail:-?} failed"
  [ "${skip:-0}" != 0 ] && line="$line, $skip skipped"
  echo "$line"
  summary+=("$line")
  grep -h 'IndexedDB conformance:' "$log_dir/part.log" | sed 's/^[^I]*//' || true
  if [ $status != 0 ] || [ "${fail:-1}" != 0 ] || [ "${pass:-0}" = 0 ]; then failed_parts+=("$name"); fi
}

step "build: wasm-pack + wasm-opt -Oz -> web/dist/wasm"
(cd web && npm run --silent build)

node_part "conformance (Node, memory store)" test/conformance.test.mjs
node_part "api (Node)" test/api.test.mjs test/runner.test.mjs

step "build: the CLI (debug), for the client tests' sessionkit serve"
cargo build -p sessionkit-cli --locked
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
export SESSIONKIT_BIN="$target_dir/debug/sessionkit"
node_part "client (Node, against sessionkit serve)" test/client.test.mjs

step "types: tsc --noEmit --strict"
if (cd web && npm run --silent test:types); then
  summary+=("types: tsc --noEmit --strict clean")
  echo "types: 1 passed, 0 failed"
else
  failed_parts+=("types")
  echo "types: 0 passed, 1 failed"
fi

step "smoke: the packed tarball installed into a temp project"
if (cd web && node scripts/smoke.mjs) 2>&1 | tee "$log_dir/smoke.log"; then :; else failed_parts+=("smoke"); fi
rm -f web/sessionkit-*.tgz
summary+=("$(grep -h '^smoke:' "$log_dir/smoke.log" || echo 'smoke: did not finish')")

node_part "size budget" test/size.test.mjs
grep -h 'gzipped (budget' "$log_dir/part.log" | sed 's/^[^w]*//' | head -1 || true

if [ $run_e2e = 1 ]; then
  node_part "e2e (Chromium: demo page, IndexedDB conformance, SessionClient against serve)" \
    e2e/demo.e2e.mjs e2e/client.e2e.mjs
  echo "screenshots: web/e2e/screenshots/demo.png, web/e2e/screenshots/demo-conflict.png"
fi

step "Summary"
printf '%s\n' "${summary[@]}"
if [ ${#failed_parts[@]} -ne 0 ]; then
  printf 'FAILED: %s\n' "${failed_parts[*]}"
  exit 1
fi
echo "web: all parts passed"
