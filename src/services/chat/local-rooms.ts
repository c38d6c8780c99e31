// Room membership on this process: the local members of each room and the local
// users by nick. Entering a room replays its history (unless the user opted out) and announces the user;
// leaving and renaming keep the transport's shared records in step. An nc user is in
// one room at a time; an IRC user in any number (ChatSession.rooms).
import { replay } from "./delivery.js";
import type { HistoryEvent } from "./events.js";
import { prefixOf } from "./irc/render.js";
import { nickKey } from "./names.js";
import { type ChatConn, userOf } from "./session.js";
import type { ChatTransport } from "./transport.js";

export class LocalRooms {
  /** Local members of each room. */
  private readonly rooms = new Map<string, Set<ChatConn>>();
  /** Local users by nick key, for private messages. */
  private readonly byNick = new Map<string, ChatConn>();

  constructor(private readonly transport: ChatTransport) {}

  /** Rooms with at least one local member. */
  get roomCount(): number {
    return this.rooms.size;
  }

  /** Local users who are in a room (an IRC user in several counts once; read when scraped). */
  get userCount(): number {
    const users = new Set<ChatConn>();
    for (const members of this.rooms.values()) for (const conn of members) users.add(conn);
    return users.size;
  }

  members(room: string): ReadonlySet<ChatConn> | undefined {
    return this.rooms.get(room);
  }

  withNick(nick: string): ChatConn | undefined {
    return this.byNick.get(nickKey(nick));
  }

  /** Indexes the user under their (new) nick. */
  addNick(conn: ChatConn): void {
    this.byNick.set(nickKey(conn.state.nick), conn);
  }

  /** Drops `nick` from the index if `conn` holds it there. */
  dropNick(conn: ChatConn, nick: string): void {
    if (this.byNick.get(nickKey(nick)) === conn) this.byNick.delete(nickKey(nick));
  }

  /** Replays the room's history to the user (`show`: how their dialect shows it), adds them and announces them. */
  async enter(
    conn: ChatConn,
    room: string,
    show: (conn: ChatConn, room: string, history: readonly HistoryEvent[]) => void = replayAny,
  ): Promise<void> {
    const s = conn.state;
    const user = userOf(conn);
    // First: a shared transport listens on the room's events from here on, so nothing
    // said after the history read below is missed.
    await this.transport.enterRoom(room, user);
    // A user who opted out costs no history read.
    const history = s.replayOnJoin ? await this.transport.history(room) : [];
    if (conn.status !== "open" || s.phase !== "chatting") {
      await this.transport.leaveRoom(room, s.id);
      return;
    }
    show(conn, room, history);
    s.room = room;
    s.rooms.add(room);
    let members = this.rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(room, members);
    }
    members.add(conn);
    await this.transport.publish({ kind: "join", room, user });
  }

  /** Takes the user out of `room` (default: their current room), telling its members why. */
  async leave(conn: ChatConn, reason: string, room = conn.state.room): Promise<void> {
    const s = conn.state;
    if (room === "" || !s.rooms.delete(room)) return;
    const members = this.rooms.get(room);
    if (members !== undefined) {
      members.delete(conn);
      if (members.size === 0) this.rooms.delete(room);
    }
    if (s.room === room) s.room = [...s.rooms].at(-1) ?? "";
    await this.transport.leaveRoom(room, s.id);
    await this.transport.publish({ kind: "leave", room, user: userOf(conn), reason });
  }

  /** Takes the user out of every room they are in (they are gone). */
  async leaveAll(conn: ChatConn, reason: string): Promise<void> {
    for (const room of [...conn.state.rooms]) await this.leave(conn, reason, room);
  }

  /** The user now holds `nick` (already claimed): re-index and announce it in each of their rooms. */
  async rename(conn: ChatConn, nick: string): Promise<void> {
    const s = conn.state;
    const old = s.nick;
    this.dropNick(conn, old);
    s.nick = nick;
    this.addNick(conn);
    const user = userOf(conn);
    // Delivery skips an IRC user's own NICK: they may share no room with anyone.
    if (s.dialect === "irc") conn.send(`:${prefixOf(user, old)} NICK :${nick}`);
    for (const room of [...s.rooms]) await this.transport.publish({ kind: "rename", room, user, from: old });
  }
}

/** The nc replay, when there is anything to replay. */
function replayAny(conn: ChatConn, room: string, history: readonly HistoryEvent[]): void {
  if (history.length > 0) replay(conn, room, history);
}
