#!/usr/bin/env bash
# The Redis broker tests (tests/redis_broker/) start Debian's redis-server on a free loopback
# port; install it when missing and we may.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ]; then
  echo "installing Debian's redis-server for the Redis broker tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
else
  echo "The Redis broker tests need Debian's redis-server." >&2
  echo "Install it as root: sudo apt-get install redis-server" >&2
  exit 1
fi
