// Echo over UDP: each request is one datagram whose payload starts with its sequence
// number, and each reply is matched by that number rather than by order, so a datagram
// lost, answered twice or overtaken is counted as such. Nothing is retransmitted: a
// request unanswered after --timeout frees its place in the pipeline and stays lost
// unless its answer still comes. Open loop: latency from the request's due time
// (corrected) and from its send (uncorrected), the pacer's lag between them.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { everyTick } from "../../core/ticker.js";
import { EchoplexError } from "../../errors.js";
import type { EchoBenchOptions, UdpTarget } from "../options.js";
import { Budget, paceOf, startPacer } from "../pacing.js";
import { Recorder } from "../recorder.js";
import type { RunningBench } from "../request-reply.js";
import type { UdpExtras } from "../result.js";
import { connectFailure, errorKind, whereOf } from "../transport.js";
import { echoPayload, prefixOf, probeText, SEQ_DIGITS, SeqDigits, show } from "./echo.js";

/** Open-loop requests awaiting an answer on one socket beyond which new ones are dropped (and counted). */
const MAX_OPEN_LOOP_INFLIGHT = 65_536;
/** How often an unanswered probe is sent again (the probe is not part of the measured run). */
const PROBE_RESEND_MS = 1000;

/** One bit per sequence number, growing as numbers are used. */
class SeqBits {
  private bits = new Uint8Array(1024);
  has(seq: number): boolean {
    return ((this.bits[seq >>> 3] ?? 0) & (1 << (seq & 7))) !== 0;
  }
  add(seq: number): void {
    const at = seq >>> 3;
    if (at >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, at + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    this.bits[at]! |= 1 << (seq & 7);
  }
}

/** A connected UDP socket, so that only the server's datagrams reach it. */
function openSocket(target: UdpTarget): Promise<UdpSocket> {
  const socket = createSocket(isIP(target.host) === 6 ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    socket.once("error", (err) => {
      socket.close();
      reject(err);
    });
    socket.connect(target.port, target.host, () => {
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

/** Sends one probe datagram (again each second) and returns what its answer carries before it. */
export async function probeUdpPrefix(target: UdpTarget, timeoutMs = 5000): Promise<string> {
  const where = whereOf(target);
  const socket = await openSocket(target).catch((err: unknown) => {
    throw connectFailure(err, where);
  });
  const probe = probeText();
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const send = () => socket.send(probe);
      const resend = setInterval(send, PROBE_RESEND_MS);
      const timer = setTimeout(
        () =>
          reject(
            new EchoplexError(
              "ERR_TIMEOUT",
              `probe: no answer from ${where} within ${timeoutMs / 1000} s; is an echo server listening there?`,
            ),
          ),
        timeoutMs,
      );
      const settle = () => {
        clearInterval(resend);
        clearTimeout(timer);
      };
      socket.on("message", (msg: Buffer) => {
        settle();
        resolve(msg);
      });
      // A connected socket learns of an ICMP port-unreachable: nothing listens there.
      socket.on("error", (err) => {
        settle();
        reject(connectFailure(err, where));
      });
      send();
    });
    return prefixOf(reply, probe);
  } finally {
    socket.close();
  }
}

interface Shared {
  rec: Recorder;
  budget: Budget;
  closedLoop: boolean;
  timeoutMs: number;
  prefix: Buffer;
  /** Requests neither answered nor given up on, over every lane. */
  outstanding: number;
}

/** One socket's requests and what became of them. */
class Lane {
  sendSeq = 0;
  received = 0;
  duplicated = 0;
  reordered = 0;
  private highest = -1;
  /** Actual send times of requests not answered yet (those given up on too: a late answer still counts). */
  private readonly sentAt = new Map<number, number>();
  /**
   * Open loop: the due times of the same requests. A pacer that fell behind sends late;
   * latency from the due time keeps that delay (corrected), from the send it is hidden.
   */
  private readonly dueAt: Map<number, number> | undefined;
  private readonly answered = new SeqBits();
  private readonly givenUp = new SeqBits();
  /** The oldest request that may still be waited for. */
  private expireNext = 0;
  private readonly request: Buffer;
  private readonly requestSeq: SeqDigits;
  private readonly digits: number;
  private readonly onSent = (err: Error | null) => {
    if (err) this.run.rec.error(errorKind(err));
  };

  constructor(
    readonly socket: UdpSocket,
    private readonly payload: Buffer,
    private readonly run: Shared,
  ) {
    this.request = Buffer.from(payload);
    this.digits = Math.min(SEQ_DIGITS, payload.length);
    this.requestSeq = new SeqDigits(this.request, 0, this.digits);
    this.dueAt = run.closedLoop ? undefined : new Map();
    socket.on("message", (msg: Buffer) => this.onMessage(msg));
    // An ICMP error (the server went away) is counted; the requests it concerns stay lost.
    socket.on("error", (err) => run.rec.error(errorKind(err)));
  }

  get inflight(): number {
    return this.sentAt.size;
  }

  /** Sends request due at `at` now (`now`: the pacer's batch time; closed loop, the same). */
  issue(at: number, now = at): void {
    const seq = this.sendSeq++;
    this.requestSeq.set(seq);
    this.sentAt.set(seq, now);
    this.dueAt?.set(seq, at);
    this.run.outstanding++;
    this.run.rec.onSent(at);
    // dgram keeps the buffer until the datagram leaves: each gets its own copy.
    this.socket.send(Buffer.from(this.request), this.onSent);
  }

  private onMessage(msg: Buffer): void {
    const run = this.run;
    const now = performance.now();
    const seq = this.seqOf(msg);
    if (seq === undefined) {
      run.rec.unmatched(() => `datagram ${show(msg)} answers no request`);
      return;
    }
    if (this.answered.has(seq)) {
      this.duplicated++;
      return;
    }
    this.answered.add(seq);
    this.received++;
    if (seq < this.highest) this.reordered++;
    else this.highest = seq;
    const sentAt = this.sentAt.get(seq)!;
    this.sentAt.delete(seq);
    const dueAt = this.dueAt?.get(seq);
    if (dueAt === undefined) run.rec.onReply(now, now - sentAt, msg.length, "ok");
    else {
      this.dueAt!.delete(seq);
      run.rec.onReply(now, now - dueAt, msg.length, "ok", now - sentAt);
    }
    if (this.givenUp.has(seq)) return;
    run.outstanding--;
    if (run.closedLoop && run.budget.take(now)) this.issue(now);
  }

  /** The sequence number a datagram answers, if it is exactly prefix + a request this lane sent. */
  private seqOf(msg: Buffer): number | undefined {
    const { prefix } = this.run;
    if (msg.length !== prefix.length + this.payload.length) return undefined;
    if (!msg.subarray(0, prefix.length).equals(prefix)) return undefined;
    let seq = 0;
    for (let i = prefix.length; i < prefix.length + this.digits; i++) {
      const d = msg[i]! - 0x30;
      if (d < 0 || d > 9) return undefined;
      seq = seq * 10 + d;
    }
    if (seq >= this.sendSeq) return undefined;
    const rest = msg.subarray(prefix.length + this.digits);
    return rest.equals(this.payload.subarray(this.digits)) ? seq : undefined;
  }

  /** Gives up on requests sent more than --timeout ago; closed loop sends new ones in their place. */
  expire(now: number): void {
    const run = this.run;
    while (this.expireNext < this.sendSeq) {
      const seq = this.expireNext;
      const sentAt = this.sentAt.get(seq);
      if (sentAt !== undefined) {
        if (now - sentAt < run.timeoutMs) return;
        this.givenUp.add(seq);
        run.outstanding--;
        if (run.closedLoop && run.budget.take(now)) this.issue(now);
      }
      this.expireNext++;
    }
  }
}

/** Answers are matched by sequence number, so the payload must hold all of its digits (no wrap). */
export function requireSeqRoom(payloadBytes: number): void {
  if (payloadBytes < SEQ_DIGITS) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `over UDP each datagram carries a ${SEQ_DIGITS}-digit sequence number: --size must be at least ${SEQ_DIGITS}`,
    );
  }
}

export interface UdpRunning extends RunningBench {
  extras: () => UdpExtras;
}

export function runUdpEcho(options: EchoBenchOptions & { target: UdpTarget; prefix: string }): UdpRunning {
  const payloads = Array.from({ length: options.conns }, (_, i) => echoPayload(options.payload, i));
  requireSeqRoom(payloads[0]!.length);
  let rec: Recorder | undefined;
  let lanes: Lane[] = [];
  let haltedEarly = false;
  let halt = () => {
    haltedEarly = true;
  };
  const done = (async () => {
    const where = whereOf(options.target);
    const sockets = await Promise.all(payloads.map(() => openSocket(options.target))).catch(
      (err: unknown) => {
        throw connectFailure(err, where);
      },
    );
    const recorder = new Recorder(options.stop, {
      uncorrected: options.rate > 0,
      intervals: options.intervals === true,
    });
    rec = recorder;
    const run: Shared = {
      rec: recorder,
      budget: new Budget(options.stop, recorder.windowEnd),
      closedLoop: options.rate === 0,
      timeoutMs: options.timeoutMs,
      prefix: Buffer.from(options.prefix),
      outstanding: 0,
    };
    lanes = sockets.map((s, i) => new Lane(s, payloads[i]!, run));
    return await new Promise<Recorder>((resolve) => {
      let stopPacer = () => {};
      const finish = () => {
        stopPacer();
        watchdog.stop();
        for (const lane of lanes) lane.socket.close();
        resolve(recorder);
      };
      let finished = false;
      const checkDone = (now: number) => {
        if (!finished && run.outstanding === 0 && run.budget.spent(now)) {
          finished = true;
          finish();
        }
      };
      const watchdog = everyTick(50, () => {
        const now = performance.now();
        for (const lane of lanes) lane.expire(now);
        checkDone(now);
      });
      for (const lane of lanes) lane.socket.on("message", () => checkDone(performance.now()));
      halt = () => {
        const now = performance.now();
        run.budget.halt(now);
        recorder.halt(now);
        stopPacer();
        checkDone(now);
      };
      if (haltedEarly) queueMicrotask(halt);
      const start = performance.now();
      if (run.closedLoop) {
        for (let k = 0; k < options.pipeline; k++) {
          for (const lane of lanes) if (run.budget.take(start)) lane.issue(start);
        }
      } else {
        let next = 0;
        stopPacer = startPacer(
          paceOf(options),
          run.budget,
          start,
          (at, now) => {
            const lane = lanes[next]!;
            next = (next + 1) % lanes.length;
            if (lane.inflight >= MAX_OPEN_LOOP_INFLIGHT) recorder.error("backlog");
            else lane.issue(at, now);
          },
          () => {},
        );
      }
      checkDone(start);
    });
  })();
  const extras = (): UdpExtras => {
    const sum = (pick: (l: Lane) => number) => lanes.reduce((n, l) => n + pick(l), 0);
    const sent = sum((l) => l.sendSeq);
    const received = sum((l) => l.received);
    return {
      sent,
      received,
      lost: sent - received,
      duplicated: sum((l) => l.duplicated),
      reordered: sum((l) => l.reordered),
    };
  };
  return { recorder: () => rec, done, halt: () => halt(), extras };
}
