#!/usr/bin/env bash
# The full test command: installs what the tests need (idempotently: only what is missing),
# then runs formatting and lint checks, the wasm32 build of the engine, and every test.
#
#   scripts/test.sh            everything
#
# Needs: Debian (apt-get, as root or with sudo), Rust by rustup, node/npm, java, python3.
# Everything else is installed when missing: the wasm32 target, clang, Debian chromium +
# chromium-driver, wasm-bindgen-cli and wasm-pack (scripts/test-web-store.sh), Debian postgresql
# and mariadb-server (scripts/pg-mysql.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

# One build from scratch: incremental caches only cost disk and time here (set it to 1 to keep them).
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

step "Install prerequisites"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
# clang compiles zstd's C sources for wasm32 (gcc cannot target wasm).
apt_install clang

step "Format"
cargo fmt --all --check
# The fuzz crate is a workspace of its own (scripts/fuzz.sh builds it with nightly).
cargo fmt --manifest-path fuzz/Cargo.toml --all --check

step "Docs: every test, file and function the documents cite exists (tests/docs/check_refs.py)"
python3 tests/docs/check_refs.py

step "Lint (clippy, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --locked -- -D warnings

step "Build the engine for wasm32-unknown-unknown"
cargo build -p sessionkit --target wasm32-unknown-unknown --locked

step "Rust tests (unit, conformance on every store, vectors, CLI, doc tests)"
# The PostgreSQL and MariaDB tests skip here (SESSIONKIT_REQUIRE_DB=0, even in CI): the next
# step runs them, from the same build, against throwaway servers.
SESSIONKIT_REQUIRE_DB=0 cargo test --workspace --locked

scripts/pg-mysql.sh

step "CLI demo on a fresh database"
demo_dir=$(mktemp -d)
trap 'rm -rf "$demo_dir"' EXIT
cargo run -q -p sessionkit-cli --locked -- --db "$demo_dir/demo.db" demo >"$demo_dir/demo.log"
tail -n 15 "$demo_dir/demo.log"

scripts/test-server.sh

step "Browser: IndexedDB store in headless Chromium, engine in Node"
scripts/test-web-store.sh

step "npm package: build, Node conformance, API tests, types, tarball, size, demo page e2e"
scripts/test-web.sh

# After test-web.sh: the demo page runs the npm package it just built (not built twice).
scripts/test-server-demo.sh

step "Native SDK: Python and Kotlin suites, Swift generation check"
scripts/test-native.sh

scripts/bench-web.sh --quick

step "Fuzzing: every cargo-fuzz target for 20 s (scripts/fuzz.sh --quick; installs cargo-fuzz if missing)"
scripts/fuzz.sh --quick

step "Benchmarks, quick mode (tiny sizes: proves the suite runs, asserts no time)"
scripts/bench.sh --quick

step "All checks passed"
