#!/usr/bin/env bash
# Scans a TLS service with testssl.sh on loopback only: starts
# `echoplex SERVICE 127.0.0.1:0 --tls-self-signed` (default: echo) from dist/, runs
# testssl.sh against it with every DNS lookup and outside contact off, then stops the
# server. Installs Debian's testssl.sh package if missing. Takes minutes; not part of
# `npm test`. Extra arguments go to testssl.sh (e.g. --fast, --jsonfile out.json).
#
#   bash scripts/testssl.sh            # echo
#   SERVICE=http bash scripts/testssl.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v testssl >/dev/null 2>&1 && ! command -v testssl.sh >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "testssl: installing testssl.sh from Debian's packages" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends testssl.sh >/dev/null
fi
TESTSSL=$(command -v testssl || command -v testssl.sh)
[ -f dist/cli/echoplex.cjs ] || npm run build >/dev/null

SERVICE=${SERVICE:-echo}
out=$(mktemp)
node dist/cli/echoplex.cjs "$SERVICE" 127.0.0.1:0 --tls-self-signed --log-level warn >"$out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$out"' EXIT

port=""
for _ in $(seq 1 200); do
  port=$(sed -n "s/^echoplex $SERVICE listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p" "$out")
  [ -n "$port" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "testssl: echoplex $SERVICE did not start" >&2; cat "$out" >&2; exit 1; }

echo "\$ testssl --quiet --color 0 --nodns none --ip 127.0.0.1 --warnings off $* 127.0.0.1:$port  # echoplex $SERVICE --tls-self-signed"
# --nodns none and --ip: no name lookups, only this address; phoning out (CRL, OCSP) is off by default.
"$TESTSSL" --quiet --color 0 --nodns none --ip 127.0.0.1 --warnings off "$@" "127.0.0.1:$port"
