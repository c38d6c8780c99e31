#!/usr/bin/env bash
# Every core (issue 19 item 3): echoplex with `--workers auto` against the Go seeds using
# every core by themselves, nothing pinned, the harness loadgen sharing the machine.
#   echo: seed001-echo vs `echoplex echo --workers auto --workers-balance MODE` for each mode
#         (and one echoplex process as a reference), loadgen pp-100c and pipe16-100c;
#   chat: seed004-chat vs `echoplex chat --workers auto --workers-balance MODE --redis …`
#         (workers share rooms through a redis-server this script starts; one chat process
#         without Redis as a reference), loadgen 500 receivers x 1 sender x 2000 msgs.
# Prints each run's msgs/s (chat: deliveries/s) and its ratio to the seed, then the medians
# over REPEATS (runs interleaved). A mode the runtime lacks (reuseport on Node 20) is skipped.
# Loopback only; every run is bounded (loadgen's -duration; chat's -timeout).
# Knobs (env): RUNTIMES="node20 node24 bun", MODES="shared round-robin reuseport",
#   WORKERS=auto, SCEN="pp-100c pipe16-100c", DUR=5 WARMUP=1 REPEATS=3, CHAT=1 (0: no chat),
#   CHAT_CONNS=500 CHAT_MSGS=2000, HARNESS (default ../shared/harness).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# Beside the project's checkout (or beside the directory of its worktrees).
HARNESS=${HARNESS:-$([ -d ../shared/harness ] && echo ../shared/harness || echo ../../shared/harness)}
BIN=$HARNESS/bin
RUNTIMES=${RUNTIMES:-node20 node24 bun}
MODES=${MODES:-shared round-robin reuseport}
WORKERS=${WORKERS:-auto}
SCEN=${SCEN:-pp-100c pipe16-100c}
DUR=${DUR:-5} WARMUP=${WARMUP:-1} REPEATS=${REPEATS:-3}
CHAT=${CHAT:-1} CHAT_CONNS=${CHAT_CONNS:-500} CHAT_MSGS=${CHAT_MSGS:-2000}
CLI=$ROOT/dist/cli/echoplex.cjs
for b in loadgen seed001-echo seed004-chat; do
  [ -x "$BIN/$b" ] || { echo "workers.sh: no $BIN/$b (run $HARNESS/setup.sh)" >&2; exit 1; }
done
[ "$CHAT" = 0 ] || command -v redis-server >/dev/null || { echo "workers.sh: chat needs redis-server (CHAT=0 skips it)" >&2; exit 1; }
[ -f "$CLI" ] || npm run build >/dev/null
cores=$(nproc)
[ "$WORKERS" = auto ] && count=$cores || count=$WORKERS

source benchmarks/runtimes.sh
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p=$1
  while port_busy "$p"; do p=$((p + 1)); done
  echo "$p"
}
json_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" | head -1; }

LOG=$(mktemp)
ROWS=$(mktemp)
PID=
REDIS_PID=
stop() {
  [ -n "$PID" ] || return 0
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  # A killed primary's workers exit when their IPC channel closes; wait for them too.
  for _ in $(seq 50); do pgrep -f "$CLI .*127.0.0.1:$PORT" >/dev/null || break; sleep 0.1; done
  PID=
}
cleanup() {
  stop
  [ -z "$REDIS_PID" ] || { kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; }
  rm -f "$LOG" "$ROWS"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME LISTENERS CMD...: runs CMD (which execs the server: $! is its pid) and waits
# until LISTENERS processes have logged "listening" (a Go seed: until the port answers).
start() {
  local name=$1 want=$2
  shift 2
  : >"$LOG"
  "$@" >"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 300); do
    if ! kill -0 "$PID" 2>/dev/null; then
      echo "workers.sh: $name exited at start: $(tail -2 "$LOG")" >&2
      PID=
      return 1
    fi
    if port_busy "$PORT"; then
      [ "$want" = 0 ] && return 0
      [ "$(grep -c '"msg":"listening"' "$LOG")" -ge "$want" ] && return 0
    fi
    sleep 0.1
  done
  echo "workers.sh: $name did not listen within 30 s: $(tail -2 "$LOG")" >&2
  stop
  return 1
}

echo_run() { # NAME SCENARIO
  local conns=100 pipeline=1 out mps
  case $2 in
    pp-100c) pipeline=1 ;;
    pipe16-100c) pipeline=16 ;;
    *) echo "workers.sh: unknown scenario $2 (pp-100c, pipe16-100c)" >&2; return 1 ;;
  esac
  out=$("$BIN/loadgen" echo -addr "127.0.0.1:$PORT" -conns "$conns" -pipeline "$pipeline" -size 64 \
    -duration "${DUR}s" -warmup "${WARMUP}s" -prefix 'ECHO: ' 2>>"$LOG" | tail -1) || true
  mps=$(json_field msgs_per_s <<<"$out")
  echo "echo $2 $1 ${mps:-0}" >>"$ROWS"
  printf '  %-12s %-28s %12.0f msgs/s\n' "$2" "$1" "${mps:-0}"
}

chat_run() { # NAME
  local out dps
  out=$("$BIN/loadgen" chat -addr "127.0.0.1:$PORT" -conns "$CHAT_CONNS" -senders 1 -msgs "$CHAT_MSGS" \
    -hello '/nick u%d' -timeout 10s 2>>"$LOG" | tail -1) || true
  dps=$(json_field deliveries_per_s <<<"$out")
  echo "chat chat-${CHAT_CONNS}x1 $1 ${dps:-0}" >>"$ROWS"
  printf '  %-12s %-28s %12.0f deliveries/s\n' "chat" "$1" "${dps:-0}"
}

# Each runtime's binary, and the modes it has (a mode it lacks exits 2 at once).
declare -A RT_BIN
for rt in $RUNTIMES; do
  bin=$(runtime_bin "$rt")
  if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "workers.sh: runtime $rt not available, skipped" >&2
    continue
  fi
  RT_BIN[$rt]=$bin
done
has_mode() { # BIN MODE
  "$1" "$CLI" echo 127.0.0.1:0 --workers 2 --workers-balance "$2" --log-level warn >/dev/null 2>&1 &
  local p=$! code
  for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    wait "$p" 2>/dev/null || true
    return 0
  fi
  wait "$p" && code=0 || code=$?
  [ "$code" != 2 ]
}
declare -A RT_MODES
for rt in "${!RT_BIN[@]}"; do
  RT_MODES[$rt]=""
  for mode in $MODES; do
    if has_mode "${RT_BIN[$rt]}" "$mode"; then RT_MODES[$rt]+=" $mode"; else echo "workers.sh: $rt has no --workers-balance $mode, skipped" >&2; fi
  done
done

if [ "$CHAT" != 0 ]; then
  RPORT=$(free_port 19790)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 50); do port_busy "$RPORT" && break; sleep 0.1; done
fi

echo "workers.sh: $cores cores, --workers $WORKERS ($count), nothing pinned, ${DUR}s after ${WARMUP}s warm-up, $REPEATS repeats; $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$REPEATS"); do
  echo "== repeat $r"
  PORT=$(free_port 19700)
  if start seed001 0 "$BIN/seed001-echo" -addr "127.0.0.1:$PORT"; then
    for s in $SCEN; do echo_run seed001 "$s"; done
    stop
  fi
  for rt in "${!RT_BIN[@]}"; do
    bin=${RT_BIN[$rt]}
    PORT=$(free_port 19700)
    if start "echoplex-$rt-1proc" 1 "$bin" "$CLI" echo "127.0.0.1:$PORT" --log-format json --max-connections 19990; then
      for s in $SCEN; do echo_run "echoplex-$rt-1proc" "$s"; done
      stop
    fi
    for mode in ${RT_MODES[$rt]}; do
      PORT=$(free_port 19700)
      if start "echoplex-$rt-$mode" "$count" "$bin" "$CLI" echo "127.0.0.1:$PORT" --workers "$WORKERS" \
        --workers-balance "$mode" --log-format json --max-connections 19990; then
        for s in $SCEN; do echo_run "echoplex-$rt-$mode" "$s"; done
        stop
      fi
    done
  done
  [ "$CHAT" != 0 ] || continue
  PORT=$(free_port 19700)
  if start seed004 0 "$BIN/seed004-chat" -addr "127.0.0.1:$PORT"; then
    chat_run seed004
    stop
  fi
  for rt in "${!RT_BIN[@]}"; do
    bin=${RT_BIN[$rt]}
    chat_flags=(--log-format json --log-level warn --max-connections 19990 --flood-rate 0)
    PORT=$(free_port 19700)
    if start "echoplex-$rt-1proc" 0 "$bin" "$CLI" chat "127.0.0.1:$PORT" "${chat_flags[@]}"; then
      chat_run "echoplex-$rt-1proc"
      stop
    fi
    for mode in ${RT_MODES[$rt]}; do
      PORT=$(free_port 19700)
      # Each worker joins the Redis chat before it listens; the port answers once the first
      # has, so wait a moment for the others (their count is not logged at warn).
      if start "echoplex-$rt-$mode" 0 "$bin" "$CLI" chat "127.0.0.1:$PORT" --workers "$WORKERS" \
        --workers-balance "$mode" --redis "redis://127.0.0.1:$RPORT" "${chat_flags[@]}"; then
        sleep 2
        chat_run "echoplex-$rt-$mode"
        stop
      fi
    done
  done
done

echo
echo "== medians (ratio: to seed001 for echo, to seed004 for chat)"
printf '%-8s %-12s %-28s %14s %7s\n' kind scenario server median ratio
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
while read -r kind scen; do
  base=seed001
  [ "$kind" = chat ] && base=seed004
  bmed=$(awk -v k="$kind" -v s="$scen" -v n="$base" '$1 == k && $2 == s && $3 == n { print $4 }' "$ROWS" | median)
  for name in $(awk -v k="$kind" -v s="$scen" '$1 == k && $2 == s { print $3 }' "$ROWS" | awk '!seen[$0]++'); do
    med=$(awk -v k="$kind" -v s="$scen" -v n="$name" '$1 == k && $2 == s && $3 == n { print $4 }' "$ROWS" | median)
    awk -v k="$kind" -v s="$scen" -v n="$name" -v m="$med" -v b="$bmed" \
      'BEGIN { printf "%-8s %-12s %-28s %14.0f %7.2f\n", k, s, n, m, (b > 0 ? m / b : 0) }'
  done
done < <(awk '{ print $1, $2 }' "$ROWS" | awk '!seen[$0]++')
