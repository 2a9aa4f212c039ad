# Shared helpers of the test scripts (sourced, not run): progress headings, idempotent installs.

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
export PATH="$HOME/.cargo/bin:$PATH"

# Installs the Debian packages that are missing (apt-get update once, only when needed).
apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated = 0 ]; then
    as_root apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# `tool --version` prints "<name> <version>"; installs the crate unless that version is there.
cargo_install_at() {
  local crate=$1 version=$2 binary=$3
  local found=""
  if command -v "$binary" >/dev/null 2>&1; then
    found=$("$binary" --version 2>/dev/null | awk '{print $2}')
  fi
  if [ "$found" = "$version" ]; then
    echo "$binary $version: installed"
  else
    echo "$binary: found '${found:-nothing}', installing $crate $version"
    cargo install --locked "$crate" --version "$version"
  fi
}

# The wasm-bindgen version Cargo.lock pins; its CLI (and test runner) must match it exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, "", $0); print; exit }' Cargo.lock
}

WASM_PACK_VERSION=0.15.1

# The wasm32 target, clang (zstd's C code for wasm32), wasm-bindgen-cli at the pinned version
# (with its test runner) and wasm-pack: each only when missing or at another version.
install_wasm_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  apt_install clang
  local bindgen_version
  bindgen_version=$(wasm_bindgen_version)
  if [ -z "$bindgen_version" ]; then
    echo "wasm-bindgen not found in Cargo.lock" >&2
    return 1
  fi
  cargo_install_at wasm-bindgen-cli "$bindgen_version" wasm-bindgen
  if ! command -v wasm-bindgen-test-runner >/dev/null 2>&1 \
    || [ "$(wasm-bindgen-test-runner --version | awk '{print $2}')" != "$bindgen_version" ]; then
    cargo install --locked --force wasm-bindgen-cli --version "$bindgen_version"
  fi
  cargo_install_at wasm-pack "$WASM_PACK_VERSION" wasm-pack
}

CARGO_FUZZ_VERSION=0.13.1

# The nightly toolchain (libFuzzer needs its sanitizer flags) and cargo-fuzz at the pinned
# version, for scripts/fuzz.sh: each only when missing.
install_cargo_fuzz() {
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  cargo_install_at cargo-fuzz "$CARGO_FUZZ_VERSION" cargo-fuzz
}

# Node >= 20 and npm (Debian's, when missing), and web/node_modules via `npm ci` when missing or
# older than the lockfile (npm writes its own copy).
install_web_deps() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm; fi
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$node_major" -lt 20 ]; then
    echo "Node >= 20 is needed, found $(node --version)" >&2
    return 1
  fi
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    (cd web && npm ci --no-audit --no-fund)
  else
    echo "web/node_modules: up to date"
  fi
}

# Builds the npm package (web/dist/wasm) unless it is there: the wasm tools and web/node_modules
# first, each only when missing. scripts/test-web.sh always rebuilds it.
ensure_web_package() {
  if [ -f web/dist/wasm/sessionkit_wasm_bg.wasm ] && [ -f web/dist/wasm/sessionkit_wasm.js ]; then
    echo "web/dist/wasm: built"
    return 0
  fi
  install_wasm_tools
  install_web_deps
  (cd web && npm run --silent build)
}
