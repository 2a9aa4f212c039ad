#!/usr/bin/env bash
# `GET /v1/session` throughput with one and with two `sessionkit serve` processes on one
# PostgreSQL (throwaway, from scripts/pg-mysql.sh), loaded by wrk from the same machine. Not in
# CI (it times things); the figures go to stdout for BENCHMARKS.md.
#
#   scripts/bench-pg-servers.sh [SECONDS]     default 8 s per run, 3 runs of each, medians
#
# Release build of the CLI; wrk from Debian (installed when missing). Both servers and wrk share
# the machine's cores with PostgreSQL, so the second server shows what one machine gains (or
# loses) by it, not what a second machine would add.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

seconds=${1:-8}
apt_install wrk curl
cargo build --release --locked -p sessionkit-cli
target=${CARGO_TARGET_DIR:-target}
export SK_BIN=$PWD/$target/release/sessionkit SK_SECONDS=$seconds

scripts/pg-mysql.sh bash -c '
  set -euo pipefail
  work=$(mktemp -d)
  pids=()
  cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
  trap cleanup EXIT
  psql -q "$SESSIONKIT_TEST_POSTGRES_URL" -c "CREATE DATABASE sk_servers"
  db="${SESSIONKIT_TEST_POSTGRES_URL%/*}/sk_servers"
  export SESSIONKIT_ADMIN_KEY=bench-admin-key-0123456789abcdef
  start() {
    "$SK_BIN" --db "$db" serve --listen 127.0.0.1:0 > "$work/$1.out" 2> "$work/$1.log" &
    pids+=($!)
    until grep -q "listening on" "$work/$1.out" 2>/dev/null; do sleep 0.1; done
    sed -n "s/^listening on //p" "$work/$1.out"
  }
  a=$(start a)
  # 1000 sessions through the admin API; wrk cycles through their tokens.
  for i in $(seq 1 1000); do
    curl -s -X POST "$a/v1/admin/sessions" -H "Authorization: Bearer $SESSIONKIT_ADMIN_KEY" \
      -H "Content-Type: application/json" -d "{\"user_id\":\"u$((i % 100))\",\"client_kind\":\"web\"}"
    echo
  done | python3 -c "import json,sys; print(\"\\n\".join(json.loads(l)[\"token\"] for l in sys.stdin if l.strip()))" > "$work/tokens"
  cat > "$work/get.lua" <<LUA
local tokens = {}
for line in io.lines("$work/tokens") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i % #tokens + 1
  return wrk.format("GET", "/v1/session", { ["Authorization"] = "Bearer " .. tokens[i] })
end
LUA
  rps() { wrk -t"$1" -c"$2" -d"${SK_SECONDS}s" -s "$work/get.lua" "$3" | sed -n "s/^Requests\/sec: *//p"; }
  median() { sort -n | sed -n 2p; }
  b=$(start b)
  # Rounds alternate one server and two, so a machine whose load drifts weighs on both alike.
  for r in 1 2 3; do
    rps 2 64 "$a" >> "$work/one"
    rps 1 32 "$a" > "$work/ra" & p=$!
    rb=$(rps 1 32 "$b"); wait $p
    python3 -c "print(round(float(\"$(cat "$work/ra")\") + float(\"$rb\")))" >> "$work/two"
  done
  echo "per round: one server $(paste -sd, "$work/one"); two servers $(paste -sd, "$work/two")"
  one=$(median < "$work/one")
  two=$(median < "$work/two")
  echo "GET /v1/session on one PostgreSQL, 64 connections, ${SK_SECONDS} s x 3 runs, medians:"
  echo "  one server:  $one req/s"
  echo "  two servers: $two req/s (32 connections each, summed)"
'
