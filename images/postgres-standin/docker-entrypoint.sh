#!/usr/bin/env bash
# The official postgres image's entrypoint contract, for the stand-in (images/postgres-standin):
# on an empty PGDATA, initdb with POSTGRES_USER/POSTGRES_PASSWORD, create POSTGRES_DB, run
# /docker-entrypoint-initdb.d/* against a server that listens on its Unix socket only, stop it;
# then exec postgres with the given arguments (`-c port=5432` means `postgres -c port=5432`).
set -Eeuo pipefail

if [[ "${1:-}" == -* ]]; then
    set -- postgres "$@"
fi
if [[ "${1:-}" != postgres ]]; then
    exec "$@"
fi

: "${PGDATA:?PGDATA must be set}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
mkdir -p "$PGDATA"
chmod 0700 "$PGDATA"

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    if [[ -z "${POSTGRES_PASSWORD:-}" ]]; then
        echo "error: the database is uninitialised and POSTGRES_PASSWORD is not set" >&2
        exit 1
    fi
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as in the official image
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        --encoding=UTF8 --locale=C.UTF-8 ${POSTGRES_INITDB_ARGS:-}
    {
        echo "listen_addresses = '*'"
        echo "unix_socket_directories = '/var/run/postgresql'"
    } >>"$PGDATA/postgresql.conf"
    echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"

    export PGPASSWORD="$POSTGRES_PASSWORD"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" -p "${PGPORT:-5432}")
    if [[ "$POSTGRES_DB" != postgres ]]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    for file in /docker-entrypoint-initdb.d/*; do
        case "$file" in
            *.sh)
                echo "running $file"
                if [[ -x "$file" ]]; then "$file"; else . "$file"; fi
                ;;
            *.sql)
                echo "running $file"
                "${psql[@]}" --dbname "$POSTGRES_DB" -f "$file"
                ;;
            *) [[ -e "$file" ]] && echo "ignoring $file" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop
    unset PGPASSWORD
    echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
