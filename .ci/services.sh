#!/usr/bin/env bash
# Services the review tests need, on a Debian machine: PostgreSQL (for the store tests
# against a real server) and Chromium (for the browser test driven by pip's playwright,
# never `playwright install`). Idempotent: when both are installed and PostgreSQL is up,
# this only checks and prints the URL. Exports nothing; .ci/run sets TQP_TEST_PG_URL.
set -euo pipefail

PG_USER=tqp
PG_PASSWORD=tqp
PG_DB=tqp
PG_PORT=5432

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive

missing=()
for package in postgresql chromium; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "services: installing ${missing[*]}" >&2
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Start the default cluster (no systemd in containers: pg_ctlcluster works everywhere).
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $2}')
if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    cluster=main
    "${SUDO[@]}" pg_createcluster "$version" "$cluster" --port "$PG_PORT" >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}' | grep -q online; then
    "${SUDO[@]}" pg_ctlcluster "$version" "$cluster" start
fi

psql_admin() { "${SUDO[@]}" su postgres -c "psql -v ON_ERROR_STOP=1 -qtAX -p $PG_PORT $*"; }
for _ in $(seq 1 30); do
    psql_admin "-c 'select 1'" >/dev/null 2>&1 && break
    sleep 0.5
done
if [ "$(psql_admin "-c \"select 1 from pg_roles where rolname = '$PG_USER'\"")" != "1" ]; then
    psql_admin "-c \"create role $PG_USER login password '$PG_PASSWORD' createdb\""
fi
if [ "$(psql_admin "-c \"select 1 from pg_database where datname = '$PG_DB'\"")" != "1" ]; then
    psql_admin "-c \"create database $PG_DB owner $PG_USER\""
fi

test -x /usr/bin/chromium || { echo "services: /usr/bin/chromium is missing after install" >&2; exit 1; }
echo "postgresql+psycopg://$PG_USER:$PG_PASSWORD@localhost:$PG_PORT/$PG_DB"
