#!/usr/bin/env bash
# Install PostgreSQL server binaries (initdb, pg_ctl) for the warehouse tests' throwaway
# catalog server. Idempotent: does nothing when initdb is already there. The tests start
# their own cluster on 127.0.0.1; no system cluster or service is needed.
set -euo pipefail

if command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "install-postgres: initdb already present, nothing to do"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-postgres: no apt-get here; install PostgreSQL (initdb, pg_ctl) by hand" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
    echo "install-postgres: the postgresql package installed no initdb" >&2
    exit 1
}
echo "install-postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tail -1)"
