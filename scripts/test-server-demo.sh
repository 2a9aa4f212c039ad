#!/usr/bin/env bash
# The demo page of `sessionkit serve --demo`, end to end in Debian's Chromium:
# builds the npm package when web/dist/wasm is missing (the page runs its SessionClient, served
# by `serve --demo-package web`) and the CLI (debug), then runs web/e2e/server-demo.e2e.mjs against
# target/debug/sessionkit (two browser contexts signed in as one user: live device lists, edits
# with their versions, an offline edit merged with a backend write, a revoke that signs the other
# out within a heartbeat, a screenshot, a clean SIGTERM, the notice without a package).
#
#   scripts/test-server-demo.sh
#
# Installs what is missing, idempotently: Node >= 20 and npm, Debian's chromium + chromium-driver
# (apt-get update only when something is missing), web/node_modules via `npm ci` when the
# lockfile changed, and (only to build a missing package) the wasm tools of scripts/test-web.sh.
# Never downloads a browser: Chromium is /usr/bin/chromium. The screenshot is also copied to
# web/e2e/screenshots/server-demo.png (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Server demo: prerequisites (only what is missing)"
install_web_deps
apt_install chromium chromium-driver

step "Server demo: the npm package the page runs on (built only when web/dist/wasm is missing)"
# scripts/test.sh runs scripts/test-web.sh first, which builds it: not built twice.
ensure_web_package

step "Server demo: build the CLI (debug)"
cargo build -p sessionkit-cli --locked
target_dir=${CARGO_TARGET_DIR:-target}
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
bin="$target_dir/debug/sessionkit"
if [ ! -x "$bin" ]; then
  echo "no sessionkit binary at $bin after the build" >&2
  exit 1
fi

step "Server demo: e2e in Chromium (web/e2e/server-demo.e2e.mjs)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
(cd web && SESSIONKIT_BIN="$bin" node --test --test-reporter=spec e2e/server-demo.e2e.mjs) 2>&1 | tee "$log" || status=$?
pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -1)
fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -1)
echo "server demo e2e: ${pass:-0} passed, ${fail:-?} failed"
if [ $status != 0 ] || [ "${fail:-1}" != 0 ] || [ "${pass:-0}" = 0 ]; then
  exit 1
fi
echo "screenshot: web/e2e/screenshots/server-demo.png"
