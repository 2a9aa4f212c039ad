#!/usr/bin/env bash
# Builds sessionkitFFI.xcframework for the Swift package (macOS with Xcode only; not run in CI):
# the static library for iOS devices, the iOS simulator (arm64 + x86_64) and macOS (arm64 +
# x86_64), each with the generated C header and module map (FFI/).
#
#   mobile/swift/build-xcframework.sh          release build
#   then: cd mobile/swift && swift test        runs the Swift conformance suite
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null; then
  echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)" >&2
  exit 1
fi

targets="aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin"
for t in $targets; do
  rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  cargo rustc -p sessionkit-ffi --lib --release --locked --target "$t" --crate-type staticlib
done

target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
lib=libsessionkit_ffi.a
work="$target_dir/xcframework"
rm -rf "$work" "$here/sessionkitFFI.xcframework"
mkdir -p "$work/headers" "$work/ios-sim" "$work/macos"
cp "$here/FFI/sessionkitFFI.h" "$here/FFI/module.modulemap" "$work/headers/"

lipo -create "$target_dir/aarch64-apple-ios-sim/release/$lib" "$target_dir/x86_64-apple-ios/release/$lib" \
  -output "$work/ios-sim/$lib"
lipo -create "$target_dir/aarch64-apple-darwin/release/$lib" "$target_dir/x86_64-apple-darwin/release/$lib" \
  -output "$work/macos/$lib"

xcodebuild -create-xcframework \
  -library "$target_dir/aarch64-apple-ios/release/$lib" -headers "$work/headers" \
  -library "$work/ios-sim/$lib" -headers "$work/headers" \
  -library "$work/macos/$lib" -headers "$work/headers" \
  -output "$here/sessionkitFFI.xcframework"
echo "built mobile/swift/sessionkitFFI.xcframework"
