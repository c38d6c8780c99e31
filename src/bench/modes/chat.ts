// Chat mode: fan-out load for a broadcast server. Receivers only read; senders
// write lines carrying a per-run marker, their index, a sequence number and the
// due send time, then the actual one (open loop: a pacer that fell behind sends
// late; latency from the due time is the corrected figure). A barrier makes sure every receiver is registered before
// timing starts; lines are matched by the marker, so servers may add nick
// prefixes or other lines. In closed loop each sender keeps `pipeline` messages
// not yet delivered to every receiver.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { lines } from "../../codecs/lines.js";
import { EchoplexError } from "../../errors.js";
import type { ChatBenchOptions } from "../options.js";
import { Budget, paceOf, startPacer } from "../pacing.js";
import { Recorder } from "../recorder.js";
import type { RunningBench } from "../request-reply.js";
import type { ChatExtras } from "../result.js";
import {
  certificateRefused,
  clientCertOf,
  closeHard,
  connectFailure,
  dialAll,
  errorKind,
  isTlsFailure,
  whereOf,
} from "../transport.js";
import { floodWatcher } from "./chat-flood.js";

const DIAL_PARALLEL = 64;
const SPACE = 0x20;

/** Parses the decimal number at buf[at..]; sets `parsedEnd` past it. Allocation-free. */
let parsedEnd = 0;
function parseUint(buf: Buffer, at: number): number {
  let n = 0;
  let i = at;
  for (; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  parsedEnd = i === at ? -1 : i;
  return n;
}

class Sender {
  seq = 0;
  pending = "";
  /** Closed loop: deliveries still due per message, by seq modulo the ring size. */
  readonly remaining: Int32Array;
  readonly mask: number;
  outstanding = 0;

  constructor(
    readonly index: number,
    readonly socket: Duplex,
    pipeline: number,
  ) {
    let size = 1;
    while (size < pipeline) size *= 2;
    this.remaining = new Int32Array(size);
    this.mask = size - 1;
  }

  flush(): void {
    if (this.pending === "") return;
    this.socket.write(this.pending);
    this.pending = "";
  }
}

interface ChatRunning extends RunningBench {
  extras: () => ChatExtras;
}

export function runChat(options: ChatBenchOptions): ChatRunning {
  let recorder: Recorder | undefined;
  const extras: ChatExtras = {
    receivers: options.conns,
    senders: options.senders,
    receiversSynced: 0,
    expectedDeliveries: 0,
    delivered: 0,
    missing: 0,
    duplicateOrReordered: 0,
    floodNotices: 0,
  };
  let halted = false;
  let halt = () => {
    halted = true;
  };
  const done = (async () => {
    const total = options.conns + options.senders;
    const failures: string[] = [];
    let firstFailure: unknown;
    const sockets = await dialAll(options.target, total, DIAL_PARALLEL, (err) => {
      firstFailure ??= err;
      failures.push(errorKind(err));
    });
    const where = whereOf(options.target);
    sockets.forEach((s, i) => {
      if (s && options.hello !== undefined) s.write(`${options.hello.replaceAll("%d", String(i))}\n`);
    });
    const receivers = sockets.slice(0, options.conns).filter((s): s is Duplex => s !== undefined);
    const senderSockets = sockets.slice(options.conns);
    if (senderSockets[0] === undefined || receivers.length === 0) {
      for (const s of sockets) if (s) closeHard(s);
      throw connectFailure(firstFailure ?? "no receiver", where);
    }
    const senders = senderSockets.flatMap((s, i) =>
      s === undefined ? [] : [new Sender(i, s, Math.max(1, options.pipeline))],
    );
    const senderByIndex: Array<Sender | undefined> = new Array(senderSockets.length);
    for (const s of senders) senderByIndex[s.index] = s;
    const runId = randomBytes(5).toString("hex");
    const marker = Buffer.from(`BXM ${runId} `);
    const syncTag = Buffer.from(`BXSYNC ${runId}`);
    const closedLoop = options.rate === 0;
    let alive = receivers.length;
    let ended = false;
    let lastProgress = performance.now();
    let budget: Budget | undefined;
    const dirty: Sender[] = [];
    const markDirty = (s: Sender) => {
      if (s.pending === "") dirty.push(s);
    };
    const flushDirty = () => {
      for (const s of dirty) s.flush();
      dirty.length = 0;
    };
    const pad = "x".repeat(Math.max(0, options.size - marker.length - 36));
    const send = (s: Sender, at: number, now = at) => {
      markDirty(s);
      const seq = s.seq++;
      s.pending += `${marker}${s.index} ${seq} ${Math.round(at * 1000)} ${Math.round(now * 1000)} ${pad}\n`;
      s.remaining[seq & s.mask] = alive;
      s.outstanding++;
      recorder!.onSent(at);
    };
    const onDelivered = (s: Sender, seq: number, now: number) => {
      if (!closedLoop || seq >= s.seq || s.seq - seq > s.remaining.length) return;
      if (--s.remaining[seq & s.mask]! === 0) {
        s.outstanding--;
        if (budget!.take(now)) send(s, now);
      }
    };

    // A refused client certificate (TLS 1.3) comes after the handshake, as an alert.
    let tlsRefusal: unknown;
    const onSocketError = (err: Error) => {
      if (isTlsFailure(err)) tlsRefusal ??= err;
    };
    const lastSeq = receivers.map(() => new Float64Array(senderSockets.length).fill(-1));
    const synced = receivers.map(() => false);
    let onAnyDelivery = () => {};
    receivers.forEach((socket, r) => {
      const seen = lastSeq[r]!;
      const codec = lines({ maxLength: 1024 * 1024 }).create((line) => {
        const k = line.indexOf(marker);
        if (k < 0) {
          if (!synced[r] && line.includes(syncTag)) {
            synced[r] = true;
            extras.receiversSynced++;
          }
          return;
        }
        const rec = recorder;
        if (rec === undefined) return;
        const now = performance.now();
        const s = parseUint(line, k + marker.length);
        const seqAt = parsedEnd + 1;
        const seq = parsedEnd > 0 && line[parsedEnd] === SPACE ? parseUint(line, seqAt) : -1;
        const tsAt = parsedEnd + 1;
        const ts = parsedEnd > 0 && line[parsedEnd] === SPACE ? parseUint(line, tsAt) : -1;
        if (ts < 0 || parsedEnd < 0 || s >= seen.length) {
          rec.error("malformed");
          return;
        }
        const sentAt = line[parsedEnd] === SPACE ? parseUint(line, parsedEnd + 1) : -1;
        // Latency from the actual send, when the line says it (open loop only).
        const uncorrected = closedLoop || sentAt < 0 || parsedEnd < 0 ? -1 : now - sentAt / 1000;
        lastProgress = now;
        if (seq <= seen[s]!) {
          extras.duplicateOrReordered++;
          rec.onReply(now, now - ts / 1000, line.length + 1, "mismatch", uncorrected);
          rec.mismatch(() => `receiver ${r}: message ${seq} of sender ${s} after message ${seen[s]}`);
          return;
        }
        seen[s] = seq;
        extras.delivered++;
        rec.onReply(now, now - ts / 1000, line.length + 1, "ok", uncorrected);
        const sender = senderByIndex[s];
        if (sender) onDelivered(sender, seq, now);
      });
      socket.on("data", (chunk: Buffer) => {
        try {
          codec.push(chunk);
        } catch (err) {
          recorder?.error(errorKind(err));
        }
        flushDirty();
        onAnyDelivery();
      });
      socket.on("error", onSocketError);
      socket.on("close", () => {
        if (ended) return;
        alive--;
        recorder?.error("closed");
      });
    });
    // Senders read only to find flood-control notices; the first one stops the sending.
    const onFloodNotice = (line: string) => {
      if (extras.floodNotices++ === 0) {
        extras.floodNotice = line;
        halt();
      }
    };
    for (const s of senders) {
      s.socket.on("data", floodWatcher(onFloodNotice));
      s.socket.on("error", onSocketError);
      s.socket.on("close", () => {
        if (!ended) recorder?.error("closed");
      });
    }

    // Barrier: repeat a sync line until every receiver has seen it.
    // Repeats back off (100 ms doubling to 1 s): under a server's flood control the sync
    // lines count against the first sender like messages.
    const first = senders[0]!;
    const barrierStart = performance.now();
    let pause = 100;
    while (extras.receiversSynced < alive && performance.now() - barrierStart < options.timeoutMs) {
      first.socket.write(`${syncTag}\n`);
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(1000, pause * 2);
    }
    await new Promise((r) => setTimeout(r, 200));
    if (extras.receiversSynced === 0) {
      for (const s of sockets) if (s) closeHard(s);
      if (tlsRefusal !== undefined) throw connectFailure(tlsRefusal, where);
      if (clientCertOf(options.target) !== undefined && alive === 0) throw certificateRefused(where);
      throw new EchoplexError(
        "ERR_BAD_REPLY",
        `chat: no receiver got the barrier line within ${options.timeoutMs / 1000} s; is ${where} a broadcast server?`,
      );
    }

    const rec = new Recorder(options.stop, {
      uncorrected: !closedLoop,
      intervals: options.intervals === true,
    });
    recorder = rec;
    for (const kind of failures) rec.error(kind);
    if (extras.receiversSynced < alive) rec.error("barrier");
    budget = new Budget(options.stop, rec.windowEnd);
    const b = budget;

    return await new Promise<Recorder>((resolve) => {
      let finished = false;
      let stopPacer = () => {};
      const expected = () => rec.sent * alive;
      const finish = () => {
        if (finished) return;
        finished = true;
        stopPacer();
        clearInterval(watchdog);
        extras.expectedDeliveries = expected();
        extras.missing = Math.max(0, extras.expectedDeliveries - extras.delivered);
        // A message the server drops is missing at every receiver.
        if (extras.floodNotices > 0) extras.floodDropped = Math.round(extras.missing / Math.max(1, alive));
        ended = true;
        for (const s of sockets) if (s) closeHard(s);
        resolve(rec);
      };
      halt = () => {
        const t = performance.now();
        b.halt(t);
        rec.halt(t);
        stopPacer();
        onAnyDelivery();
      };
      if (halted) halt();
      onAnyDelivery = () => {
        if (b.spent(performance.now()) && extras.delivered >= expected()) finish();
      };
      const watchdog = setInterval(() => {
        const now = performance.now();
        onAnyDelivery();
        // Once the server said it drops our messages, the missing ones will not come.
        const stallMs = extras.floodNotices > 0 ? Math.min(1000, options.timeoutMs) : options.timeoutMs;
        const stalled = now - lastProgress > stallMs;
        if (stalled && (closedLoop || b.spent(now))) finish();
        if (alive === 0) finish();
      }, 50);
      const start = performance.now();
      lastProgress = start;
      if (closedLoop) {
        for (let k = 0; k < options.pipeline; k++) for (const s of senders) if (b.take(start)) send(s, start);
        flushDirty();
      } else {
        let next = 0;
        stopPacer = startPacer(
          paceOf(options),
          b,
          start,
          (at, now) => {
            send(senders[next]!, at, now);
            next = (next + 1) % senders.length;
          },
          flushDirty,
        );
      }
    });
  })();
  return { recorder: () => recorder, done, extras: () => extras, halt: () => halt() };
}
