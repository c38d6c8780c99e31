// Admission: who becomes a peer, whatever door it came through. The engine's Gate for
// its listeners: the connection and per-IP counts, the streams still in a handshake
// (they count too), and the refusal of those over a limit with a framed error and a
// lingering close.
import type { Framing } from "../codecs/types.js";
import { EchoplexError } from "../errors.js";
import type { Connection } from "./connection.js";
import { type EngineContext, errorNotice } from "./context.js";
import { lingerClose } from "./linger.js";
import type { Arrival, Gate, PeerStream } from "./transport.js";
import { WarnThrottle } from "./warn-throttle.js";

export class Admission<S> implements Gate {
  private readonly perIp = new Map<string, number>();
  readonly handshaking = new Set<PeerStream>();
  accepting = true;
  private readonly warnings: WarnThrottle;

  constructor(
    private readonly ctx: EngineContext<S>,
    /** The engine takes an admitted peer. */
    private readonly admitted: (arrival: Arrival) => void,
  ) {
    this.warnings = new WarnThrottle(ctx.logger);
  }

  roomFor(stream: PeerStream, remoteAddress: string | undefined, messages?: Framing): boolean {
    const { limits, connections } = this.ctx;
    if (connections.size + this.handshaking.size < limits.maxConnections) return true;
    this.refuse(
      stream,
      remoteAddress,
      "max_connections",
      new EchoplexError("ERR_TOO_MANY_CONNECTIONS", `too many connections (limit ${limits.maxConnections})`),
      messages,
    );
    return false;
  }

  /** The per-IP check, then the engine takes the stream as a peer. */
  admit(arrival: Arrival): void {
    const { stream, remoteAddress, messages } = arrival;
    if (!this.accepting) {
      stream.destroy();
      return;
    }
    const perIpLimit = this.ctx.limits.maxConnectionsPerIp;
    if (perIpLimit > 0) {
      const count = this.perIp.get(remoteAddress) ?? 0;
      if (count >= perIpLimit) {
        this.refuse(
          stream,
          remoteAddress,
          "max_connections_per_ip",
          new EchoplexError(
            "ERR_TOO_MANY_CONNECTIONS_PER_IP",
            `too many connections from ${remoteAddress} (limit ${perIpLimit})`,
          ),
          messages,
        );
        return;
      }
      this.perIp.set(remoteAddress, count + 1);
    }
    this.admitted(arrival);
  }

  /** A peer is gone: it no longer counts against its address's limit. */
  release(conn: Connection<S>): void {
    if (this.ctx.limits.maxConnectionsPerIp === 0) return;
    const count = (this.perIp.get(conn.remoteAddress) ?? 1) - 1;
    if (count <= 0) this.perIp.delete(conn.remoteAddress);
    else this.perIp.set(conn.remoteAddress, count);
  }

  /** Refuses a stream with a framed error message, then closes it. */
  refuse(
    stream: PeerStream,
    remoteAddress: string | undefined,
    reason: string,
    err: EchoplexError,
    messages?: Framing,
  ): void {
    const { stats, limits } = this.ctx;
    const framing = messages ?? this.ctx.framing;
    stats.countRejected(reason);
    stats.countError(err.code);
    this.warnings.warn(reason, { remote: remoteAddress, code: err.code, err: err.message });
    const out: Buffer[] = [];
    const notice = errorNotice(this.ctx, err);
    if (notice !== undefined) {
      framing.create(() => {}).encode(out, typeof notice === "string" ? Buffer.from(notice) : notice);
    }
    lingerClose(stream, out.length > 0 ? Buffer.concat(out) : undefined, {
      lingerMs: limits.lingerMs,
      flushMs: limits.idleTimeoutMs,
    });
  }

  acceptFailed(err: NodeJS.ErrnoException): void {
    this.warnings.warn("accept", { code: err.code, err: err.message });
  }

  /** Drops the streams not admitted yet (shutdown). */
  dropHandshakes(): void {
    for (const stream of this.handshaking) stream.destroy();
    this.handshaking.clear();
  }
}
