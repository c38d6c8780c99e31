// HTTP mode: GET or POST a URL over keep-alive connections (node:http Agent with
// one socket per --conns), closed loop or at a constant --rate; non-2xx statuses
// are counted by code, and --expect checks the body.
import http from "node:http";
import https from "node:https";
import { performance } from "node:perf_hooks";
import type { HttpBenchOptions } from "../options.js";
import { Budget, paceOf, startPacer } from "../pacing.js";
import { Recorder } from "../recorder.js";
import type { RunningBench } from "../request-reply.js";
import { certificateRefused, connectFailure, errorKind } from "../transport.js";

/** Pause of a closed-loop lane after a failed request, so a dead server is not hammered. */
const RETRY_PAUSE_MS = 10;

export function runHttp(options: HttpBenchOptions): RunningBench {
  const url = new URL(options.url);
  const secure = url.protocol === "https:";
  const agentOptions = { keepAlive: true, maxSockets: options.conns, maxFreeSockets: options.conns };
  const agent = secure
    ? new https.Agent({ ...agentOptions, ...options.tls, rejectUnauthorized: !options.insecure })
    : new http.Agent(agentOptions);
  const request = secure ? https.request : http.request;
  const body = options.method === "POST" ? Buffer.from(options.body) : undefined;
  const headers: http.OutgoingHttpHeaders =
    body === undefined ? {} : { "content-length": body.length, "content-type": "text/plain" };
  const expect = options.expect;
  const rec = new Recorder(options.stop, { intervals: options.intervals === true });
  const budget = new Budget(options.stop, rec.windowEnd);
  const closedLoop = options.rate === 0;
  let outstanding = 0;
  let lastProgress = performance.now();
  let onSettled = () => {};
  let halt = () => {};
  // Nothing answered and the first request of every connection (open loop: of the first
  // tenth of a second) failed: the server cannot be reached, and the run stops at once with one line.
  const firstWave = closedLoop
    ? options.conns
    : Math.max(1, Math.min(options.conns, Math.ceil(options.rate / 10)));
  let answered = false;
  let failedBeforeAnswer = 0;
  let abort = (_err: unknown) => {};
  const failed = (err: unknown) => {
    rec.error(errorKind(err));
    if (!answered && ++failedBeforeAnswer >= firstWave) abort(err);
  };

  const send = (at: number): void => {
    rec.onSent(at);
    outstanding++;
    let settled = false;
    const settle = (failedAt: number | undefined) => {
      if (settled) return;
      settled = true;
      outstanding--;
      const now = performance.now();
      lastProgress = now;
      if (closedLoop) {
        if (failedAt === undefined) {
          if (budget.take(now)) send(now);
        } else {
          setTimeout(() => {
            const t = performance.now();
            if (budget.take(t)) send(t);
            else onSettled();
          }, RETRY_PAUSE_MS);
        }
      }
      onSettled();
    };
    const req = request(url, { method: options.method, agent, headers }, (res) => {
      answered = true;
      let bytes = 0;
      let text = "";
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (expect !== undefined && text.length < 1024 * 1024) text += chunk.toString();
      });
      res.on("end", () => {
        const now = performance.now();
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          rec.error(`http_${status}`);
          rec.onReply(now, now - at, bytes, "failed");
        } else if (expect !== undefined && !text.includes(expect)) {
          rec.mismatch(() => `body ${JSON.stringify(text.slice(0, 100))} lacks ${JSON.stringify(expect)}`);
          rec.onReply(now, now - at, bytes, "mismatch");
        } else {
          rec.onReply(now, now - at, bytes, "ok");
        }
        settle(undefined);
      });
      res.on("error", (err) => {
        rec.error(errorKind(err));
        settle(now());
      });
    });
    req.on("error", (err) => {
      failed(err);
      settle(now());
    });
    req.end(body);
  };
  const now = () => performance.now();

  const done = new Promise<Recorder>((resolve, reject) => {
    let finished = false;
    let stopPacer = () => {};
    const finish = () => {
      if (finished) return;
      finished = true;
      stopPacer();
      clearInterval(watchdog);
      if (outstanding > 0) rec.error("timeout");
      agent.destroy();
      resolve(rec);
    };
    abort = (err: unknown) => {
      if (finished) return;
      finished = true;
      stopPacer();
      clearInterval(watchdog);
      budget.halt(performance.now());
      agent.destroy();
      const failure = connectFailure(err, url.host);
      // node:tls servers refuse a client certificate by closing at once: "socket hang up".
      const hangUp = (err as { code?: unknown }).code === "ECONNRESET" && options.tls?.cert !== undefined;
      reject(hangUp && failure.code !== "ERR_TLS" ? certificateRefused(url.host) : failure);
    };
    onSettled = () => {
      if (outstanding === 0 && budget.spent(performance.now())) finish();
    };
    halt = () => {
      const t = performance.now();
      budget.halt(t);
      rec.halt(t);
      stopPacer();
      onSettled();
    };
    const watchdog = setInterval(() => {
      const t = performance.now();
      onSettled();
      if (t - lastProgress > options.timeoutMs && outstanding > 0 && (closedLoop || budget.spent(t)))
        finish();
    }, 50);
    const start = performance.now();
    if (closedLoop) {
      for (let i = 0; i < options.conns; i++) if (budget.take(start)) send(start);
    } else {
      stopPacer = startPacer(paceOf(options), budget, start, send, () => {});
    }
    onSettled();
  });
  return { recorder: () => rec, done, halt: () => halt() };
}
