#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers for the database stores' tests.
#
#   scripts/pg-mysql.sh                  the store tests (every test whose name says postgres
#                                        or mysql, from the build `cargo test --workspace
#                                        --locked` made) against both servers, then the
#                                        two-server tests (tests/servers) with that build's
#                                        sessionkit binary
#   scripts/pg-mysql.sh CMD [ARGS...]    CMD instead, with the same environment
#
# Installs Debian's postgresql and mariadb-server when missing, starts one instance of each in a
# temporary directory on a free loopback port, as the system users postgres and mysql, exports
#   SESSIONKIT_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:PORT/postgres
#   SESSIONKIT_TEST_MYSQL_URL=mysql://root@127.0.0.1:PORT/mysql
# (each test creates a fresh database of its own there) and SESSIONKIT_REQUIRE_DB=1, runs the
# command, then stops both servers by pid and removes the directory, whatever happened.
# Also exported: SESSIONKIT_TEST_POSTGRES_DATA / _LOG / _PORT and SESSIONKIT_TEST_PG_CTL, and
# SESSIONKIT_TEST_MYSQL_DATA / _LOG / _PORT, for the tests that kill a server mid-write and start
# it again.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/lib.sh
source scripts/lib.sh

step "Throwaway PostgreSQL and MariaDB"
apt_install postgresql mariadb-server

pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

work=$(mktemp -d /tmp/sessionkit-db.XXXXXX)
chmod 755 "$work"
pg_pid=""
my_pid=""
cleanup() {
  local code=$?
  if [ -n "$pg_pid" ] && kill -0 "$pg_pid" 2>/dev/null; then
    kill -INT "$pg_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # The postmaster's pid changes when a test restarts it: read it again.
  if [ -f "$work/pg/postmaster.pid" ]; then
    local again
    again=$(head -n 1 "$work/pg/postmaster.pid")
    kill -INT "$again" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$again" 2>/dev/null || break; sleep 0.2; done
  fi
  if [ -n "$my_pid" ] && kill -0 "$my_pid" 2>/dev/null; then
    kill -TERM "$my_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$my_pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # Likewise MariaDB's, when a test restarted it.
  if [ -f "$work/my/pid" ]; then
    local again_my
    again_my=$(head -n 1 "$work/my/pid")
    if [ -n "$again_my" ] && [ "$again_my" != "$my_pid" ]; then
      kill -TERM "$again_my" 2>/dev/null || true
      for _ in $(seq 100); do kill -0 "$again_my" 2>/dev/null || break; sleep 0.2; done
    fi
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

# PostgreSQL: trust authentication on loopback only, the data directory owned by postgres.
pg_port=$(free_port)
install -d -o postgres -g postgres -m 700 "$work/pg" "$work/pg-log"
su postgres -s /bin/bash -c "'$pg_bin/initdb' -D '$work/pg' -A trust -U postgres -E UTF8 --locale=C.UTF-8" \
  >"$work/pg-init.log" 2>&1 || { cat "$work/pg-init.log"; exit 1; }
su postgres -s /bin/bash -c "'$pg_bin/pg_ctl' -D '$work/pg' -l '$work/pg-log/server.log' -w \
  -o \"-p $pg_port -k '$work/pg' -c listen_addresses=127.0.0.1 -c max_connections=400\" start" \
  >/dev/null || { cat "$work/pg-log/server.log"; exit 1; }
pg_pid=$(head -n 1 "$work/pg/postmaster.pid")
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port (pid $pg_pid)"

# MariaDB: root without a password on loopback only, the data directory owned by mysql.
my_port=$(free_port)
install -d -o mysql -g mysql -m 700 "$work/my"
su mysql -s /bin/bash -c "mariadb-install-db --no-defaults --datadir='$work/my' \
  --auth-root-authentication-method=normal" >"$work/my-init.log" 2>&1 \
  || { cat "$work/my-init.log"; exit 1; }
mariadbd --no-defaults --user=mysql --datadir="$work/my" --port="$my_port" \
  --socket="$work/my/sock" --bind-address=127.0.0.1 --pid-file="$work/my/pid" \
  --max-connections=500 --skip-name-resolve >"$work/my.log" 2>&1 &
my_pid=$!
for _ in $(seq 150); do
  mariadb-admin --no-defaults --socket="$work/my/sock" -uroot ping >/dev/null 2>&1 && break
  kill -0 "$my_pid" 2>/dev/null || { cat "$work/my.log"; exit 1; }
  sleep 0.2
done
mariadb-admin --no-defaults --socket="$work/my/sock" -uroot ping >/dev/null
echo "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$my_port (pid $my_pid)"

export SESSIONKIT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
export SESSIONKIT_TEST_MYSQL_URL="mysql://root@127.0.0.1:$my_port/mysql"
export SESSIONKIT_TEST_POSTGRES_DATA="$work/pg"
export SESSIONKIT_TEST_PG_CTL="$pg_bin/pg_ctl"
export SESSIONKIT_TEST_POSTGRES_LOG="$work/pg-log/server.log"
export SESSIONKIT_TEST_POSTGRES_PORT="$pg_port"
export SESSIONKIT_TEST_MYSQL_DATA="$work/my"
export SESSIONKIT_TEST_MYSQL_LOG="$work/my.log"
export SESSIONKIT_TEST_MYSQL_PORT="$my_port"
export SESSIONKIT_REQUIRE_DB=1

if [ $# -gt 0 ]; then
  "$@"
else
  step "Store tests on PostgreSQL and MariaDB"
  cargo test --workspace --locked -- postgres mysql
  step "Two servers on one database, PostgreSQL and MariaDB (tests/servers)"
  SESSIONKIT_BIN="${CARGO_TARGET_DIR:-target}/debug/sessionkit" \
    python3 -W ignore::ResourceWarning -m unittest discover -s tests/servers -v
fi
