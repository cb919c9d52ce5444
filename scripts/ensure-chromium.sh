#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: `npm run test:browser` opens the HTML report in it.
# Needs root (CI and the dev machines run as root); does nothing when chromium is already there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(command -v chromium)"
  exit 0
fi
echo "chromium is missing: installing Debian's package (this takes a few minutes)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: $(command -v chromium)"
