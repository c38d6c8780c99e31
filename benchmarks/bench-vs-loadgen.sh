#!/usr/bin/env bash
# `echoplex bench`, the harness's Go loadgen and a bare Node client (benchmarks/node-floor-client.mjs:
# no verification, no histogram) measure the same echo server in one run (pp-100c by default:
# 100 connections, ping-pong, 64-byte payloads), the server pinned to core 1 and each client
# to core 0, in turn REPEATS times. Prints each one's msgs/s and client CPU per reply, the
# ratios to loadgen, and their medians (bench: windowCpuUsPerReply, the CPU of its measured window
# only, as loadgen and the bare client measure theirs). Loopback only; every run is bounded by DUR.
# Knobs (env): SERVER=echoplex|epoll-echo (epoll-echo: the harness's C server, so the server is
# not the limit), HARNESS (default ../shared/harness), CONNS=100 PIPELINE=1 SIZE=64 DUR=5
# WARMUP=1 REPEATS=3, PIN=0 to let the scheduler place every process.
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=${HARNESS:-../shared/harness}
LOADGEN=$HARNESS/bin/loadgen
SERVER=${SERVER:-echoplex}
CONNS=${CONNS:-100} PIPELINE=${PIPELINE:-1} SIZE=${SIZE:-64} DUR=${DUR:-5} WARMUP=${WARMUP:-1} REPEATS=${REPEATS:-3}
PIN=${PIN:-1}
[ -x "$LOADGEN" ] || { echo "bench-vs-loadgen: no $LOADGEN (run $HARNESS/setup.sh)" >&2; exit 1; }
[ -f dist/cli/echoplex.cjs ] || npm run build >/dev/null
on() { if [ "$PIN" = 1 ] && command -v taskset >/dev/null; then taskset -c "$@"; else shift; "$@"; fi; }
# The server's prefix is a plain command, not a function: a function put in the background
# runs in a subshell, whose pid ($!) is not the server's, and the server would outlive the script.
SERVER_ON=()
[ "$PIN" = 1 ] && command -v taskset >/dev/null && SERVER_ON=(taskset -c 1)
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=19300
while port_busy "$port"; do port=$((port + 1)); done
log=$(mktemp)
# taskset execs the server, so $! is the server itself.
case $SERVER in
  echoplex) "${SERVER_ON[@]}" node dist/cli/echoplex.cjs echo "127.0.0.1:$port" --log-level warn >"$log" 2>&1 & ;;
  epoll-echo) "${SERVER_ON[@]}" "$HARNESS/bin/epoll-echo" --port "$port" --prefix 'ECHO: ' --host 127.0.0.1 >"$log" 2>&1 & ;;
  *) echo "bench-vs-loadgen: SERVER is echoplex or epoll-echo" >&2; exit 2 ;;
esac
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do port_busy "$port" && break; sleep 0.1; done
port_busy "$port" || { echo "bench-vs-loadgen: $SERVER did not listen: $(tail -3 "$log")" >&2; exit 1; }

json_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }
where="server $SERVER on core 1, clients on core 0"
[ "$PIN" = 1 ] || where="server and clients unpinned"
echo "scenario: $CONNS conns, pipeline $PIPELINE, $SIZE B, ${DUR}s after ${WARMUP}s warm-up; $where; $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %22s %22s %22s %16s %14s\n' run "loadgen msgs/s us/msg" "bench msgs/s us/msg" "node-floor msgs/s us/msg" "bench/loadgen" "floor/loadgen"
rows=$(mktemp)
for r in $(seq "$REPEATS"); do
  lg=$(on 0 "$LOADGEN" echo -addr "127.0.0.1:$port" -conns "$CONNS" -pipeline "$PIPELINE" -size "$SIZE" \
    -duration "${DUR}s" -warmup "${WARMUP}s" -prefix 'ECHO: ' | tail -1)
  lg_mps=$(json_field msgs_per_s <<<"$lg")
  lg_pct=$(json_field loadgen_pct <<<"$lg")
  lg_us=$(awk -v p="$lg_pct" -v m="$lg_mps" 'BEGIN { if (m > 0) printf "%.2f", p * 1e4 / m; else print 0 }')
  eb=$(on 0 node dist/cli/echoplex.cjs bench echo "127.0.0.1:$port" --conns "$CONNS" --pipeline "$PIPELINE" \
    --size "$SIZE" --duration "${DUR}s" --warmup "${WARMUP}s" --prefix 'ECHO: ' --json --no-progress || true)
  eb_mps=$(json_field msgsPerSec <<<"$eb")
  eb_us=$(json_field windowCpuUsPerReply <<<"$eb")
  fl=$(on 0 node benchmarks/node-floor-client.mjs "$port" "$CONNS" "$DUR" "$WARMUP" "$SIZE")
  fl_mps=$(json_field msgsPerSec <<<"$fl")
  fl_us=$(json_field cpuUsPerReply <<<"$fl")
  echo "$lg_mps $lg_us $eb_mps $eb_us $fl_mps $fl_us" >>"$rows"
  awk -v r="$r" '{ printf "%-4s %13d %8.2f %13d %8.2f %13d %8.2f   %5.2f (cpu %4.2f)  %5.2f (cpu %4.2f)\n", r, $1, $2, $3, $4, $5, $6,
    ($1 > 0 ? $3 / $1 : 0), ($4 > 0 ? $2 / $4 : 0), ($1 > 0 ? $5 / $1 : 0), ($6 > 0 ? $2 / $6 : 0) }' <<<"$(tail -1 "$rows")"
done
# Medians of each column; ratios of the medians. "cpu" is loadgen's us/msg over the other's:
# 1.00 means the same client CPU per reply.
median() { cut -d' ' -f"$1" "$rows" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "$(median 1) $(median 2) $(median 3) $(median 4) $(median 5) $(median 6)" |
  awk '{ printf "%-4s %13d %8.2f %13d %8.2f %13d %8.2f   %5.2f (cpu %4.2f)  %5.2f (cpu %4.2f)\n", "med", $1, $2, $3, $4, $5, $6,
    ($1 > 0 ? $3 / $1 : 0), ($4 > 0 ? $2 / $4 : 0), ($1 > 0 ? $5 / $1 : 0), ($6 > 0 ? $2 / $6 : 0) }'
rm -f "$rows"
echo "(us/msg: the client's CPU per reply. The machine's other load makes msgs/s noisy: see docs/BENCHMARKS.md, 'echoplex bench against the harness loadgen')"
