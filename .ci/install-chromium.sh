#!/usr/bin/env bash
# Headless Chromium for the report's real-browser test (tests/reports/test_report_browser.py).
# Idempotent: does nothing when /usr/bin/chromium is already there. Debian's own package,
# because no browser build can be downloaded at test time; fonts-liberation gives the
# screenshots metric-compatible sans and mono faces.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
/usr/bin/chromium --version
