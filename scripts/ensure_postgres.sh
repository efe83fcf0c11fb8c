#!/usr/bin/env bash
# The suite runs on a real PostgreSQL; install the server binaries when missing and we may.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ]; then
  echo "installing Debian's postgresql server binaries for the test suite..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
else
  echo "The test suite needs PostgreSQL's server binaries (initdb, pg_ctl)." >&2
  echo "Install them as root: sudo apt-get install postgresql" >&2
  exit 1
fi
