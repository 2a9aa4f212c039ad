#!/usr/bin/env bash
# The benchmark command: builds the native bench (benches/sessionkit-bench) and runs every case,
# each paired in the same run with its baseline, interleaved, medians reported.
#
#   scripts/bench.sh            full: release build, 10k/100k/1M sessions, the peer
#                               (benches/peer-tower, built if needed), the HTTP cases; writes
#                               BENCHMARKS.md. Takes a while (the 1M cleanup runs dominate).
#   scripts/bench.sh --http     only the HTTP cases (release builds of `sessionkit serve`, the
#                               bench and the peer; about 7 minutes of load), put into the
#                               existing BENCHMARKS.md in place of its HTTP section.
#   scripts/bench.sh --quick    tiny sizes, few rounds, the dev profile (the HTTP cases too, with
#                               1 s runs against the dev `sessionkit serve`); writes
#                               target/bench/BENCHMARKS.quick.md. Proves the suite runs (a couple
#                               of minutes including the build); its figures mean nothing.
#
# The HTTP cases (`sessionkit-bench http`) put load on servers started as separate processes on
# free ports of 127.0.0.1 with wrk (Debian's package, installed when missing) and stop them by
# pid; they write target/bench/http.json, which the full report includes.
#
#   scripts/bench.sh --pg       the database stores (`sessionkit-bench db`, release build) on
#                               throwaway PostgreSQL and MariaDB servers (scripts/pg-mysql.sh):
#                               validate, create and a deep page each against a bare statement
#                               through the same pool; the section goes into BENCHMARKS.md in
#                               place of its previous one. Not run in CI.
#
# Fixtures are cached in target/bench/fixtures (keyed by size and schema version). The browser
# figures come from target/bench/browser.json, which the full mode first writes by running
# scripts/bench-web.sh (the package built, the page run in Chromium).
# Nothing here asserts a time.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

mode=full
case "${1:-}" in
  --quick) mode=quick ;;
  --http) mode=http ;;
  --pg) mode=pg ;;
  "") ;;
  *) echo "usage: scripts/bench.sh [--quick | --http | --pg]" >&2; exit 2 ;;
esac

target=${CARGO_TARGET_DIR:-target}
mkdir -p target/bench

# The HTTP cases in release builds: `sessionkit serve`, the bench (its bare axum ceiling) and
# the peer's HTTP binary. Extra arguments go to `sessionkit-bench http`.
http_release() {
  apt_install wrk curl
  cargo build --release --locked -p sessionkit-cli -p sessionkit-bench
  local peer_http=()
  if [ -f benches/peer-tower/Cargo.toml ]; then
    # Its own target dir (whatever CARGO_TARGET_DIR says), so the paths below hold.
    CARGO_TARGET_DIR=benches/peer-tower/target \
      cargo build --release --locked --manifest-path benches/peer-tower/Cargo.toml
    peer_http=(--peer-bin benches/peer-tower/target/release/peer-tower-http)
  fi
  "$target/release/sessionkit-bench" http --sessionkit-bin "$target/release/sessionkit" \
    --out-json target/bench/http.json "${peer_http[@]}" "$@"
}

peer_args=()
case "$mode" in
  quick)
    apt_install wrk curl
    # The dev builds the tests made already (the bench shares axum and tokio with the server).
    cargo build -p sessionkit-bench -p sessionkit-cli --locked
    bench=$target/debug/sessionkit-bench
    # The peer pulls in sqlx: too heavy to compile here, so it joins only if already built.
    peer_bin=benches/peer-tower/target/release/peer-tower-bench
    [ -x "$peer_bin" ] && peer_args=(--peer-bin "$peer_bin")
    peer_http=()
    [ -x benches/peer-tower/target/release/peer-tower-http ] \
      && peer_http=(--peer-bin benches/peer-tower/target/release/peer-tower-http)
    # The HTTP cases with 1 s runs (about 20 s), into the quick report.
    "$bench" http --quick --sessionkit-bin "$target/debug/sessionkit" \
      --out-json target/bench/http.quick.json --command "scripts/bench.sh --quick" "${peer_http[@]}"
    "$bench" run --quick --command "scripts/bench.sh --quick" \
      --http-json target/bench/http.quick.json \
      --notes benches/sessionkit-bench/notes.md "${peer_args[@]}"
    ;;
  http)
    http_release --splice BENCHMARKS.md --notes benches/sessionkit-bench/notes.md \
      --command "scripts/bench.sh --http"
    ;;
  pg)
    cargo build --release --locked -p sessionkit-bench
    # The peer (tower-sessions' sqlx stores) on the same servers: built here, its own workspace.
    CARGO_TARGET_DIR=benches/peer-tower/target \
      cargo build --release --locked --manifest-path benches/peer-tower/Cargo.toml
    peer_db=$PWD/benches/peer-tower/target/release/peer-tower-bench
    # A fresh database on each throwaway server, then the cases; the section replaces the
    # previous one in BENCHMARKS.md (or goes before the notes).
    scripts/pg-mysql.sh bash -c '
      set -euo pipefail
      psql -q "$SESSIONKIT_TEST_POSTGRES_URL" -c "CREATE DATABASE sk_bench" -c "CREATE DATABASE sk_peer"
      my=${SESSIONKIT_TEST_MYSQL_URL#mysql://}; my_host=${my#*@}; my_host=${my_host%%/*}
      mariadb --no-defaults -h "${my_host%:*}" -P "${my_host##*:}" -u root \
        -e "CREATE DATABASE sk_bench; CREATE DATABASE sk_peer"
      peer=()
      [ -n "$1" ] && peer=(--peer-bin "$1" --peer-pg "${SESSIONKIT_TEST_POSTGRES_URL%/*}/sk_peer"
        --peer-mysql "${SESSIONKIT_TEST_MYSQL_URL%/*}/sk_peer")
      "$0" db --pg "${SESSIONKIT_TEST_POSTGRES_URL%/*}/sk_bench" \
        --mysql "${SESSIONKIT_TEST_MYSQL_URL%/*}/sk_bench" "${peer[@]}" --out target/bench/db.md
    ' "$target/release/sessionkit-bench" "$peer_db"
    python3 - <<'PY'
import re
section = open("target/bench/db.md").read().rstrip() + "\n\n"
doc = open("BENCHMARKS.md").read()
heading = "## Database stores"
if heading in doc:
    start = doc.index(heading)
    rest = doc[start + len(heading):]
    m = re.search(r"^## ", rest, re.M)
    end = start + len(heading) + (m.start() if m else len(rest))
    doc = doc[:start] + section + doc[end:]
else:
    at = doc.index("## Notes") if "## Notes" in doc else len(doc)
    doc = doc[:at] + section + doc[at:]
open("BENCHMARKS.md", "w").write(doc)
PY
    ;;
  full)
    # The browser and HTTP cases first: their results (target/bench/browser.json,
    # target/bench/http.json) go into the same report.
    scripts/bench-web.sh
    http_release --command "scripts/bench.sh"
    bench=$target/release/sessionkit-bench
    if [ -f benches/peer-tower/Cargo.toml ]; then
      peer_args=(--peer-bin benches/peer-tower/target/release/peer-tower-bench)
    fi
    "$bench" run --command "scripts/bench.sh" --out BENCHMARKS.md \
      --notes benches/sessionkit-bench/notes.md "${peer_args[@]}"
    ;;
esac
