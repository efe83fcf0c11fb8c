#!/usr/bin/env bash
# The browser tests drive Debian's chromium; install it when missing and we may.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ]; then
  echo "installing Debian's chromium for the browser tests (about two minutes)..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "The browser tests need Debian's chromium at /usr/bin/chromium." >&2
  echo "Install it as root: sudo apt-get install chromium" >&2
  exit 1
fi
