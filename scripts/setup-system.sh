#!/usr/bin/env bash
# Installs the system programs the tests drive as real peers (nc, curl, ab, openssl,
# redis-server, chromium, jq, haproxy, logger, socat, xmllint), from Debian's packages, only when one is missing;
# and wrk, the C load generator benchmarks/bench-http-vs.sh compares `bench http` with.
# Idempotent and quiet when everything is there. Never downloads anything else.
set -euo pipefail

declare -A NEED=(
  [nc]=netcat-openbsd
  [curl]=curl
  [ab]=apache2-utils
  [openssl]=openssl
  [redis-server]=redis-server
  [chromium]=chromium
  [tmux]=tmux
  [jq]=jq
  [script]=bsdutils
  [logger]=bsdutils
  [haproxy]=haproxy
  [socat]=socat
  [xmllint]=libxml2-utils
  [ii]=ii
  [irssi]=irssi
  [wrk]=wrk
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "setup-system: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "setup-system: the tests drive real peers; installing the missing ones from Debian's packages: ${missing[*]} (see README, Tests)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
