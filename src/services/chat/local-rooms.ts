// Room membership on this process: the local members of each room and the local
// users by nick. Entering a room replays its history (unless the user opted out) and announces the user;
// leaving and renaming keep the transport's shared records in step.
import { replay } from "./delivery.js";
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

  /** Local users who are in a room. */
  get userCount(): number {
    let n = 0;
    for (const members of this.rooms.values()) n += members.size;
    return n;
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

  /** Replays the room's history to the user, adds them and announces them. */
  async enter(conn: ChatConn, room: string): Promise<void> {
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
    if (history.length > 0) replay(conn, room, history);
    s.room = room;
    let members = this.rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(room, members);
    }
    members.add(conn);
    await this.transport.publish({ kind: "join", room, user });
  }

  /** Takes the user out of their room, telling its members why. */
  async leave(conn: ChatConn, reason: string): Promise<void> {
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
    await this.transport.publish({ kind: "leave", room, user: userOf(conn), reason });
  }

  /** The user now holds `nick` (already claimed): re-index and announce it. */
  async rename(conn: ChatConn, nick: string): Promise<void> {
    const s = conn.state;
    const old = s.nick;
    this.dropNick(conn, old);
    s.nick = nick;
    this.addNick(conn);
    await this.transport.publish({ kind: "rename", room: s.room, user: userOf(conn), from: old });
  }
}
