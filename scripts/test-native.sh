#!/usr/bin/env bash
# The native SDK suites (uniffi: bindings/ffi, mobile/): installs what is missing (idempotently),
# builds the ffi library once (debug), then runs
#   - Python: `pip install ./bindings/ffi` into a venv, then pytest (every conformance scenario on
#     the memory and SQLite stores, the state codec vectors, Python API checks);
#   - Kotlin: mobile/kotlin/run-tests.sh (the same on the JVM, plus API checks);
#   - Swift: mobile/swift/generate.sh --check (no Swift toolchain here: the committed bindings
#     must be exactly what the library generates, and the package layout complete).
#
#   scripts/test-native.sh
#
# The Python package is built with the dev profile here, sharing the debug build with Kotlin and
# Swift; SESSIONKIT_PY_PROFILE=release builds it as a plain `pip install` does.
# Needs Debian (apt-get, as root or with sudo), Rust by rustup, python3. Exits non-zero if any
# suite fails; each suite prints `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Native SDK: prerequisites"
command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
command -v npm >/dev/null 2>&1 || apt_install npm
apt_install libjna-java
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3-venv

step "Native SDK: build the ffi library and uniffi-bindgen (debug)"
cargo build -p sessionkit-ffi --locked
# The client scenarios start a real `sessionkit serve` (the CLI binary).
cargo build -p sessionkit-cli --locked
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

failed=()

step "Native SDK: Python (pip install ./bindings/ffi, pytest)"
venv="$target_dir/native-python-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import pytest' 2>/dev/null || "$venv/bin/pip" install -q pytest
profile=${SESSIONKIT_PY_PROFILE:-dev}
if MATURIN_PEP517_ARGS="--profile $profile" \
  "$venv/bin/pip" install -q --force-reinstall --no-deps ./bindings/ffi &&
  "$venv/bin/python" -c 'from sessionkit import SessionManager, Config, ManualClock, SessionkitError' &&
  (cd bindings/ffi/python && SESSIONKIT_BIN="$target_dir/debug/sessionkit" \
    "$venv/bin/pytest" -q -p no:cacheprovider tests); then
  :
else
  failed+=(python)
fi

step "Native SDK: Kotlin (JVM)"
mobile/kotlin/run-tests.sh || failed+=(kotlin)

step "Native SDK: Swift bindings are reproducible and the package complete"
mobile/swift/generate.sh --check || failed+=(swift)

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  echo "native: $((3 - ${#failed[@]})) passed, ${#failed[@]} failed"
  exit 1
fi
echo "native: 3 passed, 0 failed"
