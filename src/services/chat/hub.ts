// The chat model of one process, as a coordinator: a user's life (connect, the
// password gate, admission, close), flood control and the per-user ordering of
// lines while an asynchronous command runs. What commands do is command-handlers.ts,
// room membership local-rooms.ts, the fan-out of events delivery.ts.
import type { CloseReason } from "../../core/connection.js";
import type { Logger } from "../../core/logger.js";
import type { ErrorCode } from "../../errors.js";
import { type ChatParts, runCommand } from "./command-handlers.js";
import { parseCommand } from "./commands.js";
import { deliver } from "./delivery.js";
import { claimGuestNick, renameAway } from "./guest-nicks.js";
import { ircLine } from "./irc/commands.js";
import { ircSay, ircSeen } from "./irc/replies.js";
import { LocalRooms } from "./local-rooms.js";
import { PasswordGate } from "./password-gate.js";
import { sanitize } from "./sanitize.js";
import { type ChatConn, type ChatSession, type ChatSettings, type Dialect, newSession } from "./session.js";
import { type ChatTransport, isPromise, type MaybePromise } from "./transport.js";

export { type ChatSession, type ChatSettings, DEFAULT_CHAT_SETTINGS } from "./session.js";

/** Lines kept per user while one of their commands waits for the transport. */
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

export class ChatHub {
  private readonly rooms: LocalRooms;
  private readonly gate: PasswordGate;
  private readonly parts: ChatParts;
  private readonly subscribed: MaybePromise<void>;

  /** Rooms with at least one member on this process (a metric). */
  get localRoomCount(): number {
    return this.rooms.roomCount;
  }

  /** Users on this process who are in a room (a metric). */
  get localUserCount(): number {
    return this.rooms.userCount;
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
    this.rooms = new LocalRooms(transport);
    this.gate = new PasswordGate(settings, logger, (conn) => this.admit(conn));
    this.parts = {
      transport,
      settings,
      logger,
      rooms: this.rooms,
      countError: (code) => this.countError(code),
    };
    this.subscribed = transport.subscribe((event) => deliver(this.rooms, event, settings.echoSelf));
    // Not logged here: ready() (awaited by ChatServer.listen) rejects with the reason.
    if (isPromise(this.subscribed)) this.subscribed.catch(() => undefined);
    transport.onNickLost?.((id, nick) => this.nickLost(id, nick));
  }

  /** Resolves once the transport delivers events to this hub. */
  async ready(): Promise<void> {
    await this.subscribed;
  }

  newSession(dialect: Dialect = "text"): ChatSession {
    return newSession(this.settings, dialect);
  }

  // --- connection life ---------------------------------------------------------------

  connected(conn: ChatConn): void {
    // The IRC doors are another engine server, numbering its connections from 1 too.
    conn.state.id = `${this.settings.instance}:${conn.state.dialect === "irc" ? "i" : ""}${conn.id}`;
    // An IRC client registers (irc/registration.ts): PASS, NICK, USER.
    if (conn.state.dialect === "irc") return;
    if (this.gate.required) this.gate.greet(conn);
    else this.run(conn, this.admit(conn));
  }

  /** A line from a user. Returns a promise while an asynchronous command runs (the engine waits for it on shutdown). */
  message(conn: ChatConn, payload: Buffer): void | Promise<void> {
    const s = conn.state;
    if (s.phase === "gone") return;
    if (s.irc !== undefined) ircSeen(s.irc);
    // A registering IRC client sends its burst of CAP, NICK and USER at once (the registration deadline bounds it).
    const verdict = s.phase === "registering" ? "pass" : s.bucket.take(Date.now());
    if (verdict === "disconnect") {
      this.logger.warn(
        { conn: conn.id, remote: conn.remoteAddress, nick: s.nick },
        "flooding: disconnecting",
      );
      this.countError("ERR_RATE_LIMITED");
      conn.close("rate limited", this.farewell(conn, "flooding: disconnecting"));
      return;
    }
    if (verdict === "drop") {
      if (!s.bucket.warned) {
        s.bucket.warned = true;
        const { rate, burst } = this.settings.flood;
        this.logger.info({ conn: conn.id, nick: s.nick }, "flood control: dropping messages");
        this.say(
          conn,
          `flood control: slow down (limit ${rate} messages/s, burst ${burst}); messages dropped`,
        );
      }
      return;
    }
    if (s.busy) {
      if (s.backlog.length >= MAX_BACKLOG) {
        this.say(conn, "server busy: message dropped");
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
    this.gate.forget(conn);
    const wasChatting = s.phase === "chatting";
    s.phase = "gone";
    s.backlog.length = 0;
    if (!wasChatting) {
      if (s.nick !== "") this.settle(this.transport.releaseNick(s.id), "release nick");
      return;
    }
    this.rooms.dropNick(conn, s.nick);
    const leave = s.leaveReason ?? NOTICE_LEAVE_REASONS[reason] ?? reason;
    this.settle(this.rooms.leaveAll(conn, leave), "leave");
    this.settle(this.transport.releaseNick(s.id), "release nick");
  }

  /** Stops the password deadlines and closes the transport. */
  async close(): Promise<void> {
    this.gate.stop();
    await this.transport.close();
  }

  /** Assigns a guest nick and puts the user in the default room. */
  private async admit(conn: ChatConn): Promise<void> {
    const s = conn.state;
    s.phase = "admitting";
    s.nick = (await claimGuestNick(this.transport, s.id)) ?? "";
    if (s.nick === "") {
      conn.close("closed by service", this.farewell(conn, "no guest nick available, try again later"));
      return;
    }
    if (conn.status !== "open" || s.phase !== "admitting") {
      if (s.nick !== "") await this.transport.releaseNick(s.id);
      return;
    }
    this.rooms.addNick(conn);
    s.phase = "chatting";
    conn.send(
      `* Welcome to echoplex chat, ${s.nick}! You are in ${this.settings.room}. Type /help for commands.`,
    );
    if (this.settings.motd !== undefined) conn.send(`* ${this.settings.motd}`);
    await this.rooms.enter(conn, this.settings.room);
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
        if (conn.status === "open") this.say(conn, "internal error, try again");
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

  private line(conn: ChatConn, payload: Buffer): void | Promise<void> {
    const s = conn.state;
    // IRC lines are parsed before sanitising: CTCP ACTION is marked with control characters.
    if (s.dialect === "irc") return ircLine(this.parts, conn, payload.toString("utf8"));
    const text = sanitize(payload.toString("utf8")).trim();
    if (s.phase === "password") return this.gate.line(conn, text);
    if (s.phase !== "chatting" || text === "") return;
    return runCommand(this.parts, conn, parseCommand(text));
  }

  // --- nicks lost to another server -------------------------------------------------------

  /** The transport gave user `id`'s nick to another server's user (after a Redis outage). */
  private nickLost(id: string, nick: string): void {
    const conn = this.rooms.withNick(nick);
    if (conn === undefined || conn.state.id !== id) return;
    // Private messages to the nick are for the other server's user from now on.
    this.rooms.dropNick(conn, nick);
    conn.state.lostNick = nick;
    // Otherwise the command running now drains it, before the user's next line.
    if (!conn.state.busy) void this.drainBacklog(conn);
  }

  private renameAway(conn: ChatConn, lost: string): Promise<void> {
    conn.state.lostNick = undefined;
    return renameAway(this.parts, conn, lost, () => this.nickConflicts++);
  }

  /** A line from the server to the user, in their dialect. */
  private say(conn: ChatConn, text: string): void {
    if (conn.state.dialect === "irc") ircSay(conn, text);
    else conn.send(`! ${text}`);
  }

  /** The last line before the server closes the connection, in the user's dialect. */
  private farewell(conn: ChatConn, text: string): string {
    return conn.state.dialect === "irc" ? `ERROR :Closing link: ${text}` : `! ${text}`;
  }

  private settle(result: MaybePromise<void>, what: string): void {
    if (isPromise(result)) result.catch((err: unknown) => this.failed(what, err));
  }

  private failed(what: string, err: unknown): void {
    this.logger.error({ err, what }, "chat transport failed");
  }
}
