#!/usr/bin/env bash
# Installs what the browser tests (tests/panel.rs, tests/console.rs) need, and nothing when it is
# there already: Debian's chromium, and playwright-core (pinned by package-lock.json) in
# DEST (default: target/browser), which drives that Chromium. No browser is downloaded.
#
#   tests/browser/setup.sh [DEST]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/../../target/browser}"

if [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium
fi

mkdir -p "$dest"
if [ ! -f "$dest/node_modules/playwright-core/package.json" ] \
  || ! cmp -s "$here/package-lock.json" "$dest/package-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$dest/"
  # playwright-core has no install script and downloads nothing; --ignore-scripts keeps it so.
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
