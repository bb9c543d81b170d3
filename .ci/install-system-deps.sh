#!/usr/bin/env bash
# The Debian packages the test suite uses, installed when missing (idempotent):
#   postgresql — initdb/pg_ctl for the warehouse's PostgreSQL-catalog test (the tests start
#                their own throwaway cluster on 127.0.0.1; no system service is used);
#   chromium   — headless browser for the report's real-browser test (no browser build can
#                be downloaded at test time), with fonts-liberation for legible screenshots.
set -euo pipefail

missing=()
command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-system-deps: no apt-get here; install ${missing[*]} by hand" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: installing ${missing[*]}"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
