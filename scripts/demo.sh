#!/usr/bin/env bash
# The server demo in one command: builds the npm package in web/ when it is not built yet (the
# demo page runs its SessionClient), then runs
#   cargo run -p sessionkit-cli -- serve --demo --demo-package web [ARGS...]
# on ./sessionkit.db; open the URL it prints. Extra arguments go to `serve`
# (e.g. --listen 127.0.0.1:0, --heartbeat-ms 2000).
#
# The first run installs only what is missing (the wasm32 target, clang, wasm-bindgen-cli,
# wasm-pack, Node and npm, web/node_modules) and builds the wasm: a few minutes. Later runs start
# the server at once. After changing the engine or bindings/wasm, rebuild with
# `cd web && npm run build` (or delete web/dist).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Demo: the npm package (built once, in web/dist/wasm)"
ensure_web_package

step "Demo: sessionkit serve --demo --demo-package web"
exec cargo run -q -p sessionkit-cli -- serve --demo --demo-package web "$@"
