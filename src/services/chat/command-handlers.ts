// What each command of an admitted user does (the password phase is password-gate.ts):
// the dispatch of a parsed line and one function per command. To add a command:
// parse it in commands.ts, then a case in runCommand and its function here.
import type { Logger } from "../../core/logger.js";
import type { ErrorCode } from "../../errors.js";
import { type ChatCommand, HELP_LINES } from "./commands.js";
import { replay } from "./delivery.js";
import type { LocalRooms } from "./local-rooms.js";
import { nickError, normaliseRoom } from "./names.js";
import { type ChatConn, type ChatSettings, userOf } from "./session.js";
import type { ChatTransport, MaybePromise } from "./transport.js";

/** What the commands act on: the hub's parts. */
export interface ChatParts {
  readonly transport: ChatTransport;
  readonly settings: ChatSettings;
  readonly logger: Logger;
  readonly rooms: LocalRooms;
  /** Counts an enforced limit or refusal in the engine's stats (a metric). */
  readonly countError: (code: ErrorCode) => void;
}

/** Runs one command of a chatting user; a promise while it waits for the transport. */
export function runCommand(parts: ChatParts, conn: ChatConn, cmd: ChatCommand): MaybePromise<void> {
  switch (cmd.name) {
    case "say":
    case "me":
      return say(parts, conn, cmd.name === "say" ? "say" : "action", cmd.text);
    case "nick":
      return nick(parts, conn, cmd.nick);
    case "join":
      return join(parts, conn, cmd.room);
    case "rooms":
      return listRooms(parts, conn);
    case "who":
      return who(parts, conn);
    case "msg":
      return privateMessage(parts, conn, cmd.to, cmd.text);
    case "quit":
      conn.state.leaveReason = cmd.reason === "" ? "quit" : `quit: ${cmd.reason}`;
      conn.close("closed by service", "* bye");
      return;
    case "help":
      for (const line of HELP_LINES) conn.send(line);
      return;
    case "history":
      return history(parts, conn, cmd.count);
    case "replay":
      conn.state.replayOnJoin = cmd.onJoin;
      conn.send(
        cmd.onJoin
          ? "* history on join: on"
          : "* history on join: off (rooms you join from now on; /history on to restore)",
      );
      return;
    case "pass":
      conn.send("! already authenticated");
      return;
    case "error":
      conn.send(`! ${cmd.message}`);
      return;
  }
}

/** Refuses (telling the user) a message longer than `--max-message`. */
function tooLong(parts: ChatParts, conn: ChatConn, text: string): boolean {
  const bytes = Buffer.byteLength(text);
  const limit = parts.settings.maxMessageBytes;
  if (bytes <= limit) return false;
  conn.send(`! message too long (${bytes} bytes, limit ${limit}): not sent`);
  return true;
}

function say(parts: ChatParts, conn: ChatConn, kind: "say" | "action", text: string): MaybePromise<void> {
  if (tooLong(parts, conn, text)) return;
  return parts.transport.publish({ kind, room: conn.state.room, from: userOf(conn), text, ts: Date.now() });
}

async function nick(parts: ChatParts, conn: ChatConn, nick: string): Promise<void> {
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
  if (!(await parts.transport.claimNick(s.id, nick))) {
    conn.send(`! nick ${nick} is already taken`);
    return;
  }
  if (s.phase !== "chatting") return;
  parts.logger.debug({ conn: conn.id, from: s.nick, to: nick }, "rename");
  await parts.rooms.rename(conn, nick);
}

async function join(parts: ChatParts, conn: ChatConn, name: string): Promise<void> {
  const room = normaliseRoom(name);
  if (room === undefined) {
    conn.send(`! invalid room "${name}": use # and 1-32 letters, digits, _ or -`);
    return;
  }
  if (room === conn.state.room) {
    conn.send(`! you are already in ${room}`);
    return;
  }
  await parts.rooms.leave(conn, `moved to ${room}`);
  await parts.rooms.enter(conn, room);
}

/** The room's last `count` messages (all it keeps when undefined), marked like the replay on join. */
async function history(parts: ChatParts, conn: ChatConn, count: number | undefined): Promise<void> {
  const room = conn.state.room;
  const kept = await parts.transport.history(room);
  if (conn.status !== "open" || conn.state.room !== room) return;
  if (kept.length === 0) {
    conn.send(`* no history in ${room}`);
    return;
  }
  replay(conn, room, count === undefined ? kept : kept.slice(-count));
}

async function listRooms(parts: ChatParts, conn: ChatConn): Promise<void> {
  const rooms = await parts.transport.rooms();
  conn.send(`* rooms: ${rooms.map((r) => `${r.room} (${r.members})`).join(", ")}`);
}

function formatIdle(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

async function who(parts: ChatParts, conn: ChatConn): Promise<void> {
  const room = conn.state.room;
  const members = await parts.transport.who(room);
  const list = members.map((m) => `${m.nick} (idle ${formatIdle(m.idleMs)})`).join(", ");
  conn.send(`* ${members.length} in ${room}: ${list}`);
}

async function privateMessage(parts: ChatParts, conn: ChatConn, to: string, text: string): Promise<void> {
  if (tooLong(parts, conn, text)) return;
  const target = await parts.transport.findNick(to);
  if (target === undefined) {
    conn.send(`! no such user: ${to}`);
    return;
  }
  await parts.transport.publish({ kind: "private", to: target, from: userOf(conn), text });
  conn.send(`-> *${target}* ${text}`);
}
