// The chat's IRC doors (`--irc ADDR`): a second engine server on the same hub, so IRC
// clients get the engine's limits, flood control, idle timeouts and metrics, and the
// engine's notices in IRC's words (`ERROR :Closing link: …`). Its liveness check PINGs
// a silent client and closes one that does not answer (one task on the shared ticker
// while anyone is connected), and closes one that does not register in time.
import { lines } from "../../../codecs/lines.js";
import type { ListenInfo } from "../../../core/contract.js";
import type { Logger } from "../../../core/logger.js";
import { createServer, type EchoplexServer, type ServerOptions } from "../../../core/server.js";
import type { ServiceCounters } from "../../../core/service.js";
import { everyTick, type TickTask } from "../../../core/ticker.js";
import type { ChatHub } from "../hub.js";
import type { ChatConn, ChatSession } from "../session.js";
import { IRC_MAX_LINE_BYTES } from "./commands.js";
import { SERVER } from "./render.js";

/** A client silent this long is sent a PING, and closed when it has not answered after as long again. */
export const IRC_DEFAULT_PING_TIMEOUT_MS = 120_000;

/** `irc://`, `ircs://`, `irc+ADDR` (any stream address): the address of an IRC door, or undefined. */
export function ircDoorAddress(address: string): string | undefined {
  if (address.startsWith("irc://")) return `tcp://${address.slice("irc://".length)}`;
  if (address.startsWith("ircs://")) return `tls://${address.slice("ircs://".length)}`;
  if (address.startsWith("irc+")) return address.slice("irc+".length);
  return undefined;
}

/** How an IRC door shows in the start-up lines: `irc://127.0.0.1:6667`, `ircs://…`, `irc+unix:/path`. */
export function ircListenInfo(info: ListenInfo): ListenInfo {
  const scheme = info.transport === "tls" ? "ircs://" : info.transport === "unix" ? "irc+" : "irc://";
  return { ...info, display: `${scheme}${info.display}` };
}

export function createIrcServer(
  hub: ChatHub,
  engine: Omit<ServerOptions<ChatSession>, "handler" | "framing" | "service" | "summary">,
  pingTimeoutMs: number,
  logger: Logger,
): EchoplexServer<ChatSession> {
  const liveness = new Liveness(pingTimeoutMs, hub.settings.passTimeoutMs, logger);
  const server = createServer<ChatSession>({
    ...engine,
    service: "chat",
    summary: "irc",
    // IRC ends every line with CR LF, whatever the client sends.
    framing: lines({ maxLength: IRC_MAX_LINE_BYTES, crlfReplies: true }),
    handler: {
      createState: () => hub.newSession("irc"),
      onConnect: (conn) => {
        liveness.add(conn);
        hub.connected(conn);
      },
      onMessage: (conn, payload) => hub.message(conn, payload),
      onClose: (conn, reason) => {
        liveness.delete(conn);
        hub.closed(conn, reason);
      },
      errorNotice: (err) => `ERROR :Closing link: ${err.message}`,
      shutdownNotice: () => "ERROR :Closing link: server shutting down",
      describe: (conn) => ({ nick: conn.state.nick, room: [...conn.state.rooms].join(","), door: "irc" }),
    },
  });
  liveness.countError = (code) => server.countError(code);
  return server;
}

/** PING after silence, close without PONG; close a client that has not registered in time. */
class Liveness {
  private readonly conns = new Set<ChatConn>();
  private task: TickTask | undefined;
  private readonly connectedAt = new WeakMap<ChatConn, number>();
  countError: (code: "ERR_PING_TIMEOUT" | "ERR_IDLE_TIMEOUT") => void = () => {};

  constructor(
    private readonly pingTimeoutMs: number,
    private readonly registerTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  add(conn: ChatConn): void {
    this.conns.add(conn);
    this.connectedAt.set(conn, Date.now());
    const every = Math.max(
      50,
      Math.min(1000, Math.floor(Math.min(this.pingTimeoutMs, this.registerTimeoutMs) / 4)),
    );
    this.task ??= everyTick(every, (now) => this.check(now));
  }

  delete(conn: ChatConn): void {
    if (this.conns.delete(conn) && this.conns.size === 0) {
      this.task?.stop();
      this.task = undefined;
    }
  }

  private check(now: number): void {
    for (const conn of this.conns) {
      const s = conn.state;
      const irc = s.irc!;
      if (s.phase === "registering" && now - (this.connectedAt.get(conn) ?? now) > this.registerTimeoutMs) {
        this.logger.info(
          { conn: conn.id, remote: conn.remoteAddress },
          "irc: not registered in time, disconnecting",
        );
        this.countError("ERR_IDLE_TIMEOUT");
        conn.close("idle timeout", "ERROR :Closing link: registration timed out");
      } else if (irc.pingSent === 0) {
        if (now - irc.lastSeen < this.pingTimeoutMs) continue;
        irc.pingSent = now;
        conn.send(`PING :${SERVER}`);
      } else if (now - irc.pingSent >= this.pingTimeoutMs) {
        this.logger.info({ conn: conn.id, nick: s.nick }, "irc: no PONG, disconnecting");
        this.countError("ERR_PING_TIMEOUT");
        s.leaveReason = "ping timeout";
        conn.close("idle timeout", "ERROR :Closing link: ping timeout");
      }
    }
  }
}

/** The counters of the chat's two engine servers (nc/web doors and IRC doors) as one service's. */
export function sumCounters(a: ServiceCounters, b: ServiceCounters): ServiceCounters {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b) as Array<[keyof ServiceCounters, unknown]>) {
    const mine = a[key] as unknown;
    if (typeof value === "number" && typeof mine === "number") out[key] = mine + value;
    else if (value instanceof Map && mine instanceof Map) {
      const merged = new Map<string, number>(mine as Map<string, number>);
      for (const [k, v] of value as Map<string, number>) merged.set(k, (merged.get(k) ?? 0) + v);
      out[key] = merged;
    }
  }
  return out as unknown as ServiceCounters;
}
