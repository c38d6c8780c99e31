// The chat model of one process: its users (sessions), what each line a user
// sends does, and the fan-out of events from the transport to the local members
// of a room. Each event is rendered once into one Buffer that every recipient's
// outbox references; the engine writes each outbox once per tick.
import type { CloseReason, Connection } from "../../core/connection.js";
import type { Logger } from "../../core/logger.js";
import type { ErrorCode } from "../../errors.js";
import { HELP_LINES, parseCommand } from "./commands.js";
import type { ChatEvent, HistoryEvent, UserRef } from "./events.js";
import { renderEvent } from "./events.js";
import { DEFAULT_FLOOD_LIMITS, FloodControl, type FloodLimits } from "./flood.js";
import { nickError, nickKey, normaliseRoom } from "./names.js";
import { sanitize } from "./sanitize.js";
import type { ChatTransport, MaybePromise } from "./transport.js";

export interface ChatSettings {
  /** The room users start in. Default `#lobby`. */
  room: string;
  /** When set, users must send `/pass SECRET` before anything else. */
  password: string | undefined;
  /** Wrong passwords (or other lines) before an unauthenticated user is disconnected. Default 3. */
  passTries: number;
  /** How long a user has to send the password. Default 30 s. */
  passTimeoutMs: number;
  /** A message of the day shown after the welcome. */
  motd: string | undefined;
  /** Whether a user's own messages are sent back to them. */
  echoSelf: boolean;
  /** Longest message, in bytes after sanitising. Longer ones are refused (not sent). */
  maxMessageBytes: number;
  flood: FloodLimits;
  /** Prefix of user ids, unique per process when several share a transport. */
  instance: string;
}

export const DEFAULT_CHAT_SETTINGS: Readonly<Omit<ChatSettings, "instance">> = Object.freeze({
  room: "#lobby",
  password: undefined,
  passTries: 3,
  passTimeoutMs: 30_000,
  motd: undefined,
  echoSelf: false,
  maxMessageBytes: 1024,
  flood: DEFAULT_FLOOD_LIMITS,
});

/** Where a user is in their life: waiting to authenticate, admitted, or gone. */
type SessionPhase = "password" | "admitting" | "chatting" | "gone";

/** Per-connection chat state (`conn.state`). */
export interface ChatSession {
  id: string;
  phase: SessionPhase;
  nick: string;
  /** The room the user is in while chatting. */
  room: string;
  passTries: number;
  /** When an unauthenticated user is disconnected (ms since epoch). */
  passDeadline: number;
  bucket: FloodControl;
  /** Lines received while an asynchronous command was running; processed in order after it. */
  backlog: Buffer[];
  busy: boolean;
  /** Why the user left, when it is not the connection's close reason (a /quit message). */
  leaveReason: string | undefined;
  /** A nick the transport gave to another server's user: renamed away from before the next line. */
  lostNick: string | undefined;
}

type ChatConn = Connection<ChatSession>;

const MAX_BACKLOG = 64;
const NOTICE_LEAVE_REASONS: Partial<Record<CloseReason, string>> = {
  "peer closed": "connection closed",
  "peer reset": "connection lost",
  "socket error": "connection lost",
  "slow consumer": "slow consumer",
  "rate limited": "flooding",
  "idle timeout": "idle timeout",
  "server shutdown": "server shutting down",
  "line too long": "line too long",
  "tls renegotiation": "connection lost",
};

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === "function";
}

function formatIdle(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export class ChatHub {
  /** Local members of each room. */
  private readonly rooms = new Map<string, Set<ChatConn>>();
  /** Local users by nick key, for private messages. */
  private readonly byNick = new Map<string, ChatConn>();
  /** Users who have not sent the password yet, checked by one sweep timer. */
  private readonly waiting = new Set<ChatConn>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly subscribed: MaybePromise<void>;
  /** Rooms with at least one member on this process (a metric). */
  get localRoomCount(): number {
    return this.rooms.size;
  }

  /** Users on this process who are in a room (a metric). */
  get localUserCount(): number {
    let n = 0;
    for (const members of this.rooms.values()) n += members.size;
    return n;
  }

  /** Users renamed because another server's user kept their nick (a metric). */
  nickConflicts = 0;

  /** Counts enforced limits in the engine's stats (set by createChatServer). */
  countError: (code: ErrorCode) => void = () => {};

  constructor(
    readonly transport: ChatTransport,
    readonly settings: ChatSettings,
    private readonly logger: Logger,
  ) {
    this.subscribed = transport.subscribe((event) => this.deliver(event));
    // Not logged here: ready() (awaited by ChatServer.listen) rejects with the reason.
    if (isPromise(this.subscribed)) this.subscribed.catch(() => undefined);
    transport.onNickLost?.((id, nick) => this.nickLost(id, nick));
  }

  /** Resolves once the transport delivers events to this hub. */
  async ready(): Promise<void> {
    await this.subscribed;
  }

  newSession(): ChatSession {
    return {
      id: "",
      phase: "password",
      nick: "",
      room: "",
      passTries: 0,
      passDeadline: 0,
      bucket: new FloodControl(this.settings.flood, Date.now()),
      backlog: [],
      busy: false,
      leaveReason: undefined,
      lostNick: undefined,
    };
  }

  // --- connection life ---------------------------------------------------------------

  connected(conn: ChatConn): void {
    const s = conn.state;
    s.id = `${this.settings.instance}:${conn.id}`;
    if (this.settings.password !== undefined) {
      s.phase = "password";
      s.passDeadline = Date.now() + this.settings.passTimeoutMs;
      this.waiting.add(conn);
      this.startSweep();
      conn.send("* Welcome to echoplex chat. This server needs a password: send /pass SECRET");
      return;
    }
    this.run(conn, this.admit(conn));
  }

  /** A line from a user. Returns a promise while an asynchronous command runs (the engine waits for it on shutdown). */
  message(conn: ChatConn, payload: Buffer): void | Promise<void> {
    const s = conn.state;
    if (s.phase === "gone") return;
    const verdict = s.bucket.take(Date.now());
    if (verdict === "disconnect") {
      this.logger.warn(
        { conn: conn.id, remote: conn.remoteAddress, nick: s.nick },
        "flooding: disconnecting",
      );
      this.countError("ERR_RATE_LIMITED");
      conn.close("rate limited", "! flooding: disconnecting");
      return;
    }
    if (verdict === "drop") {
      if (!s.bucket.warned) {
        s.bucket.warned = true;
        const { rate, burst } = this.settings.flood;
        this.logger.info({ conn: conn.id, nick: s.nick }, "flood control: dropping messages");
        conn.send(`! flood control: slow down (limit ${rate} messages/s, burst ${burst}); messages dropped`);
      }
      return;
    }
    if (s.busy) {
      if (s.backlog.length >= MAX_BACKLOG) {
        conn.send("! server busy: message dropped");
        return;
      }
      s.backlog.push(Buffer.from(payload)); // a copy: the payload is a view into the read chunk
      return;
    }
    return this.run(conn, this.line(conn, payload));
  }

  /** The connection is gone: leave the room, free the nick. */
  closed(conn: ChatConn, reason: CloseReason): void {
    const s = conn.state;
    this.waiting.delete(conn);
    const wasChatting = s.phase === "chatting";
    s.phase = "gone";
    s.backlog.length = 0;
    if (!wasChatting) {
      if (s.nick !== "") this.settle(this.transport.releaseNick(s.id), "release nick");
      return;
    }
    if (this.byNick.get(nickKey(s.nick)) === conn) this.byNick.delete(nickKey(s.nick));
    const leave = s.leaveReason ?? NOTICE_LEAVE_REASONS[reason] ?? reason;
    this.settle(this.leaveRoom(conn, leave), "leave");
    this.settle(this.transport.releaseNick(s.id), "release nick");
  }

  /** Stops the password sweep and closes the transport. */
  async close(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.transport.close();
  }

  // --- per-user ordering ----------------------------------------------------------------

  /** Marks the user busy while `work` is pending, then processes lines that arrived meanwhile. */
  private run(conn: ChatConn, work: void | Promise<void>): void | Promise<void> {
    if (!isPromise(work)) return;
    const s = conn.state;
    s.busy = true;
    return work
      .catch((err: unknown) => {
        this.failed("command", err);
        if (conn.status === "open") conn.send("! internal error, try again");
      })
      .then(() => this.drainBacklog(conn));
  }

  private drainBacklog(conn: ChatConn): void | Promise<void> {
    const s = conn.state;
    s.busy = false;
    while (s.phase !== "gone" && conn.status === "open") {
      let next: void | Promise<void>;
      if (s.lostNick !== undefined) next = this.renameAway(conn, s.lostNick);
      else if (s.backlog.length > 0) next = this.line(conn, s.backlog.shift()!);
      else return;
      if (isPromise(next)) return this.run(conn, next);
    }
  }

  // --- lines ------------------------------------------------------------------------------

  private line(conn: ChatConn, payload: Buffer): void | Promise<void> {
    const s = conn.state;
    const text = sanitize(payload.toString("utf8")).trim();
    if (s.phase === "password") return this.passwordLine(conn, text);
    if (s.phase !== "chatting") return;
    if (text === "") return;
    const cmd = parseCommand(text);
    switch (cmd.name) {
      case "say":
      case "me":
        return this.say(conn, cmd.name === "say" ? "say" : "action", cmd.text);
      case "nick":
        return this.nick(conn, cmd.nick);
      case "join":
        return this.join(conn, cmd.room);
      case "rooms":
        return this.listRooms(conn);
      case "who":
        return this.who(conn);
      case "msg":
        return this.privateMessage(conn, cmd.to, cmd.text);
      case "quit":
        s.leaveReason = cmd.reason === "" ? "quit" : `quit: ${cmd.reason}`;
        conn.close("closed by service", "* bye");
        return;
      case "help":
        for (const line of HELP_LINES) conn.send(line);
        return;
      case "pass":
        conn.send("! already authenticated");
        return;
      case "error":
        conn.send(`! ${cmd.message}`);
        return;
    }
  }

  private passwordLine(conn: ChatConn, text: string): void | Promise<void> {
    const s = conn.state;
    const cmd = parseCommand(text);
    if (cmd.name === "quit") {
      conn.close("closed by service", "* bye");
      return;
    }
    if (cmd.name === "pass" && cmd.secret === this.settings.password) {
      this.waiting.delete(conn);
      conn.send("* password accepted");
      return this.admit(conn);
    }
    s.passTries++;
    const left = this.settings.passTries - s.passTries;
    const what = cmd.name === "pass" ? "wrong password" : "send /pass SECRET first";
    if (left <= 0) {
      this.logger.info(
        { conn: conn.id, remote: conn.remoteAddress },
        "password: too many tries, disconnecting",
      );
      conn.close("closed by service", `! ${what}; too many tries, disconnecting`);
      return;
    }
    conn.send(`! ${what} (${left} ${left === 1 ? "try" : "tries"} left)`);
  }

  private say(conn: ChatConn, kind: "say" | "action", text: string): void | Promise<void> {
    const s = conn.state;
    const bytes = Buffer.byteLength(text);
    if (bytes > this.settings.maxMessageBytes) {
      conn.send(`! message too long (${bytes} bytes, limit ${this.settings.maxMessageBytes}): not sent`);
      return;
    }
    const from: UserRef = { id: s.id, nick: s.nick };
    return this.transport.publish({ kind, room: s.room, from, text, ts: Date.now() });
  }

  // --- commands -----------------------------------------------------------------------------

  /** Assigns a guest nick and puts the user in the default room. */
  private async admit(conn: ChatConn): Promise<void> {
    const s = conn.state;
    s.phase = "admitting";
    s.nick = (await this.claimGuestNick(s.id)) ?? "";
    if (s.nick === "") {
      conn.close("closed by service", "! no guest nick available, try again later");
      return;
    }
    if (conn.status !== "open" || s.phase !== "admitting") {
      if (s.nick !== "") await this.transport.releaseNick(s.id);
      return;
    }
    this.byNick.set(nickKey(s.nick), conn);
    s.phase = "chatting";
    conn.send(
      `* Welcome to echoplex chat, ${s.nick}! You are in ${this.settings.room}. Type /help for commands.`,
    );
    if (this.settings.motd !== undefined) conn.send(`* ${this.settings.motd}`);
    await this.enterRoom(conn, this.settings.room);
  }

  private async claimGuestNick(id: string): Promise<string | undefined> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const nick = `guest-${await this.transport.nextGuestNumber()}`;
      if (await this.transport.claimNick(id, nick)) return nick;
    }
    return undefined;
  }

  private async nick(conn: ChatConn, nick: string): Promise<void> {
    const s = conn.state;
    const invalid = nickError(nick);
    if (invalid !== undefined) {
      conn.send(`! ${invalid}`);
      return;
    }
    if (nick === s.nick) {
      conn.send(`! you are already ${nick}`);
      return;
    }
    if (!(await this.transport.claimNick(s.id, nick))) {
      conn.send(`! nick ${nick} is already taken`);
      return;
    }
    if (s.phase !== "chatting") return;
    this.logger.debug({ conn: conn.id, from: s.nick, to: nick }, "rename");
    await this.renamed(conn, nick);
  }

  private async renamed(conn: ChatConn, nick: string): Promise<void> {
    const s = conn.state;
    const old = s.nick;
    if (this.byNick.get(nickKey(old)) === conn) this.byNick.delete(nickKey(old));
    this.byNick.set(nickKey(nick), conn);
    s.nick = nick;
    await this.transport.publish({ kind: "rename", room: s.room, user: { id: s.id, nick }, from: old });
  }

  /** The transport gave user `id`'s nick to another server's user (after a Redis outage). */
  private nickLost(id: string, nick: string): void {
    const conn = this.byNick.get(nickKey(nick));
    if (conn === undefined || conn.state.id !== id) return;
    // Private messages to the nick are for the other server's user from now on.
    this.byNick.delete(nickKey(nick));
    conn.state.lostNick = nick;
    // Otherwise the command running now drains it, before the user's next line.
    if (!conn.state.busy) void this.drainBacklog(conn);
  }

  private async renameAway(conn: ChatConn, lost: string): Promise<void> {
    const s = conn.state;
    s.lostNick = undefined;
    if (nickKey(s.nick) !== nickKey(lost)) return; // renamed meanwhile
    const guest = await this.claimGuestNick(s.id);
    if (guest === undefined) {
      conn.close("closed by service", `! your nick ${lost} was taken and no guest nick is available`);
      return;
    }
    if (conn.status !== "open" || s.phase !== "chatting") {
      await this.transport.releaseNick(s.id);
      return;
    }
    this.nickConflicts++;
    this.logger.warn(
      { conn: conn.id, nick: lost, now: guest },
      "nick was taken on another server during a Redis outage: user renamed",
    );
    conn.send(
      `* your nick ${lost} was taken on another server during the Redis outage; you are now ${guest}`,
    );
    await this.renamed(conn, guest);
  }

  private async join(conn: ChatConn, name: string): Promise<void> {
    const s = conn.state;
    const room = normaliseRoom(name);
    if (room === undefined) {
      conn.send(`! invalid room "${name}": use # and 1-32 letters, digits, _ or -`);
      return;
    }
    if (room === s.room) {
      conn.send(`! you are already in ${room}`);
      return;
    }
    await this.leaveRoom(conn, `moved to ${room}`);
    await this.enterRoom(conn, room);
  }

  private async listRooms(conn: ChatConn): Promise<void> {
    const rooms = await this.transport.rooms();
    conn.send(`* rooms: ${rooms.map((r) => `${r.room} (${r.members})`).join(", ")}`);
  }

  private async who(conn: ChatConn): Promise<void> {
    const room = conn.state.room;
    const members = await this.transport.who(room);
    const list = members.map((m) => `${m.nick} (idle ${formatIdle(m.idleMs)})`).join(", ");
    conn.send(`* ${members.length} in ${room}: ${list}`);
  }

  private async privateMessage(conn: ChatConn, to: string, text: string): Promise<void> {
    const s = conn.state;
    const bytes = Buffer.byteLength(text);
    if (bytes > this.settings.maxMessageBytes) {
      conn.send(`! message too long (${bytes} bytes, limit ${this.settings.maxMessageBytes}): not sent`);
      return;
    }
    const target = await this.transport.findNick(to);
    if (target === undefined) {
      conn.send(`! no such user: ${to}`);
      return;
    }
    await this.transport.publish({ kind: "private", to: target, from: { id: s.id, nick: s.nick }, text });
    conn.send(`-> *${target}* ${text}`);
  }

  // --- rooms ---------------------------------------------------------------------------------

  private async enterRoom(conn: ChatConn, room: string): Promise<void> {
    const s = conn.state;
    const history = await this.transport.history(room);
    if (conn.status !== "open" || s.phase !== "chatting") return;
    if (history.length > 0) this.replay(conn, room, history);
    s.room = room;
    let members = this.rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(room, members);
    }
    members.add(conn);
    const user = { id: s.id, nick: s.nick };
    await this.transport.enterRoom(room, user);
    await this.transport.publish({ kind: "join", room, user });
  }

  private replay(conn: ChatConn, room: string, history: readonly HistoryEvent[]): void {
    conn.send(`* last ${history.length} ${history.length === 1 ? "message" : "messages"} in ${room}:`);
    for (const event of history) conn.send(renderEvent(event));
    conn.send("* end of history");
  }

  private async leaveRoom(conn: ChatConn, reason: string): Promise<void> {
    const s = conn.state;
    const room = s.room;
    if (room === "") return;
    const members = this.rooms.get(room);
    if (members !== undefined) {
      members.delete(conn);
      if (members.size === 0) this.rooms.delete(room);
    }
    s.room = "";
    await this.transport.leaveRoom(room, s.id);
    await this.transport.publish({ kind: "leave", room, user: { id: s.id, nick: s.nick }, reason });
  }

  // --- fan-out ---------------------------------------------------------------------------------

  /** An event from the transport: render it once, queue the same Buffer for each local recipient. */
  private deliver(event: ChatEvent): void {
    if (event.kind === "private") {
      const target = this.byNick.get(nickKey(event.to));
      if (target !== undefined && target.status === "open") target.send(renderEvent(event));
      return;
    }
    const members = this.rooms.get(event.room);
    if (members === undefined) return;
    const line = Buffer.from(renderEvent(event));
    const skip =
      (event.kind === "say" || event.kind === "action") && !this.settings.echoSelf ? event.from.id : "";
    for (const conn of members) {
      if (conn.status !== "open" || conn.state.id === skip) continue;
      conn.send(line);
    }
  }

  // --- housekeeping --------------------------------------------------------------------------------

  private startSweep(): void {
    if (this.sweepTimer !== undefined) return;
    // One timer for every user waiting to authenticate, not one per connection.
    const every = Math.max(50, Math.min(1000, Math.floor(this.settings.passTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const now = Date.now();
    for (const conn of this.waiting) {
      if (conn.state.passDeadline > now) continue;
      this.waiting.delete(conn);
      this.logger.info({ conn: conn.id, remote: conn.remoteAddress }, "password: timed out, disconnecting");
      conn.close(
        "closed by service",
        `! no password within ${formatDuration(this.settings.passTimeoutMs)}, disconnecting`,
      );
    }
  }

  private settle(result: MaybePromise<void>, what: string): void {
    if (isPromise(result)) result.catch((err: unknown) => this.failed(what, err));
  }

  private failed(what: string, err: unknown): void {
    this.logger.error({ err, what }, "chat transport failed");
  }
}
