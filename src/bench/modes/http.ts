// HTTP mode: GET or POST a URL over keep-alive connections (the project's own HTTP/1.1
// client, one socket per --conns), closed loop or at a constant --rate. Open loop: a
// request due while every connection waits for an answer queues, and its latency runs
// from when it was due (corrected) and from when it went out (uncorrected). Non-2xx
// statuses are counted by code, and --expect checks the body.
import { performance } from "node:perf_hooks";
import { everyTick } from "../../core/ticker.js";
import { HttpLane, type LaneOwner, requestBytes, urlTarget } from "../http-lane.js";
import type { HttpBenchOptions } from "../options.js";
import { Budget, paceOf, startPacer } from "../pacing.js";
import { Recorder } from "../recorder.js";
import type { RunningBench } from "../request-reply.js";
import { certificateRefused, connectFailure, dialAll, errorKind } from "../transport.js";

/** Pause of a lane after a failed request, so a dead server is not hammered. */
const RETRY_PAUSE_MS = 10;
/** Open loop: requests waiting for a free connection, per connection, beyond which new ones are dropped (and counted). */
const MAX_QUEUED_PER_CONN = 65_536;
const DIAL_PARALLEL = 64;

/** The error kind of a status outside 2xx (`http_503`), made once per status. */
const statusKinds: string[] = [];
const statusKind = (status: number) => {
  statusKinds[status] ??= `http_${status}`;
  return statusKinds[status];
};

/** Open loop: the due times of requests waiting for a free connection, oldest first. */
class DueQueue {
  private times = new Float64Array(1024);
  private head = 0;
  length = 0;

  constructor(private readonly max: number) {}

  /** Queues a due time; false when the queue is full. */
  push(at: number): boolean {
    if (this.length === this.times.length) {
      if (this.length >= this.max) return false;
      const bigger = new Float64Array(this.times.length * 2);
      for (let i = 0; i < this.length; i++) bigger[i] = this.times[(this.head + i) % this.times.length]!;
      this.times = bigger;
      this.head = 0;
    }
    this.times[(this.head + this.length) % this.times.length] = at;
    this.length++;
    return true;
  }

  shift(): number {
    const at = this.times[this.head]!;
    this.head = (this.head + 1) % this.times.length;
    this.length--;
    return at;
  }
}

/** Open loop: lanes with no request, oldest first (round robin); each is in it at most once. */
class FreeLanes {
  private readonly lanes: Array<HttpLane | undefined>;
  private head = 0;
  length = 0;

  constructor(capacity: number) {
    this.lanes = new Array(capacity);
  }

  push(lane: HttpLane): void {
    this.lanes[(this.head + this.length) % this.lanes.length] = lane;
    this.length++;
  }

  shift(): HttpLane {
    const lane = this.lanes[this.head]!;
    this.lanes[this.head] = undefined;
    this.head = (this.head + 1) % this.lanes.length;
    this.length--;
    return lane;
  }
}

class HttpRun implements LaneOwner {
  /** Requests in flight or queued. */
  outstanding = 0;
  lastProgress = performance.now();
  finished = false;
  /** Nothing answered and the first wave of requests failed: the server cannot be served. */
  private answeredAny = false;
  private failedBeforeAnswer = 0;
  /** Open loop: lanes with no request, and requests waiting for one. */
  private readonly free: FreeLanes;
  private readonly queue: DueQueue;
  private readonly expect: Buffer | undefined;
  readonly closedLoop: boolean;
  onFinish: () => void = () => {};
  onAbort: (err: unknown) => void = () => {};

  constructor(
    readonly rec: Recorder,
    readonly budget: Budget,
    private readonly options: HttpBenchOptions,
    private readonly firstWave: number,
  ) {
    this.closedLoop = options.rate === 0;
    this.expect = options.expect === undefined ? undefined : Buffer.from(options.expect);
    this.free = new FreeLanes(options.conns);
    this.queue = new DueQueue(MAX_QUEUED_PER_CONN * options.conns);
  }

  answered(lane: HttpLane, status: number, bodyBytes: number): void {
    const now = performance.now();
    const rec = this.rec;
    this.answeredAny = true;
    this.outstanding--;
    this.lastProgress = now;
    const latency = now - lane.dueAt;
    const uncorrected = this.closedLoop ? -1 : now - lane.sentAt;
    if (status < 200 || status > 299) {
      rec.error(statusKind(status));
      rec.onReply(now, latency, bodyBytes, "failed", uncorrected);
    } else if (this.expect !== undefined && !lane.bodyHas(this.expect)) {
      const expect = this.options.expect;
      rec.mismatch(() => `body ${JSON.stringify(lane.bodyStart())} lacks ${JSON.stringify(expect)}`);
      rec.onReply(now, latency, bodyBytes, "mismatch", uncorrected);
    } else {
      rec.onReply(now, latency, bodyBytes, "ok", uncorrected);
    }
    this.next(lane, now);
    this.settle(now);
  }

  failed(lane: HttpLane, err: unknown): void {
    const now = performance.now();
    this.outstanding--;
    this.lastProgress = now;
    this.rec.error(errorKind(err));
    if (!this.answeredAny && ++this.failedBeforeAnswer >= this.firstWave) {
      this.onAbort(err);
      return;
    }
    setTimeout(() => {
      const t = performance.now();
      this.next(lane, t);
      this.settle(t);
    }, RETRY_PAUSE_MS);
    this.settle(now);
  }

  stray(kind: string): void {
    this.rec.error(kind);
  }

  /** A lane is free: closed loop, its next request; open loop, the oldest waiting one, else it waits. */
  next(lane: HttpLane, now: number): void {
    if (this.finished) return;
    if (this.closedLoop) {
      if (!this.budget.take(now)) return;
      this.rec.onSent(now);
      this.outstanding++;
      lane.send(now, now);
    } else if (this.queue.length > 0) {
      lane.send(this.queue.shift(), now);
    } else {
      this.free.push(lane);
    }
  }

  /** Open loop: request due at `at`, issued `now`, on a free lane or into the queue. */
  issue(at: number, now: number): void {
    if (this.free.length > 0) {
      const lane = this.free.shift();
      this.rec.onSent(at);
      this.outstanding++;
      lane.send(at, now);
    } else if (this.queue.push(at)) {
      this.rec.onSent(at);
      this.outstanding++;
    } else {
      this.rec.error("backlog");
    }
  }

  settle(now: number): void {
    if (this.outstanding === 0 && this.budget.spent(now)) this.onFinish();
  }
}

export function runHttp(options: HttpBenchOptions): RunningBench {
  const url = new URL(options.url);
  const target = urlTarget(url, options.tls, options.insecure);
  const request = requestBytes(url, options.method, options.body);
  let recorder: Recorder | undefined;
  // A halt while the connections are still being opened takes effect as soon as the run starts.
  let haltedEarly = false;
  let halt = () => {
    haltedEarly = true;
  };
  const done = (async () => {
    const lanes: HttpLane[] = [];
    // The run is made before its lanes (they report to it) and its recorder after the dials.
    let run: HttpRun | undefined;
    const owner: LaneOwner = {
      answered: (lane, status, bytes) => run?.answered(lane, status, bytes),
      failed: (lane, err) => run?.failed(lane, err),
      stray: (kind) => run?.stray(kind),
    };
    for (let i = 0; i < options.conns; i++)
      lanes.push(new HttpLane(target, request, owner, options.expect !== undefined));
    const dialErrors: unknown[] = [];
    const sockets = await dialAll(target, lanes.length, DIAL_PARALLEL, (err) => dialErrors.push(err), lanes);
    sockets.forEach((socket, i) => {
      if (socket !== undefined) lanes[i]!.attach(socket);
    });
    if (dialErrors.length === lanes.length) throw connectFailure(dialErrors[0], url.host);
    const rec = new Recorder(options.stop, {
      uncorrected: options.rate > 0,
      intervals: options.intervals === true,
    });
    recorder = rec;
    for (const err of dialErrors) rec.error(errorKind(err));
    // Open loop: the first tenth of a second's requests (at most one per connection) is the first wave.
    const firstWave =
      options.rate === 0 ? options.conns : Math.max(1, Math.min(options.conns, Math.ceil(options.rate / 10)));
    const budget = new Budget(options.stop, rec.windowEnd);
    const live = new HttpRun(rec, budget, options, firstWave);
    run = live;
    return await new Promise<Recorder>((resolve, reject) => {
      let stopPacer = () => {};
      const end = () => {
        live.finished = true;
        stopPacer();
        watchdog.stop();
      };
      live.onFinish = () => {
        if (live.finished) return;
        end();
        for (const lane of lanes) {
          if (lane.busy) rec.error("timeout");
          lane.close();
        }
        resolve(rec);
      };
      live.onAbort = (err) => {
        if (live.finished) return;
        end();
        budget.halt(performance.now());
        for (const lane of lanes) lane.close();
        const failure = connectFailure(err, url.host);
        // node:tls servers refuse a client certificate by closing at once: "socket hang up".
        const hangUp = (err as { code?: unknown }).code === "ECONNRESET" && options.tls?.cert !== undefined;
        reject(hangUp && failure.code !== "ERR_TLS" ? certificateRefused(url.host) : failure);
      };
      halt = () => {
        const t = performance.now();
        budget.halt(t);
        rec.halt(t);
        stopPacer();
        live.settle(t);
      };
      const watchdog = everyTick(50, () => {
        const t = performance.now();
        live.settle(t);
        const stalled = t - live.lastProgress > options.timeoutMs && live.outstanding > 0;
        if (stalled && (live.closedLoop || budget.spent(t))) live.onFinish();
      });
      const start = performance.now();
      for (const lane of lanes) live.next(lane, start);
      if (!live.closedLoop)
        stopPacer = startPacer(
          paceOf(options),
          budget,
          start,
          (at, now) => live.issue(at, now),
          () => {},
        );
      if (haltedEarly) queueMicrotask(halt);
      live.settle(start);
    });
  })();
  return { recorder: () => recorder, done, halt: () => halt() };
}
