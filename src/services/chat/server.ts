// The chat server: `echoplex chat`. Users connect with nc or telnet, get a guest
// nick, talk in rooms, and are protected from each other (sanitised text, flood
// control, slow consumers cut off). This file wires the engine to the room and user
// model (ChatHub) and picks the transport (in-process by default, or Redis).

import { randomBytes } from "node:crypto";
import { framingFor } from "../../codecs/framing-for.js";
import type { Address } from "../../core/address.js";
import type { PeerInfo } from "../../core/connection.js";
import type { LatencyRecorder } from "../../core/contract.js";
import { EngineService } from "../../core/engine-service.js";
import { parseListenAddress } from "../../core/listen-address.js";
import { silentLogger } from "../../core/logger.js";
import {
  createServer,
  type EchoplexServer,
  type Handler,
  type ListenInfo,
  type ServerOptions,
} from "../../core/server.js";
import type { ServiceCounters } from "../../core/service.js";
import { counter, gauge } from "../../core/stats.js";
import { EchoplexError } from "../../errors.js";
import type { FloodLimits } from "./flood.js";
import {
  ChatHub,
  type ChatHub as ChatHubType,
  type ChatSession,
  type ChatSettings,
  DEFAULT_CHAT_SETTINGS,
} from "./hub.js";
import {
  createIrcServer,
  IRC_DEFAULT_PING_TIMEOUT_MS,
  ircDoorAddress,
  ircListenInfo,
  sumCounters,
} from "./irc/door.js";
import { MemoryTransport } from "./memory-transport.js";
import { redisMetrics } from "./redis-metrics.js";
import type { PubSubMode } from "./redis-settings.js";
import { checkRedisUrl, RedisTransport } from "./redis-transport.js";
import type { ChatTransport } from "./transport.js";
import { CHAT_WEB_PAGE } from "./web-page.js";

export const CHAT_DEFAULT_PORT = 8081;
/** Chat peers get less room for unread output than the engine's default: chat lines are small. */
export const CHAT_DEFAULT_MAX_PENDING_BYTES = 1024 * 1024;
/** People at nc or telnet sit quietly in silent rooms for a long time; only an hour of silence closes them. */
export const CHAT_DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;
/** Messages of a room replayed to someone who joins it. */
export const CHAT_DEFAULT_HISTORY = 20;

export interface ChatOptions
  extends Omit<ServerOptions<ChatSession>, "handler" | "framing" | "service" | "summary"> {
  /** Where shared state and delivery live. Default: in this process (with `history` messages per room). */
  transport?: ChatTransport;
  /** Messages replayed to someone who joins a room. Default CHAT_DEFAULT_HISTORY (20). */
  history?: number;
  /** Share rooms, nicks, history and delivery with every chat on this Redis (`redis://HOST:PORT`). Ignored when `transport` is given. */
  redis?: string;
  /** With `redis`: how long a crashed server's nicks and members outlive it. Default 15 s. */
  redisTtlMs?: number;
  /** With `redis`: prefix of the keys and channel (chats with different prefixes are separate). Default `echoplex:chat:`. */
  redisPrefix?: string;
  /** With `redis`: events kept while Redis is unreachable, published marked late after recovery. Default 1000. */
  redisOutbox?: number;
  /** With `redis`: `auto` (sharded pub/sub for room channels when Redis has it) or `classic`. */
  redisPubsub?: PubSubMode;
  room?: string;
  password?: string;
  passTries?: number;
  passTimeoutMs?: number;
  motd?: string;
  echoSelf?: boolean;
  maxMessageBytes?: number;
  flood?: Partial<FloodLimits>;
  /** Framing: lines (default, for nc/telnet) or 4-byte length-prefixed frames. */
  framing?: "lines" | "length";
  /** Longest line or frame, in bytes (the connection is closed beyond it). Default 64 KiB. */
  maxLineBytes?: number;
  /** IRC doors (`listen("irc://…")`): a silent client is PINGed after this, and closed after as long again without PONG. Default 120 s. */
  ircPingTimeoutMs?: number;
}

export function chatHandler(hub: ChatHubType): Handler<ChatSession> {
  return {
    createState: () => hub.newSession(),
    onConnect: (conn) => hub.connected(conn),
    onMessage: (conn, payload) => hub.message(conn, payload),
    onClose: (conn, reason) => hub.closed(conn, reason),
    errorNotice: (err) => `! ${err.message}`,
    shutdownNotice: () => "* server shutting down",
    describe: (conn) => ({ nick: conn.state.nick, room: conn.state.room }),
    metrics: [
      gauge("chat_rooms", "rooms with at least one member on this process", () => hub.localRoomCount),
      gauge("chat_users", "users in a room on this process", () => hub.localUserCount),
      counter(
        "chat_nick_conflicts_total",
        "users renamed because another server gave their nick to someone else during a Redis outage",
        () => hub.nickConflicts,
      ),
      ...(hub.transport instanceof RedisTransport ? redisMetrics(hub.transport) : []),
    ],
  };
}

/**
 * A chat server: the engine plus the hub, and a second engine server for the IRC doors
 * once one is opened (`irc://`, `ircs://`, `irc+ADDR`); shutdown drains both, then
 * closes the transport.
 */
export class ChatServer extends EngineService<ChatSession> {
  /** The IRC doors' engine server, made on the first IRC door. */
  irc: EchoplexServer<ChatSession> | undefined;
  private latency: [LatencyRecorder, number | undefined] | undefined;

  constructor(
    readonly server: EchoplexServer<ChatSession>,
    readonly hub: ChatHub,
    private readonly makeIrc: () => EchoplexServer<ChatSession>,
  ) {
    super();
  }

  override async listen(...addresses: Array<string | number | Address>): Promise<ListenInfo> {
    const irc = addresses.flatMap((a) => (typeof a === "string" ? (ircDoorAddress(a) ?? []) : []));
    if (irc.length > 0) {
      if (irc.length !== addresses.length) {
        throw new EchoplexError("ERR_BAD_ADDRESS", "listen on IRC doors and other doors in separate calls");
      }
      for (const address of irc) {
        if (parseListenAddress(address).transport === "udp") {
          throw new EchoplexError("ERR_BAD_ADDRESS", `an IRC door cannot be udp:// (${address})`);
        }
      }
      await this.hub.ready();
      if (this.irc === undefined) {
        this.irc = this.makeIrc();
        if (this.latency !== undefined) this.irc.observeLatency(...this.latency);
      }
      return ircListenInfo(await this.irc.listen(...irc));
    }
    for (const address of addresses) {
      if (typeof address === "string" && parseListenAddress(address).transport === "udp") {
        throw new EchoplexError(
          "ERR_BAD_ADDRESS",
          `chat cannot listen on ${address}: a chat user needs a connection (tcp://, tls://, unix:, ws://, wss://)`,
        );
      }
    }
    await this.hub.ready();
    return this.server.listen(...addresses);
  }

  override async shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    await Promise.all([this.server.shutdown(options), this.irc?.shutdown(options)]);
    await this.hub.close();
  }

  override stats(): ServiceCounters {
    const own = this.server.stats();
    return this.irc === undefined ? own : sumCounters(own, this.irc.stats());
  }

  override peers(limit?: number): PeerInfo[] {
    const own = this.server.peers(limit);
    if (this.irc === undefined) return own;
    const all = [...own, ...this.irc.peers(limit)];
    return limit === undefined ? all : all.slice(0, limit);
  }

  override observeLatency(record: LatencyRecorder, every?: number): void {
    this.latency = [record, every];
    this.server.observeLatency(record, every);
    this.irc?.observeLatency(record, every);
  }
}

export function createChatServer(options: ChatOptions = {}): ChatServer {
  const {
    transport,
    history,
    redis,
    redisTtlMs,
    redisPrefix,
    redisOutbox,
    redisPubsub,
    room,
    password,
    passTries,
    passTimeoutMs,
    motd,
    echoSelf,
    maxMessageBytes,
    flood,
    framing,
    maxLineBytes,
    ircPingTimeoutMs,
    ...engine
  } = options;
  const d = DEFAULT_CHAT_SETTINGS;
  const settings: ChatSettings = {
    room: room ?? d.room,
    password: password === "" ? undefined : password,
    passTries: passTries ?? d.passTries,
    passTimeoutMs: passTimeoutMs ?? d.passTimeoutMs,
    motd: motd === "" ? undefined : motd,
    echoSelf: echoSelf ?? d.echoSelf,
    maxMessageBytes: maxMessageBytes ?? d.maxMessageBytes,
    flood: { ...d.flood, ...flood },
    instance: randomBytes(4).toString("hex"),
  };
  const logger = (engine.logger ?? silentLogger()).child({ service: "chat" });
  const shared =
    transport ??
    (redis === undefined
      ? new MemoryTransport({ historySize: history ?? CHAT_DEFAULT_HISTORY })
      : new RedisTransport({
          url: redis,
          historySize: history ?? CHAT_DEFAULT_HISTORY,
          ttlMs: redisTtlMs,
          prefix: redisPrefix,
          outbox: redisOutbox,
          pubsub: redisPubsub,
          logger,
        }));
  const hub = new ChatHub(shared, settings, logger);
  const server = createServer<ChatSession>({
    ...engine,
    // A browser opening a ws:// door's URL gets the chat's page, which talks back to that door.
    wsPage: engine.wsPage ?? CHAT_WEB_PAGE,
    limits: {
      maxPendingBytes: CHAT_DEFAULT_MAX_PENDING_BYTES,
      idleTimeoutMs: CHAT_DEFAULT_IDLE_TIMEOUT_MS,
      ...engine.limits,
    },
    service: "chat",
    summary: chatSummary(framing ?? "lines", settings, transport === undefined ? redis : undefined),
    framing: framingFor(framing ?? "lines", maxLineBytes),
    handler: chatHandler(hub),
  });
  hub.countError = (code) => server.countError(code);
  const limits = {
    maxPendingBytes: CHAT_DEFAULT_MAX_PENDING_BYTES,
    idleTimeoutMs: CHAT_DEFAULT_IDLE_TIMEOUT_MS,
    ...engine.limits,
  };
  const irc = () =>
    createIrcServer(hub, { ...engine, limits }, ircPingTimeoutMs ?? IRC_DEFAULT_PING_TIMEOUT_MS, logger);
  return new ChatServer(server, hub, irc);
}

/** The start-up line's words: `lines, room #lobby, password required, shared through redis://…`. */
function chatSummary(framing: string, settings: ChatSettings, redis: string | undefined): string {
  const parts = [framing, `room ${settings.room}`];
  if (settings.password !== undefined) parts.push("password required");
  if (redis !== undefined) parts.push(`shared through ${checkRedisUrl(redis)}`);
  return parts.join(", ");
}
