#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the attest-store test suite.
#
#   eval "$(.ci/postgres.sh start)"   # prints `export ATTEST_TEST_POSTGRES_URL=...` lines
#   cargo test -p attest-store
#   .ci/postgres.sh stop
#
# The cluster lives in a temporary directory, listens on a free port on 127.0.0.1 only, trusts
# local connections and runs with fsync off: it is for tests, never for data. PostgreSQL refuses
# to run as root, so as root it runs as the `postgres` user through runuser. Everything except
# the export lines goes to stderr, so the output can be eval'ed.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
STATE_FILE=${ATTEST_PG_STATE_FILE:-${TMPDIR:-/tmp}/attest-postgres.state}
DB_NAME=attest_test

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    local p
    for p in $(shuf -i 20000-60000 -n 100); do
        # A failed connection means nobody listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo "postgres.sh: no free port found" >&2
    return 1
}

start() {
    if [ ! -x "$PGBIN/pg_ctl" ]; then
        echo "postgres.sh: installing PostgreSQL (no $PGBIN/pg_ctl)" >&2
        if [ "$(id -u)" != 0 ]; then
            echo "postgres.sh: PostgreSQL 15 is missing and installing it needs root" >&2
            exit 1
        fi
        {
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
        } >&2
    fi
    if [ ! -x "$PGBIN/pg_ctl" ]; then
        echo "postgres.sh: $PGBIN/pg_ctl still missing (set PGBIN to the 15 binaries)" >&2
        exit 1
    fi
    local dir port
    dir=$(mktemp -d "${TMPDIR:-/tmp}/attest-pg.XXXXXX")
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    port=$(free_port)
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >&2
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >&2
    as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME" >&2
    echo "$dir" >"$STATE_FILE"
    echo "postgres.sh: PostgreSQL on 127.0.0.1:$port, data in $dir" >&2
    echo "export ATTEST_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/$DB_NAME"
    echo "export ATTEST_PG_DIR=$dir"
}

stop() {
    local dir=${ATTEST_PG_DIR:-}
    if [ -z "$dir" ] && [ -f "$STATE_FILE" ]; then
        dir=$(cat "$STATE_FILE")
    fi
    if [ -z "$dir" ] || [ ! -d "$dir" ]; then
        echo "postgres.sh: no cluster to stop" >&2
        return 0
    fi
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    rm -rf "$dir"
    rm -f "$STATE_FILE"
    echo "postgres.sh: stopped and removed $dir" >&2
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
