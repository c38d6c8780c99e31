// The request path: each request, from node:http's 'request' to its answer after the
// delay, in request order; the body limit (413), the pipelining hold (--max-pipeline),
// and the bookkeeping of answers owed that the drain waits for.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { coarseClock } from "../../core/clock.js";
import type { Logger } from "../../core/logger.js";
import type { LatencyRecorder } from "../../core/server.js";
import { sendErrorAnswer } from "./client-error.js";
import type { IdleGuard } from "./idle-guard.js";
import type { Lingerer } from "./linger.js";
import { type HttpPeer, type HttpStats, type LastRequest, peerOf } from "./peer.js";
import { type PlanDefaults, planResponse, type ResponsePlan } from "./plan.js";
import { preflightHeaders, setCorsHeaders } from "./routes/cors.js";
import { type Replier, type RouteSite, runRoute } from "./routes/dispatch.js";
import { matchRoute, type RouteMatch } from "./routes/table.js";
import type { ReplyStream } from "./routes/types.js";
import { answerHeaders, type HeaderBlock, type HttpSettings } from "./settings.js";

/** Who an answer goes to, when its request arrived (-1: not timed), and which request it was. */
interface Answering {
  peer: HttpPeer;
  startedAt: number;
  /** The request's number on its connection (1, 2, …): answers leave in this order. */
  seq: number;
}

/** A request waiting for its delayed answer. */
interface Pending {
  timer: NodeJS.Timeout | undefined;
  res: ServerResponse;
  peer: HttpPeer;
}

/** A plan answered after its delay (the configured answer, or `/echo`). */
type Timed = Extract<ResponsePlan, { delayMs: number }>;

const TEXT = "text/plain; charset=utf-8";

export interface RequestContext {
  settings: HttpSettings;
  stats: HttpStats;
  logger: Logger;
  lingering: Lingerer;
  idleGuard: IdleGuard;
  /** What the httpbin-style routes are bounded by, and the scheme clients reach them on. */
  routeSite: RouteSite;
  /** True once shutdown has begun. */
  draining(): boolean;
  /** A waiting request is settled (answered or abandoned): the drain may be done. */
  settled(): void;
}

export class RequestPath {
  /** Requests waiting for their delayed answer. */
  readonly pending = new Set<Pending>();
  /** Set while the admin endpoint watches: every answer timed. */
  latencyRecorder: LatencyRecorder | undefined;
  private readonly defaults: PlanDefaults;
  private readonly body: Buffer;
  private readonly headers: HeaderBlock;

  constructor(private readonly ctx: RequestContext) {
    const s = ctx.settings;
    this.defaults = { delayMs: s.delayMs, status: s.status, maxDelayMs: s.maxDelayMs };
    this.body = Buffer.from(s.body);
    this.headers = answerHeaders(s);
  }

  request(req: IncomingMessage, res: ServerResponse): void {
    const { stats } = this.ctx;
    stats.requests++;
    const peer = peerOf(req.socket);
    if (peer === undefined) {
      // A connection refused at accept: its 503 is already on the way and the socket is ending.
      req.resume();
      return;
    }
    peer.requests++;
    peer.lastActivity = coarseClock.now;
    peer.unanswered++;
    const last: LastRequest = { req, res };
    peer.last = last;
    res.once("close", () => {
      if (peer.last === last) peer.last = undefined;
      this.answerLeft(peer);
    });
    // Judged once the request is complete: holding while its own body is still arriving
    // would leave it, and so the connection, waiting for bytes that are never read.
    if (req.complete) this.holdPipeline(peer);
    else req.once("end", () => this.holdPipeline(peer));
    // Two clock reads per request, only while the admin endpoint watches.
    const from: Answering = {
      peer,
      startedAt: this.latencyRecorder === undefined ? -1 : performance.now(),
      seq: peer.requests,
    };
    setCorsHeaders(req, res);
    if (req.method === "OPTIONS") {
      req.resume();
      this.send(res, from, 200, preflightHeaders(req), "");
      return;
    }
    const url = req.url ?? "/";
    const match = matchRoute(url.split("?", 1)[0]!);
    if (match !== undefined) {
      this.collect(req, res, from, true, (item, body) => this.route(match, req, res, from, item, body));
      return;
    }
    const plan = planResponse(url, this.defaults);
    if (plan.kind === "health") {
      req.resume();
      this.send(res, from, 200, { "content-type": TEXT }, "ok\n");
      return;
    }
    if (plan.kind === "bad") {
      this.ctx.logger.info({ conn: peer.id, url: req.url, err: plan.message }, "bad override, answering 400");
      req.resume();
      this.send(res, from, 400, { "content-type": TEXT }, `${plan.message}\n`);
      return;
    }
    this.delayed(req, res, from, plan);
  }

  /** Reads the body (up to --max-body), then answers after the plan's delay. */
  private delayed(req: IncomingMessage, res: ServerResponse, from: Answering, plan: Timed): void {
    this.collect(req, res, from, plan.kind === "echo", (item, body) => {
      // The delay is a timer: thousands of requests wait at once without blocking anything.
      item.timer = setTimeout(() => {
        item.timer = undefined;
        if (plan.kind !== "echo") {
          this.send(res, from, plan.status, this.headers, this.body);
          return;
        }
        this.send(res, from, plan.status, { "content-type": "application/json" }, echoJson(req, body, from));
      }, plan.delayMs);
    });
  }

  /**
   * Reads the body (up to --max-body; kept only when `keep`), then `then` with the
   * request's pending item: the drain waits for it until its answer is over.
   */
  private collect(
    req: IncomingMessage,
    res: ServerResponse,
    from: Answering,
    keep: boolean,
    then: (item: Pending, body: Buffer) => void,
  ): void {
    const { maxBodyBytes } = this.ctx.settings;
    const item: Pending = { timer: undefined, res, peer: from.peer };
    this.pending.add(item);
    from.peer.inflight++;
    res.once("close", () => this.settle(item));
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) {
      // Refused from the header alone: no need to read a byte of the body first.
      this.refuseBody(req, res, from);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        this.refuseBody(req, res, from);
        return;
      }
      if (keep) chunks.push(chunk);
    });
    req.once("end", () => {
      if (res.headersSent || res.destroyed) return;
      then(item, Buffer.concat(chunks, Math.min(size, maxBodyBytes)));
    });
  }

  /** An httpbin-style route (src/services/http/routes/) answers, on this request's bookkeeping. */
  private route(
    match: RouteMatch | "missing",
    req: IncomingMessage,
    res: ServerResponse,
    from: Answering,
    item: Pending,
    body: Buffer,
  ): void {
    const reply: Replier = {
      send: (status, headers, b) => {
        // A refused parameter (over --max-bytes, --max-delay, malformed): counted by status, and logged.
        if (status === 400) {
          this.ctx.logger.info({ conn: from.peer.id, url: req.url }, "bad route parameter, answering 400");
        }
        this.send(res, from, status, headers, b);
      },
      stream: (status, headers) => this.stream(res, from, status, headers),
      after: (ms, run) => {
        if (ms <= 0) {
          run();
          return;
        }
        item.timer = setTimeout(() => {
          item.timer = undefined;
          run();
        }, ms);
      },
    };
    runRoute(match, req, body, from.peer.remoteAddress, this.ctx.routeSite, reply);
  }

  /**
   * 413, then the connection closes (lingering: the rest of the body is read and
   * discarded for a bounded time rather than reset). Once per request.
   */
  private refuseBody(req: IncomingMessage, res: ServerResponse, from: Answering): void {
    if (res.headersSent || res.destroyed) return;
    const { maxBodyBytes } = this.ctx.settings;
    this.ctx.stats.count(this.ctx.stats.errors, "ERR_BODY_TOO_LARGE");
    this.ctx.logger.info(
      { conn: from.peer.id, remote: from.peer.remoteAddress, limit: maxBodyBytes },
      "request body over the limit, 413",
    );
    // Until the answer leaves (it may wait behind earlier pipelined answers), read no more of the body.
    req.pause();
    res.shouldKeepAlive = false;
    this.send(
      res,
      from,
      413,
      { "content-type": TEXT, connection: "close" },
      `request body exceeds ${maxBodyBytes} bytes (--max-body)\n`,
    );
  }

  /**
   * Stops reading from the connection at --max-pipeline unanswered requests: a client
   * that pipelines without reading its answers then costs a bounded number of parsed
   * requests instead of everything it sends.
   */
  private holdPipeline(peer: HttpPeer): void {
    if (peer.held || peer.unanswered < this.ctx.settings.maxPipeline || peer.socket.destroyed) return;
    peer.held = true;
    this.ctx.stats.pipelinePauses++;
    peer.socket.pause();
    this.ctx.logger.debug(
      { conn: peer.id, remote: peer.remoteAddress, unanswered: peer.unanswered },
      "pipeline limit reached, reading paused until answers leave",
    );
  }

  private answerLeft(peer: HttpPeer): void {
    const { lingering } = this.ctx;
    peer.unanswered--;
    if (peer.errorAnswer !== undefined) {
      if (peer.unanswered <= peer.errorAnswer.after) sendErrorAnswer(peer, lingering, false);
      return;
    }
    // Resume at half the limit, not one below it: one read then serves many answers.
    // While draining, nothing new is read: shutdown answers what was already received.
    if (!peer.held || peer.unanswered > this.ctx.settings.maxPipeline >> 1 || this.ctx.draining()) return;
    peer.held = false;
    if (!peer.socket.destroyed && !lingering.has(peer.socket)) peer.socket.resume();
  }

  private send(
    res: ServerResponse,
    from: Answering,
    status: number,
    headers: HeaderBlock,
    body: string | Buffer,
  ): void {
    if (res.headersSent || res.destroyed) return;
    // 204 and 304 carry no body, so no length either.
    const noBody = status === 204 || status === 304;
    const withLength = noBody ? headers : { ...headers, "content-length": Buffer.byteLength(body) };
    if (!this.head(res, from, status, withLength)) return;
    res.end(body);
    this.written(res, from);
  }

  /** A streamed answer: the head now, the body as the route writes it. */
  private stream(res: ServerResponse, from: Answering, status: number, headers: HeaderBlock): ReplyStream {
    const live = !res.headersSent && !res.destroyed && this.head(res, from, status, headers);
    const over = () => !live || res.destroyed || res.writableEnded;
    return {
      write: (chunk) => {
        if (!over()) res.write(chunk);
      },
      end: (chunk) => {
        if (over()) return;
        res.end(chunk);
        this.written(res, from);
      },
      get closed() {
        return over();
      },
      onClose: (run) => {
        res.once("close", run);
      },
    };
  }

  /** Writes the head; false when the headers could not go out and a 400 was sent (and ended) instead. */
  private head(res: ServerResponse, from: Answering, status: number, headers: HeaderBlock): boolean {
    // While draining, the answer to the last request received ends its connection
    // (keep-alive clients must reconnect elsewhere). Not an earlier one, even if it is
    // written later (a longer delay): answers leave in request order, and a close would
    // lose those queued behind it.
    if (this.ctx.draining() && from.seq === from.peer.requests) res.shouldKeepAlive = false;
    try {
      res.writeHead(status, headers);
    } catch (err) {
      // A header a route built from the request that cannot go out (node refuses its
      // characters): the client gets a 400 saying so, the process stays up.
      this.ctx.logger.info(
        { conn: from.peer.id, err: (err as Error).message },
        "unsendable header, answering 400",
      );
      this.count(from, 400);
      res.writeHead(400, { "content-type": TEXT });
      res.end("a header asked for cannot be sent (invalid characters)\n");
      this.written(res, from);
      return false;
    }
    this.count(from, status);
    return true;
  }

  private count(from: Answering, status: number): void {
    const { responses } = this.ctx.stats;
    responses.set(status, (responses.get(status) ?? 0) + 1);
    from.peer.responses++;
  }

  /** The answer is complete (res.end()): the idle guard waits for it, the latency is taken. */
  private written(res: ServerResponse, from: Answering): void {
    this.ctx.idleGuard.written(res);
    from.peer.lastActivity = coarseClock.now;
    if (from.startedAt >= 0) this.latencyRecorder?.(performance.now() - from.startedAt);
  }

  private settle(item: Pending): void {
    if (!this.pending.delete(item)) return;
    item.peer.inflight--;
    if (item.timer !== undefined) {
      // The client went away before its answer; the timer would only write to a dead socket.
      clearTimeout(item.timer);
      this.ctx.stats.abandoned++;
      this.ctx.logger.debug({ conn: item.peer.id }, "client went away before its delayed answer");
    }
    this.ctx.settled();
  }

  /** The drain timeout ran out: no waiting answer will be written. */
  stopTimers(): void {
    for (const item of this.pending) clearTimeout(item.timer);
  }
}

/** `/echo`'s answer: the request as JSON. */
function echoJson(req: IncomingMessage, body: Buffer, from: Answering): string {
  const url = req.url ?? "/";
  const request = {
    method: req.method,
    url: req.url,
    path: url.split("?")[0],
    query: Object.fromEntries(new URLSearchParams((req.url ?? "").split("?")[1] ?? "")),
    headers: req.headers,
    body: body.toString("utf8"),
    remote: from.peer.remoteAddress,
  };
  return `${JSON.stringify(request, null, 2)}\n`;
}
