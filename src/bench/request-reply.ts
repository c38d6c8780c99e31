// The request/response load engine behind the echo and cmd modes: each connection
// (a Pipe, pipe.ts) keeps `pipeline` requests in flight (closed loop) or gets requests
// at their intended times from the pacer (open loop); a connection shape (conn-ramp.ts)
// brings connections into a closed loop over time. One write per connection per read
// or pacer tick. Over a WebSocket each request is its own message and each message a reply.

import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { everyTick } from "../core/ticker.js";
import { ConnRamp } from "./conn-ramp.js";
import type { ConnTarget, StopRule } from "./options.js";
import { Budget, paceOf, startPacer } from "./pacing.js";
import { type Exchange, Pipe, type PlanFraming, RunState } from "./pipe.js";
import { Recorder } from "./recorder.js";
import type { Stage } from "./stages.js";
import {
  certificateRefused,
  clientCertOf,
  closeHard,
  connectFailure,
  dial,
  dialAll,
  errorKind,
  isTlsFailure,
  whereOf,
} from "./transport.js";

export type { Exchange, PlanFraming };

/** The framing a target imposes: a message transport has its own, whatever --framing says. */
export function framingOver(target: ConnTarget, framing: "lines" | "length"): PlanFraming {
  return target.transport === "ws" ? "messages" : framing;
}

export interface RequestReplyPlan {
  target: ConnTarget;
  framing: PlanFraming;
  conns: number;
  pipeline: number;
  rate: number;
  /** Open loop: the rate's shape, when it is not constant. */
  stages?: readonly Stage[];
  /** Keep each second's histogram (--hdr-log). */
  intervals?: boolean;
  /** Closed loop: how many connections carry load over time (the rest wait, open). */
  connStages?: readonly Stage[];
  stop: StopRule;
  timeoutMs: number;
  /** Largest reply accepted; a longer one is a protocol error on that connection. */
  maxReplyBytes: number;
  exchange(connIndex: number): Exchange;
}

/** Open-loop requests in flight on one connection beyond which new ones are dropped (and counted). */
const MAX_OPEN_LOOP_INFLIGHT = 65_536;
const DIAL_PARALLEL = 64;
/** How often a connection shape is followed. */
const RAMP_TICK_MS = 50;

export interface RunningBench {
  recorder: () => Recorder | undefined;
  done: Promise<Recorder>;
  /** Stops sending now; the run ends when outstanding replies are in (or time out). */
  halt(): void;
}

/** Connects, runs the load until the budget is spent and replies are in (or time out), closes. */
export function runRequestReply(plan: RequestReplyPlan): RunningBench {
  let recorder: Recorder | undefined;
  // A halt while the connections are still being dialed takes effect as soon as the run starts.
  let haltedEarly = false;
  let halt = () => {
    haltedEarly = true;
  };
  const done = (async () => {
    const failures: string[] = [];
    let firstFailure: unknown;
    // Each connection's bytes reach its pipe through a sink, set once the pipe exists.
    const sinks = Array.from({ length: plan.conns }, () => ({ onData: (_chunk: Buffer) => {} }));
    // With a connection shape, only what it needs at the start is dialed now; the rest on the ramp.
    const shape = plan.rate === 0 ? plan.connStages : undefined;
    const sockets = await dialAll(
      plan.target,
      shape === undefined ? plan.conns : ConnRamp.initial(shape, plan.conns),
      DIAL_PARALLEL,
      (err) => {
        firstFailure ??= err;
        failures.push(errorKind(err));
      },
      sinks,
    );
    const where = whereOf(plan.target);
    const connected = sockets.filter((s): s is Duplex => s !== undefined);
    if (connected.length === 0) throw connectFailure(firstFailure ?? "no connection", where);
    const rec = new Recorder(plan.stop, { uncorrected: plan.rate > 0, intervals: plan.intervals === true });
    recorder = rec;
    for (const kind of failures) rec.error(kind);
    const run = new RunState(rec, new Budget(plan.stop, rec.windowEnd), plan.rate === 0);
    const pipes: Pipe[] = [];

    // A refused client certificate (TLS 1.3) comes after the handshake, as an error or a close.
    let tlsRefusal: unknown;
    return await new Promise<Recorder>((resolve, reject) => {
      let finished = false;
      let stopPacer = () => {};
      const finish = () => {
        if (finished) return;
        finished = true;
        stopPacer();
        clearInterval(watchdog);
        if (rec.replies === 0 && pipes.every((p) => !p.alive)) {
          if (tlsRefusal !== undefined) {
            reject(connectFailure(tlsRefusal, where));
            return;
          }
          if (clientCertOf(plan.target) !== undefined) {
            reject(certificateRefused(where));
            return;
          }
        }
        for (const p of pipes) {
          if (p.alive && p.inflight > 0) rec.error("timeout");
          p.alive = false;
          closeHard(p.socket);
        }
        resolve(rec);
      };
      const checkDone = (now: number) => {
        if (run.outstanding === 0 && run.budget.spent(now)) finish();
        else if (pipes.every((p) => !p.alive)) finish();
      };
      /** Connection `slot`'s pipe: its bytes, its errors and its close wired to the run. */
      const attach = (socket: Duplex, slot: number): Pipe => {
        const pipe = new Pipe(slot, socket, plan.exchange(slot), run, plan);
        sinks[slot]!.onData = (chunk: Buffer) => {
          pipe.onData(chunk);
          if (run.outstanding === 0) checkDone(performance.now());
        };
        socket.on("error", (err) => {
          if (rec.replies === 0 && isTlsFailure(err)) tlsRefusal ??= err;
          pipe.fail(errorKind(err));
        });
        socket.on("close", () => {
          if (pipe.alive) {
            if (pipe.inflight > 0 || !run.budget.spent(performance.now())) pipe.fail("closed");
            else pipe.alive = false;
          }
          if (!finished) checkDone(performance.now());
        });
        return pipe;
      };
      sockets.forEach((socket, slot) => {
        if (socket !== undefined) pipes.push(attach(socket, slot));
      });
      halt = () => {
        const now = performance.now();
        run.budget.halt(now);
        rec.halt(now);
        stopPacer();
        checkDone(now);
      };
      if (haltedEarly) queueMicrotask(halt);
      const watchdog = setInterval(() => {
        const now = performance.now();
        checkDone(now);
        const stalled = now - run.lastProgress > plan.timeoutMs;
        if (stalled && run.outstanding > 0 && (run.closedLoop || run.budget.spent(now))) finish();
      }, 50);

      const start = performance.now();
      if (shape !== undefined) {
        const ramp = new ConnRamp(
          shape,
          plan.conns,
          pipes,
          {
            dial: (slot) =>
              dial(plan.target, plan.timeoutMs, sinks[slot]).then(
                (socket) => {
                  // A dial that completes after the run is closed at once.
                  if (!finished) return attach(socket, slot);
                  closeHard(socket);
                  return undefined;
                },
                (err: unknown) => {
                  if (!finished) rec.error(errorKind(err));
                  return undefined;
                },
              ),
            start: (pipe, now) => {
              run.lastProgress = now;
              while (pipe.alive && pipe.inflight < plan.pipeline && run.budget.take(now)) pipe.issue(now);
              pipe.flush();
            },
            level: (active) => {
              rec.activeConns = active;
            },
          },
          start,
        );
        ramp.apply(start);
        const ticking = everyTick(RAMP_TICK_MS, () => ramp.apply(performance.now()));
        stopPacer = () => {
          ramp.stop();
          ticking.stop();
        };
      } else if (run.closedLoop) {
        for (let k = 0; k < plan.pipeline; k++) {
          for (const pipe of pipes) if (run.budget.take(start)) pipe.issue(start);
        }
        for (const pipe of pipes) pipe.flush();
      } else {
        let next = 0;
        const dirty: Pipe[] = [];
        stopPacer = startPacer(
          paceOf(plan),
          run.budget,
          start,
          (at, now) => {
            for (let tries = 0; tries < pipes.length; tries++) {
              const pipe = pipes[next]!;
              next = (next + 1) % pipes.length;
              if (!pipe.alive) continue;
              if (pipe.inflight >= MAX_OPEN_LOOP_INFLIGHT) {
                rec.error("backlog");
                return;
              }
              if (!pipe.hasQueued) dirty.push(pipe);
              pipe.issue(at, now);
              return;
            }
          },
          () => {
            for (const pipe of dirty) pipe.flush();
            dirty.length = 0;
          },
        );
      }
      checkDone(start);
    });
  })();
  return { recorder: () => recorder, done, halt: () => halt() };
}
