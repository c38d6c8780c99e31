// The sink server: `echoplex sink`. Records every line (or frame) peers send —
// to the log and, with an output file, as JSON lines — tracks the peers, and
// optionally acknowledges each message once it is recorded. With format "syslog" the
// messages are syslog (RFC 6587 framing on streams) recorded as parsed fields.

import { framingFor } from "../../codecs/framing-for.js";
import { syslogStream } from "../../codecs/syslog-stream.js";
import type { Address } from "../../core/address.js";
import type { Connection } from "../../core/connection.js";
import { EngineService } from "../../core/engine-service.js";
import { type Logger, silentLogger } from "../../core/logger.js";
import {
  createServer,
  type EchoplexServer,
  type Handler,
  type ListenInfo,
  type ServerOptions,
} from "../../core/server.js";
import { counter } from "../../core/stats.js";
import { everyTick, type TickTask } from "../../core/ticker.js";
import { WarnThrottle } from "../../core/warn-throttle.js";
import { EchoplexError } from "../../errors.js";
import { durationText, sizeText } from "../../options/spec.js";
import { connectionMeta, encodeRecord, isPlainText, TimestampCache } from "./record.js";
import { type Batch, FileRecorder } from "./recorder.js";
import { rotationOf, SINK_DEFAULT_KEEP } from "./rotation.js";
import { encodeSyslogRecord } from "./syslog-record.js";

export const SINK_DEFAULT_PORT = 3000;
/** Bytes of records waiting for the disk beyond which the sink stops reading from peers. */
export const SINK_DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024;
const PREVIEW_CHARS = 200;
const STATUS_LIST_MAX = 20;

export interface SinkOptions
  extends Omit<ServerOptions<SinkPeer>, "handler" | "framing" | "service" | "summary"> {
  /** Append every message to this file as JSON lines. */
  out?: string;
  /** fdatasync each batch of records before acknowledging it. */
  fsync?: boolean;
  /** Answer each message with `OK <n>` once it is recorded. */
  ack?: boolean;
  /** Log a summary of the peers this often (0: never). Default 0 in the library, 60 s in the CLI. */
  statusIntervalMs?: number;
  /** Stop reading from peers while more than this many bytes wait for the disk. Default 8 MiB. */
  maxBufferedBytes?: number;
  framing?: "lines" | "length";
  /** Longest line or frame, in bytes. Default 64 KiB. */
  maxLineBytes?: number;
  /**
   * "raw" (default): each message as it came. "syslog": each message parsed (RFC 5424 or
   * 3164) into fields; on streams RFC 6587 framing (octet counting or LF) replaces `framing`.
   */
  format?: "raw" | "syslog";
  /** Rotate the `out` file by size and/or age, keeping `keep` old files (default 10). */
  rotate?: { maxBytes?: number; everyMs?: number; keep?: number };
}

/** What the sink knows about one peer (`conn.state`). */
export interface SinkPeer {
  /** `address:port` as recorded. */
  peer: string;
  /** The constant middle of this peer's records. */
  meta: Buffer;
  messages: number;
  bytes: number;
  lastMessageAt: number;
  /** Acknowledgements sent so far. */
  acked: number;
  /** The last message number in this peer's current batch (acknowledged together). */
  ackMark: { upTo: number };
  /** Message numbers dropped by the rate limit whose turn to be answered has not come yet. */
  dropped: Set<number>;
  /** The batch this peer's last record joined (the engine tracks one promise per batch, not per message). */
  batch: Batch | undefined;
  /** True while reading from this peer is held because the disk is behind. */
  held: boolean;
}

export interface SinkStatus {
  peers: number;
  messages: number;
  bytes: number;
  recordsWritten: number;
  bufferedBytes: number;
  recent: Array<{
    conn: number;
    peer: string;
    messages: number;
    bytes: number;
    idleMs: number;
    connectedS: number;
  }>;
}

type SinkConn = Connection<SinkPeer>;

/** A sink server: the engine plus the recorder; shutdown answers and records everything received, then closes the file. */
export class SinkServer extends EngineService<SinkPeer> {
  readonly server: EchoplexServer<SinkPeer>;
  readonly recorder: FileRecorder | undefined;
  private readonly logger: Logger;
  private readonly timestamps = new TimestampCache();
  private readonly held = new Set<SinkConn>();
  private statusTask: TickTask | undefined;
  private shuttingDown = false;
  private readonly ack: boolean;
  private readonly maxBuffered: number;
  private readonly logEach: boolean;
  private retiredMessages = 0;
  private retiredBytes = 0;
  private readonly syslog: boolean;
  private syslogErrors = 0;
  private readonly warnings: WarnThrottle;

  constructor(private readonly options: SinkOptions) {
    super();
    const {
      out,
      fsync,
      ack,
      statusIntervalMs,
      maxBufferedBytes,
      framing,
      maxLineBytes,
      format,
      rotate,
      ...engine
    } = options;
    this.logger = (engine.logger ?? silentLogger()).child({ service: "sink" });
    this.warnings = new WarnThrottle(this.logger);
    this.syslog = format === "syslog";
    if (this.syslog && framing !== undefined && framing !== "lines") {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        "--format syslog brings its own framing: drop --framing length",
      );
    }
    this.logEach = this.logger.isLevelEnabled("debug");
    this.ack = ack === true;
    this.maxBuffered = maxBufferedBytes ?? SINK_DEFAULT_MAX_BUFFERED;
    if (out !== undefined) {
      const rotation = rotationOf(rotate);
      const recorder = new FileRecorder(out, { fsync: fsync === true, ...(rotation && { rotation }) });
      recorder.onWritten = () => this.written();
      recorder.onError = (err) => this.writeFailed(err);
      recorder.onRotated = (to, bytes) => this.logger.info({ file: out, to, bytes }, "rotated output file");
      recorder.onRotateError = (err) => this.writeFailed(err, "cannot rotate the output file");
      this.recorder = recorder;
    } else if (rotate !== undefined) {
      throw new EchoplexError("ERR_BAD_OPTION", "--rotate needs --out: there is no file to rotate");
    }
    this.server = createServer<SinkPeer>({
      ...engine,
      service: "sink",
      summary: sinkSummary(options),
      framing: this.syslog
        ? syslogStream(maxLineBytes === undefined ? {} : { maxLength: maxLineBytes })
        : framingFor(framing ?? "lines", maxLineBytes),
      handler: this.handler(),
    });
  }

  private opened: Promise<void> | undefined;

  override async listen(...addresses: Array<string | number | Address>): Promise<ListenInfo> {
    // Each door is one more listen(): the file opens with the first.
    this.opened ??= this.recorder?.open() ?? Promise.resolve();
    await this.opened;
    const info = await this.server.listen(...addresses);
    const every = this.options.statusIntervalMs ?? 0;
    // Once for the sink, not per door: listen() may be called once per door.
    if (every > 0 && this.statusTask === undefined) {
      this.statusTask = everyTick(every, () => this.logStatus("status"));
    }
    return info;
  }

  /** Stops accepting, records everything already received, closes every peer, then closes the file. */
  override async shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    // Read what is already in the kernel's buffers: held peers are released for the engine's last reads.
    this.shuttingDown = true;
    this.releaseAll();
    this.statusTask?.stop();
    await this.server.shutdown(options);
    await this.recorder?.close();
    this.logStatus("final status");
  }

  /** Peers and totals, as logged by the status line. */
  status(): SinkStatus {
    let messages = this.retiredMessages;
    let bytes = this.retiredBytes;
    const now = Date.now();
    const peers = [...this.server.connections.values()];
    for (const conn of peers) {
      messages += conn.state.messages;
      bytes += conn.state.bytes;
    }
    const recent = peers
      .sort((a, b) => b.state.lastMessageAt - a.state.lastMessageAt)
      .slice(0, STATUS_LIST_MAX)
      .map((conn) => ({
        conn: conn.id,
        peer: conn.state.peer,
        messages: conn.state.messages,
        bytes: conn.state.bytes,
        idleMs: now - (conn.state.lastMessageAt || conn.connectedAt),
        connectedS: Math.round((now - conn.connectedAt) / 1000),
      }));
    return {
      peers: peers.length,
      messages,
      bytes,
      recordsWritten: this.recorder?.recordsWritten ?? 0,
      bufferedBytes: this.recorder?.bufferedBytes ?? 0,
      recent,
    };
  }

  private handler(): Handler<SinkPeer> {
    return {
      metrics: [
        counter(
          "sink_records_written_total",
          "records written to the --out file",
          () => this.recorder?.recordsWritten ?? 0,
        ),
        counter("sink_rotations_total", "rotations of the --out file", () => this.recorder?.rotations ?? 0),
        counter(
          "sink_syslog_parse_errors_total",
          "messages that did not parse as syslog (recorded raw, with parseError)",
          () => this.syslogErrors,
        ),
      ],
      createState: () => ({
        peer: "",
        meta: Buffer.alloc(0),
        messages: 0,
        bytes: 0,
        lastMessageAt: 0,
        acked: 0,
        ackMark: { upTo: 0 },
        dropped: new Set(),
        batch: undefined,
        held: false,
      }),
      onConnect: (conn) => {
        const peer = conn.remoteAddress.includes(":")
          ? `[${conn.remoteAddress}]:${conn.remotePort}`
          : `${conn.remoteAddress}:${conn.remotePort}`;
        conn.state.peer = peer;
        conn.state.meta = connectionMeta(peer, conn.id);
      },
      onMessage: (conn, payload) => this.message(conn, payload),
      onDropped: (conn) => this.dropped(conn),
      onClose: (conn) => {
        this.retiredMessages += conn.state.messages;
        this.retiredBytes += conn.state.bytes;
        if (conn.state.held) {
          conn.state.held = false;
          this.held.delete(conn);
        }
      },
      shutdownNotice: () => (this.ack ? "NOTICE: server shutting down" : undefined),
      describe: (conn) => ({ messages: conn.state.messages }),
    };
  }

  private message(conn: SinkConn, payload: Buffer): void | Promise<void> {
    const s = conn.state;
    s.messages++;
    s.bytes += payload.length;
    s.lastMessageAt = Date.now();
    if (this.logEach) this.logMessage(conn, payload);
    const syslog = this.syslog ? this.syslogRecord(conn, payload) : undefined;
    const recorder = this.recorder;
    if (recorder === undefined) {
      if (this.ack) conn.send(`OK ${++s.acked}`);
      return;
    }
    const batch = recorder.append(syslog ?? encodeRecord(this.timestamps.now(), s.meta, payload));
    if (recorder.bufferedBytes > this.maxBuffered && !s.held && !this.shuttingDown) {
      s.held = true;
      this.held.add(conn);
      conn.holdInput();
    }
    if (s.batch === batch) {
      s.ackMark.upTo = s.messages;
      return; // this peer already waits for this batch
    }
    s.batch = batch;
    if (!this.ack) return batch.done;
    // Acknowledge this peer's records in this batch once they are in the file.
    const mark = { upTo: s.messages };
    s.ackMark = mark;
    return batch.done.then(
      () => {
        this.acknowledge(conn, mark.upTo);
      },
      (err: EchoplexError) => {
        conn.send(`ERROR: messages ${s.acked + 1}-${mark.upTo} not recorded: ${err.message}`);
        for (let n = s.acked + 1; n <= mark.upTo; n++) s.dropped.delete(n);
        s.acked = mark.upTo;
      },
    );
  }

  /**
   * A message the rate limit dropped still takes its number, so `OK n` keeps matching the
   * peer's own count; it is answered with an error in its turn, after earlier records' OKs.
   */
  private dropped(conn: SinkConn): void {
    const s = conn.state;
    const n = ++s.messages;
    if (!this.ack) return;
    if (s.acked === n - 1) {
      s.acked = n;
      conn.send(droppedNotice(n));
      return;
    }
    s.dropped.add(n);
    s.ackMark.upTo = n; // answered when the batch before it is in the file
  }

  /** Sends this peer's answers up to message `upTo`, in order. */
  private acknowledge(conn: SinkConn, upTo: number): void {
    const s = conn.state;
    for (let n = s.acked + 1; n <= upTo; n++) {
      if (s.dropped.delete(n)) conn.send(droppedNotice(n));
      else conn.send(`OK ${n}`);
    }
    s.acked = upTo;
  }

  /** The message as a syslog record; one that does not parse is counted and logged (throttled), and recorded raw. */
  private syslogRecord(conn: SinkConn, payload: Buffer): Buffer {
    const { record, parseError } = encodeSyslogRecord(
      this.timestamps.now(),
      conn.state.meta,
      payload,
      new Date(),
    );
    if (parseError !== undefined) {
      this.syslogErrors++;
      this.warnings.warn(
        "syslog parse error",
        { conn: conn.id, peer: conn.state.peer, parseError },
        "message is not syslog, recorded raw",
      );
    }
    return record;
  }

  private logMessage(conn: SinkConn, payload: Buffer): void {
    const plain = isPlainText(payload);
    const preview = plain
      ? payload
          .subarray(0, PREVIEW_CHARS * 4)
          .toString("utf8")
          .slice(0, PREVIEW_CHARS)
      : payload.subarray(0, PREVIEW_CHARS).toString("base64");
    this.logger.debug(
      { conn: conn.id, peer: conn.state.peer, bytes: payload.length, [plain ? "text" : "base64"]: preview },
      "message",
    );
  }

  private written(): void {
    if (this.held.size === 0) return;
    if ((this.recorder?.bufferedBytes ?? 0) > this.maxBuffered / 2) return;
    this.releaseAll();
  }

  private releaseAll(): void {
    for (const conn of this.held) {
      conn.state.held = false;
      conn.releaseInput();
    }
    this.held.clear();
  }

  private writeFailed(err: EchoplexError, msg = "cannot write records"): void {
    this.server.countError(err.code);
    this.logger.error({ code: err.code, err: err.message }, msg);
  }

  private logStatus(msg: string): void {
    this.logger.info(this.status(), msg);
  }
}

export function createSinkServer(options: SinkOptions = {}): SinkServer {
  return new SinkServer(options);
}

/** The start-up line's words: `lines, out log.jsonl, fsync, ack` (`syslog` for the syslog format). */
function sinkSummary(options: SinkOptions): string {
  const framing = options.format === "syslog" ? "syslog" : (options.framing ?? "lines");
  const parts = [framing, options.out === undefined ? "log only" : `out ${options.out}`];
  const r = options.rotate;
  if (r !== undefined) {
    const at = [r.maxBytes && sizeText(r.maxBytes), r.everyMs && durationText(r.everyMs)].filter(Boolean);
    parts.push(`rotate ${at.join(" or ")}, keep ${r.keep ?? SINK_DEFAULT_KEEP}`);
  }
  if (options.fsync === true) parts.push("fsync");
  if (options.ack === true) parts.push("ack");
  return parts.join(", ");
}

function droppedNotice(n: number): string {
  return `ERROR: message ${n} not recorded: rate limit exceeded`;
}
