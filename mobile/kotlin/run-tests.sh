#!/usr/bin/env bash
# The Kotlin suite: builds the native library (debug), generates the Kotlin bindings from it,
# compiles them with the tests (kotlinc, against JNA and kotlinx-coroutines) and runs, on the
# JVM, every conformance scenario (memory and SQLite stores), the state codec vectors and the
# API checks. Installs what is missing first (idempotently):
#   - kotlinc from the npm package kotlin-compiler (into $SESSIONKIT_TOOLS, default
#     ~/.cache/sessionkit-tools), with the kotlinx-coroutines jar bundled in its lib/;
#   - JNA from Debian (libjna-java, /usr/share/java/jna.jar).
# Needs java (17+), node/npm and cargo. Prints `kotlin: N passed, N failed` last.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

KOTLIN_VERSION=2.4.20
tools=${SESSIONKIT_TOOLS:-$HOME/.cache/sessionkit-tools}
kotlin_prefix="$tools/kotlin-compiler-$KOTLIN_VERSION"
kotlin_home="$kotlin_prefix/node_modules/kotlin-compiler"
jna=/usr/share/java/jna.jar

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
  echo "installing kotlin-compiler@$KOTLIN_VERSION (npm) into $kotlin_prefix"
  mkdir -p "$kotlin_prefix"
  npm install --prefix "$kotlin_prefix" --no-audit --no-fund --silent "kotlin-compiler@$KOTLIN_VERSION"
fi
if [ ! -f "$jna" ]; then
  echo "installing libjna-java (apt)"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends libjna-java
fi
coroutines="$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
stdlib="$kotlin_home/lib/kotlin-stdlib.jar"

cargo build -q -p sessionkit-ffi --locked
# The client scenarios run against a real `sessionkit serve` (the CLI binary).
cargo build -q -p sessionkit-cli --locked
target_dir=$(cargo metadata --format-version 1 --no-deps --locked |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
lib_dir="$target_dir/debug"

build=mobile/kotlin/build
rm -rf "$build/generated" "$build/classes"
mkdir -p "$build"
"$lib_dir/uniffi-bindgen" generate --library "$lib_dir/libsessionkit_ffi.so" \
  --language kotlin --no-format --out-dir "$build/generated" >/dev/null

echo "compiling the Kotlin bindings and tests (kotlinc $KOTLIN_VERSION)"
JAVA_OPTS="${JAVA_OPTS:--Xss4m}" "$kotlin_home/bin/kotlinc" -nowarn \
  -cp "$jna:$coroutines" -d "$build/classes" \
  "$build/generated" mobile/kotlin/src/test/kotlin

java -Djna.library.path="$lib_dir" -Dsessionkit.root="$root" -Dsessionkit.bin="$lib_dir/sessionkit" \
  -cp "$build/classes:$stdlib:$jna:$coroutines" dev.sessionkit.tests.MainKt
