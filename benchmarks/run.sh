#!/usr/bin/env bash
# The benchmark suite (`npm run bench`): builds echoplex, then runs the reference
# harness (../shared/harness: Go seed servers, a C epoll server, plain-Node
# baselines, a Go load generator that verifies every reply) with echoplex's
# services added as rows, on Node 20, Node 24 and Bun, in one run, and writes the
# tables to benchmarks/results/<date>.md. Not part of `npm test`: speed is measured here.
#
#   npm run bench                 everything (~25 min)
#   bash benchmarks/run.sh compare     echo matrix only (compare.sh)
#   bash benchmarks/run.sh measure     conns + slow + chat (measure.sh)
#   bash benchmarks/run.sh codecs      codec micro-benchmarks only
# Knobs (env): HARNESS=path DUR=5s WARMUP=3s REPEATS=2 SCEN="…" RUNTIMES="node20 node24 bun" CONNS=10000
# WARMUP is 3 s, not the harness's 1 s: on Bun, JavaScriptCore needs 3-5 s to
# optimise the engine's code (measured: benchmarks/results/2026-11-23-engine-perf.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HARNESS=${HARNESS:-$(cd "$ROOT/../shared/harness" 2>/dev/null && pwd || true)}
WHAT=${1:-all}
RUNTIMES=${RUNTIMES:-node20 node24 bun}
STAMP=$(date -u +%Y-%m-%d-%H%M)
OUT=$ROOT/benchmarks/results/$STAMP.md
mkdir -p "$ROOT/benchmarks/results"

cd "$ROOT"
npm run -s build

{
  echo "# echoplex benchmarks, $STAMP UTC"
  echo
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); fd limit $(ulimit -Hn)."
  echo "Servers pinned to core 1, load generator to core 0 (harness lib.sh)."
  echo
} >"$OUT"

if [ "$WHAT" = all ] || [ "$WHAT" = codecs ]; then
  echo "== codec micro-benchmarks =="
  { echo '## Codec micro-benchmarks'; echo; echo '```'; npx tsx benchmarks/codecs.bench.ts; echo '```'; echo; } | tee -a "$OUT"
  [ "$WHAT" = codecs ] && exit 0
fi

if [ -z "$HARNESS" ] || [ ! -d "$HARNESS" ]; then
  echo "bench: the reference harness is not at ../shared/harness (set HARNESS=path); only codec benchmarks ran" >&2
  exit 1
fi
[ -x "$HARNESS/bin/loadgen" ] || (cd "$HARNESS" && ./setup.sh)

# Absolute paths of each runtime's binary: the harness needs the server's own pid.
source "$ROOT/benchmarks/runtimes.sh"
CLI=$ROOT/dist/cli/echoplex.cjs
FAST=$HARNESS/node-baselines/fast-echo.js
EXTRAS=()
NAMES="seed001-echo epoll-echo"
CHAT_EXTRAS=""
MEASURE_EXTRA=""
for rt in $RUNTIMES; do
  bin=$(runtime_bin "$rt")
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "bench: runtime $rt not available, skipped" >&2
    continue
  fi
  # echo with the registry and metrics on (the admin endpoint serves /metrics).
  EXTRAS+=("echoplex-$rt=$bin $CLI echo --host 127.0.0.1 --port {port} --log-level warn --max-connections 19990 --admin 127.0.0.1:0")
  EXTRAS+=("fast-echo-$rt=$bin $FAST --port {port} --prefix 'ECHO: ' --host 127.0.0.1")
  NAMES+=" echoplex-$rt fast-echo-$rt"
  if [ "$rt" = node20 ]; then
    MEASURE_EXTRA="echoplex-$rt=$bin $CLI echo --host 127.0.0.1 --port {port} --log-level warn --max-connections 19990 --admin 127.0.0.1:0"
    CHAT_EXTRAS="echoplex-chat-$rt=$bin $CLI chat --host 127.0.0.1 --port {port} --log-level warn --max-connections 19990 --flood-rate 0"
  fi
done

if [ "$WHAT" = all ] || [ "$WHAT" = compare ]; then
  echo "== echo matrix (compare.sh) =="
  (cd "$HARNESS" && DUR=${DUR:-5s} WARMUP=${WARMUP:-3s} REPEATS=${REPEATS:-2} ONLY="$NAMES" SCEN="${SCEN:-pp-100c pipe16-100c pp-1000c 4k-pipe8-50c}" \
    ./compare.sh "${EXTRAS[@]}") | tee /tmp/echoplex-compare.out
  table=$(ls -td "$HARNESS"/results/compare-* | head -1)/table.txt
  {
    echo "## Echo matrix (harness compare.sh; ratio to seed001, Go)"
    echo
    echo "Rows: \`echoplex-<runtime>\` is \`echoplex echo\` with the peer registry and Prometheus metrics on;"
    echo "\`fast-echo-<runtime>\` is the harness's plain-Node ceiling on the same runtime."
    echo
    echo '```'
    cat "$table"
    echo '```'
    echo
  } >>"$OUT"
fi

if [ "$WHAT" = all ] || [ "$WHAT" = measure ]; then
  echo "== resources (measure.sh) =="
  (cd "$HARNESS" && CONNS=${CONNS:-10000} CONNS_SERVERS="seed001-echo fast-echo.js" SLOW_SERVERS="seed001-echo fast-echo.js" \
    EXTRA="$MEASURE_EXTRA" CHAT_EXTRA="$CHAT_EXTRAS" HELLO='/nick u%d' ./measure.sh all) | tee /tmp/echoplex-measure.out
  summary=$(ls -td "$HARNESS"/results/measure-* | head -1)/summary.txt
  {
    echo "## Connections, slow reader, chat fan-out (harness measure.sh)"
    echo
    echo '```'
    cat "$summary"
    echo '```'
  } >>"$OUT"
fi

echo
echo "written: $OUT"
