#!/usr/bin/env bash
# Generates the Swift bindings from the built library into this package:
#   Sources/SessionKit/SessionKit.swift       the Swift API (module SessionKit)
#   FFI/sessionkitFFI.h, FFI/module.modulemap the C module the XCFramework carries
#
#   mobile/swift/generate.sh           regenerate the committed files
#   mobile/swift/generate.sh --check   regenerate into a temporary directory and fail if the
#                                      committed files differ (generation is reproducible)
# Needs cargo; builds sessionkit-ffi (debug) and uses the workspace's uniffi-bindgen.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
check=0
[ "${1:-}" = "--check" ] && check=1

cargo build -q -p sessionkit-ffi --locked
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/debug/libsessionkit_ffi.so" \
  --language swift --no-format --out-dir "$tmp/raw" >/dev/null

mkdir -p "$tmp/pkg/Sources/SessionKit" "$tmp/pkg/FFI"
cp "$tmp/raw/SessionKit.swift" "$tmp/pkg/Sources/SessionKit/SessionKit.swift"
cp "$tmp/raw/sessionkitFFI.h" "$tmp/pkg/FFI/sessionkitFFI.h"
# An XCFramework's headers carry their module map under this name.
cp "$tmp/raw/sessionkitFFI.modulemap" "$tmp/pkg/FFI/module.modulemap"

files="Sources/SessionKit/SessionKit.swift FFI/sessionkitFFI.h FFI/module.modulemap"
if [ $check = 1 ]; then
  status=0
  for f in $files; do
    if diff -u "$here/$f" "$tmp/pkg/$f" >"$tmp/diff" 2>&1; then
      echo "swift generated $f: up to date"
    else
      echo "swift generated $f differs from a fresh generation:"
      head -40 "$tmp/diff"
      status=1
    fi
  done
  # Generating twice gives the same bytes (no timestamps, paths or hash-map order).
  "$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/debug/libsessionkit_ffi.so" \
    --language swift --no-format --out-dir "$tmp/again" >/dev/null
  if ! diff -r -q "$tmp/raw" "$tmp/again" >/dev/null; then
    echo "two generations differ"
    status=1
  fi
  # The package layout the generated code and Package.swift rely on.
  for f in Package.swift build-xcframework.sh Tests/SessionKitTests/ConformanceTests.swift \
           Tests/SessionKitTests/JSON.swift Tests/SessionKitTests/Conformance.swift; do
    [ -f "$here/$f" ] || { echo "missing $f"; status=1; }
  done
  grep -q 'binaryTarget(name: "sessionkitFFI"' "$here/Package.swift" || { echo "Package.swift lacks the sessionkitFFI binary target"; status=1; }
  grep -q '^module sessionkitFFI' "$here/FFI/module.modulemap" || { echo "module map does not define sessionkitFFI"; status=1; }
  grep -q 'canImport(sessionkitFFI)' "$here/Sources/SessionKit/SessionKit.swift" || { echo "Swift bindings do not import sessionkitFFI"; status=1; }
  if [ $status = 0 ]; then echo "swift generation: 1 passed, 0 failed"; else echo "swift generation: 0 passed, 1 failed"; fi
  exit $status
fi
for f in $files; do
  cp "$tmp/pkg/$f" "$here/$f"
  echo "wrote mobile/swift/$f"
done
