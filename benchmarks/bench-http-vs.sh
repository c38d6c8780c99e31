#!/usr/bin/env bash
# `echoplex bench http` against the HTTP load generators people compare it with: autocannon
# (npm, the same runtime) and wrk (Debian's C client). One fixed server (a bare node:http
# "hello", benchmarks/http-hello-server.mjs) pinned to core 1; each generator in turn pinned to
# core 0, CONNS connections for DUR seconds, REPEATS times interleaved. Prints each one's
# requests/s and its CPU per request (user+system of the generator's process, from the
# shell's `times`, less its start-up, over the requests it counted), the ratios of bench to autocannon and to
# wrk, and the medians. Loopback only; every run is bounded by DUR.
# Knobs (env): CONNS=50 DUR=5 REPEATS=3, PIN=0 to let the scheduler place every process,
# CLI=path/to/dist/cli/echoplex.cjs to measure another build of echoplex (before and after a change).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${CONNS:-50} DUR=${DUR:-5} REPEATS=${REPEATS:-3} PIN=${PIN:-1}
CLI=${CLI:-dist/cli/echoplex.cjs}
AUTOCANNON=node_modules/autocannon/autocannon.js
WRK=${WRK:-/usr/bin/wrk}
[ -f "$AUTOCANNON" ] || { echo "bench-http-vs: no $AUTOCANNON (npm ci)" >&2; exit 1; }
[ -x "$WRK" ] || { echo "bench-http-vs: no $WRK (apt-get install wrk, or bash scripts/setup-system.sh)" >&2; exit 1; }
[ -f "$CLI" ] || npm run build >/dev/null
PINNED=0
[ "$PIN" = 1 ] && command -v taskset >/dev/null && PINNED=1
on() { if [ "$PINNED" = 1 ]; then taskset -c "$@"; else shift; "$@"; fi; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port=19400
while port_busy "$port"; do port=$((port + 1)); done
url="http://127.0.0.1:$port/"
log=$(mktemp) out=$(mktemp) cpu=$(mktemp) rows=$(mktemp)
# taskset execs the server, so $! is the server itself.
if [ "$PINNED" = 1 ]; then
  taskset -c 1 node benchmarks/http-hello-server.mjs "$port" >"$log" 2>&1 &
else
  node benchmarks/http-hello-server.mjs "$port" >"$log" 2>&1 &
fi
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log" "$out" "$cpu" "$rows"' EXIT
for _ in $(seq 100); do port_busy "$port" && break; sleep 0.1; done
port_busy "$port" || { echo "bench-http-vs: the server did not listen: $(tail -3 "$log")" >&2; exit 1; }

# Runs a generator on core 0 with its stdout in $out; its CPU seconds (user+system) go to $cpu.
# `times` in the subshell reports the CPU of the subshell's finished children: the generator
# (written to a file first: in a pipeline, `times` would run in a new process, with no children).
measure() {
  (
    on 0 "$@" >"$out" 2>/dev/null || true
    times >"$cpu"
  )
  awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } print t }' "$cpu" >"$cpu.s"
  mv "$cpu.s" "$cpu"
}
# CPU microseconds per request, the generator's start-up ($2 seconds) left out.
per_req() { awk -v c="$(cat "$cpu")" -v s="$2" -v n="$1" 'BEGIN { c -= s; if (c < 0) c = 0; if (n > 0) printf "%.2f", c * 1e6 / n; else print 0 }'; }
# The first occurrence of a number field (the per-second entries after it repeat some names).
json_field() { grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2; }

where="server on core 1, generators on core 0"
[ "$PINNED" = 1 ] || where="server and generators unpinned"
echo "scenario: GET $url (\"hello\"), $CONNS conns, ${DUR}s each; $where; $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
# Start-up and exit of the two Node generators (a run of one request), subtracted from their
# CPU: over a few seconds it is a large share (wrk's is nil). Median of three.
startup() {
  local t=()
  for _ in 1 2 3; do measure "$@"; t+=("$(cat "$cpu")"); done
  printf '%s\n' "${t[@]}" | sort -g | sed -n 2p
}
ac_start=$(startup node "$AUTOCANNON" -c 1 -a 1 --json "$url")
b_start=$(startup node "$CLI" bench http "$url" --conns 1 --requests 1 --json --no-progress)
echo "start-up CPU left out: autocannon ${ac_start}s, bench ${b_start}s"
printf '%-4s %24s %24s %24s %18s %18s\n' run "autocannon req/s us/req" "wrk req/s us/req" "bench req/s us/req" "bench/autocannon" "bench/wrk"
row() {
  awk -v r="$1" '{ printf "%-4s %14d %9.2f %14d %9.2f %14d %9.2f   %5.2f (cpu %4.2f)  %5.2f (cpu %4.2f)\n", r, $1, $2, $3, $4, $5, $6,
    ($1 > 0 ? $5 / $1 : 0), ($6 > 0 ? $2 / $6 : 0), ($3 > 0 ? $5 / $3 : 0), ($6 > 0 ? $4 / $6 : 0) }'
}
for r in $(seq "$REPEATS"); do
  measure node "$AUTOCANNON" -c "$CONNS" -d "$DUR" --json "$url"
  ac_rps=$(sed -n 's/.*"requests":{"average":\([0-9.]*\).*/\1/p' "$out" | head -1)
  ac_n=$(sed -n 's/.*"requests":{[^}]*"total":\([0-9]*\).*/\1/p' "$out" | head -1)
  ac_us=$(per_req "${ac_n:-0}" "$ac_start")
  measure "$WRK" -t1 -c "$CONNS" -d "${DUR}s" "$url"
  wrk_rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out")
  wrk_n=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out")
  wrk_us=$(per_req "${wrk_n:-0}" 0)
  measure node "$CLI" bench http "$url" --conns "$CONNS" --duration "${DUR}s" --warmup 0s --json --no-progress
  b_rps=$(json_field msgsPerSec <"$out")
  b_n=$(json_field replies <"$out")
  b_us=$(per_req "${b_n:-0}" "$b_start")
  echo "${ac_rps:-0} $ac_us ${wrk_rps:-0} $wrk_us ${b_rps:-0} $b_us" >>"$rows"
  tail -1 "$rows" | row "$r"
done
# Medians of each column; ratios of the medians. "cpu" is the other's us/req over bench's:
# 1.00 means the same generator CPU per request, above 1 bench is cheaper.
median() { cut -d' ' -f"$1" "$rows" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "$(median 1) $(median 2) $(median 3) $(median 4) $(median 5) $(median 6)" | row med
echo "(us/req: the generator's CPU per request, start-up left out. On a shared machine req/s follows each one's CPU share: compare us/req; see docs/BENCHMARKS.md, 'echoplex bench http against autocannon and wrk')"
