// Connect mode: opens --conns connections (with a number of dials in flight, or
// at --rate per second), measures connect latency and rate, then holds them all
// for --duration and counts the ones the server drops.

import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import type { ConnectBenchOptions } from "../options.js";
import { Budget, paceOf, startPacer } from "../pacing.js";
import { Recorder } from "../recorder.js";
import type { RunningBench } from "../request-reply.js";
import type { ConnectExtras } from "../result.js";
import { closeHard, connectFailure, dial, errorKind, isTlsFailure, whereOf } from "../transport.js";

interface ConnectRunning extends RunningBench {
  extras: () => ConnectExtras;
}

export function runConnect(options: ConnectBenchOptions): ConnectRunning {
  const holdMs = options.stop.kind === "duration" ? options.stop.durationMs : 0;
  // Every connect is measured: the window is the whole ramp.
  const rec = new Recorder(
    { kind: "requests", count: options.conns },
    { intervals: options.intervals === true },
  );
  const extras: ConnectExtras = {
    attempted: 0,
    opened: 0,
    failed: 0,
    heldAtEnd: 0,
    connectsPerSec: 0,
    rampSeconds: 0,
    holdSeconds: holdMs / 1000,
  };
  const open = new Set<Duplex>();
  let holding = false;
  let halted = false;
  let endHold = () => {};
  // Refusals are what this mode measures once a connection has opened; if none of the
  // first wave opens, nothing listens there and the run stops with one line.
  const firstWave = Math.max(
    1,
    Math.min(
      options.conns,
      options.parallel,
      options.rate > 0 ? Math.ceil(options.rate / 10) : options.parallel,
    ),
  );
  let firstFailure: unknown;
  /** A TLS alert on an open connection: a refused client certificate (TLS 1.3). */
  let tlsRefusal: unknown;

  const attempt = async (at: number) => {
    extras.attempted++;
    rec.onSent(at);
    try {
      const socket = await dial(options.target, options.timeoutMs);
      const now = performance.now();
      extras.opened++;
      rec.onReply(now, now - at, 0, "ok");
      open.add(socket);
      socket.resume(); // discard banners; we only hold the connection
      socket.on("error", (err) => {
        if (isTlsFailure(err)) tlsRefusal ??= err;
      });
      socket.on("close", () => {
        if (open.delete(socket)) rec.error(holding ? "closed_during_hold" : "closed");
        if (open.size === 0 && tlsRefusal !== undefined) endHold();
      });
    } catch (err) {
      extras.failed++;
      rec.error(errorKind(err));
      firstFailure ??= err;
      if (extras.opened === 0 && extras.failed >= firstWave) halted = true;
    }
  };

  const done = (async () => {
    const start = performance.now();
    if (options.rate > 0) {
      const budget = new Budget({ kind: "requests", count: options.conns }, Number.POSITIVE_INFINITY);
      const pending: Array<Promise<void>> = [];
      await new Promise<void>((resolve) => {
        const stop = startPacer(
          paceOf(options),
          budget,
          start,
          (at) => {
            if (!halted) pending.push(attempt(at));
          },
          () => {
            if (halted || pending.length >= options.conns) {
              stop();
              resolve();
            }
          },
        );
      });
      await Promise.all(pending);
    } else {
      let next = 0;
      const lane = async () => {
        while (next < options.conns && !halted) {
          next++;
          await attempt(performance.now());
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.parallel, options.conns) }, lane));
    }
    if (extras.opened === 0 && firstFailure !== undefined)
      throw connectFailure(firstFailure, whereOf(options.target));
    extras.rampSeconds = Math.round(rec.lastReplyAt > 0 ? rec.lastReplyAt - start : 0) / 1000;
    extras.connectsPerSec = extras.rampSeconds > 0 ? Math.round(extras.opened / extras.rampSeconds) : 0;
    holding = true;
    if (!halted && !(open.size === 0 && tlsRefusal !== undefined)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, holdMs);
        endHold = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    holding = false;
    extras.heldAtEnd = open.size;
    const sockets = [...open];
    open.clear();
    for (const s of sockets) closeHard(s);
    if (extras.heldAtEnd === 0 && tlsRefusal !== undefined) {
      throw connectFailure(tlsRefusal, whereOf(options.target));
    }
    return rec;
  })();
  const halt = () => {
    halted = true;
    endHold();
  };
  return { recorder: () => rec, done, extras: () => extras, halt };
}
