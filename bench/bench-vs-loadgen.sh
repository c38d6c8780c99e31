#!/usr/bin/env bash
# `echoplex bench` and the harness loadgen measure the same echoplex echo server in
# one run (pp-100c by default: 100 connections, ping-pong, 64-byte payloads), each
# pinned to core 0 with the server on core 1, alternately REPEATS times; prints both
# msgs/s and their ratio. Loopback only; every run is bounded by DUR.
# Knobs (env): HARNESS (default ../shared/harness), CONNS=100 PIPELINE=1 SIZE=64 DUR=5 REPEATS=2,
# PIN=0 to let the scheduler place every process (default 1: pinned as above).
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=${HARNESS:-../shared/harness}
LOADGEN=$HARNESS/bin/loadgen
CONNS=${CONNS:-100} PIPELINE=${PIPELINE:-1} SIZE=${SIZE:-64} DUR=${DUR:-5} REPEATS=${REPEATS:-2}
[ -x "$LOADGEN" ] || { echo "bench-vs-loadgen: no $LOADGEN (run $HARNESS/setup.sh)" >&2; exit 1; }
[ -f dist/cli/main.js ] || npm run build >/dev/null
PIN=${PIN:-1}
pin() { if [ "$PIN" = 1 ] && command -v taskset >/dev/null; then taskset -c "$@"; else shift; "$@"; fi; }

out=$(mktemp)
pin 1 node dist/cli/main.js echo 127.0.0.1:0 --log-level warn >"$out" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' "$out")
[ -n "$port" ] || { echo "bench-vs-loadgen: the echo server did not start" >&2; exit 1; }

where="server echoplex echo on core 1, load generators on core 0"
[ "$PIN" = 1 ] || where="server and load generators unpinned"
echo "scenario: $CONNS conns, pipeline $PIPELINE, $SIZE B, ${DUR}s; $where"
for r in $(seq "$REPEATS"); do
  lg=$(pin 0 "$LOADGEN" echo -addr "127.0.0.1:$port" -conns "$CONNS" -pipeline "$PIPELINE" -size "$SIZE" \
    -duration "${DUR}s" -prefix 'ECHO: ' | tail -1 | sed -n 's/.*"msgs_per_s":\([0-9.]*\).*/\1/p')
  eb=$(pin 0 node dist/cli/main.js bench echo "127.0.0.1:$port" --conns "$CONNS" --pipeline "$PIPELINE" \
    --size "$SIZE" --duration "${DUR}s" --json | sed -n 's/.*"msgsPerSec":\([0-9.]*\).*/\1/p')
  ratio=$(awk -v a="$eb" -v b="$lg" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
  echo "run $r: loadgen ${lg} msgs/s, echoplex bench ${eb} msgs/s, bench/loadgen ${ratio}"
done
echo "(the machine's other load makes these numbers noisy: see README, 'How its numbers compare')"
