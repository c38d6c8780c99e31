// IRC commands about channels (the chat's rooms): JOIN and PART of several at once,
// NAMES, WHO, LIST, TOPIC and MODE. Membership is local-rooms.ts's, as for nc users;
// an IRC user's own JOIN is answered before the history and the names.
import type { ChatParts } from "../command-handlers.js";
import type { HistoryEvent } from "../events.js";
import { nickKey, normaliseRoom } from "../names.js";
import { type ChatConn, userOf } from "../session.js";
import type { MaybePromise } from "../transport.js";
import type { IrcMessage } from "./message.js";
import { partReason, prefixOf, renderIrcHistory, SERVER } from "./render.js";
import { ERR, numeric } from "./replies.js";

/** Most channels one JOIN or PART acts on (a bound on one line's work). */
const MAX_TARGETS = 10;
/** Names per 353 line: 12 nicks of at most 32 bytes keep it well under 512. */
const NAMES_PER_LINE = 12;

/** `#Dev` → `#dev`; undefined unless it is a channel name the chat allows. */
export function ircRoom(name: string): string | undefined {
  return name.startsWith("#") ? normaliseRoom(name) : undefined;
}

function needMore(conn: ChatConn, command: string): void {
  numeric(conn, ERR.NEEDMOREPARAMS, command, "Not enough parameters");
}

function targets(list: string): string[] {
  return list
    .split(",")
    .filter((t) => t !== "")
    .slice(0, MAX_TARGETS);
}

export async function join(parts: ChatParts, conn: ChatConn, msg: IrcMessage): Promise<void> {
  const list = msg.params[0];
  if (list === undefined || list === "") return needMore(conn, "JOIN");
  const s = conn.state;
  if (list === "0") {
    for (const room of [...s.rooms]) await leaveOne(parts, conn, room, "");
    return;
  }
  for (const name of targets(list)) {
    const room = ircRoom(name);
    if (room === undefined) {
      numeric(conn, ERR.NOSUCHCHANNEL, name, "No such channel: use # and 1-32 letters, digits, _ or -");
      continue;
    }
    if (s.rooms.has(room)) continue;
    conn.send(`:${prefixOf(userOf(conn))} JOIN ${room}`);
    await parts.rooms.enter(conn, room, showHistory);
    if (conn.status !== "open" || !s.rooms.has(room)) return;
    await names(parts, conn, room);
  }
}

/** The channel's last messages after the JOIN, with their time when `server-time` was negotiated. */
function showHistory(conn: ChatConn, room: string, history: readonly HistoryEvent[]): void {
  if (history.length === 0) return;
  const withTime = conn.state.irc!.caps.has("server-time");
  conn.send(`:${SERVER} NOTICE ${room} :last ${history.length} messages in ${room}:`);
  for (const event of history) conn.send(renderIrcHistory(event, withTime));
  conn.send(`:${SERVER} NOTICE ${room} :end of history`);
}

export async function part(parts: ChatParts, conn: ChatConn, msg: IrcMessage): Promise<void> {
  const list = msg.params[0];
  if (list === undefined || list === "") return needMore(conn, "PART");
  for (const name of targets(list)) {
    const room = ircRoom(name);
    if (room === undefined || !conn.state.rooms.has(room)) {
      numeric(conn, ERR.NOTONCHANNEL, name, "You're not on that channel");
      continue;
    }
    await leaveOne(parts, conn, room, msg.params[1] ?? "");
  }
}

async function leaveOne(parts: ChatParts, conn: ChatConn, room: string, message: string): Promise<void> {
  // The user is no longer a member when the PART is delivered: answered here.
  conn.send(`:${prefixOf(userOf(conn))} PART ${room}${message === "" ? "" : ` :${message}`}`);
  await parts.rooms.leave(conn, partReason(message), room);
}

/** 353 and 366, from the transport's members (every server's). */
export async function names(parts: ChatParts, conn: ChatConn, room: string): Promise<void> {
  const members = await parts.transport.who(room);
  if (conn.status !== "open") return;
  for (let i = 0; i < members.length; i += NAMES_PER_LINE) {
    const nicks = members.slice(i, i + NAMES_PER_LINE).map((m) => m.nick);
    numeric(conn, "353", "=", room, nicks.join(" "));
  }
  numeric(conn, "366", room, "End of /NAMES list");
}

export function namesCommand(parts: ChatParts, conn: ChatConn, msg: IrcMessage): MaybePromise<void> {
  const room = ircRoom(msg.params[0] ?? "");
  if (room === undefined) return numeric(conn, "366", msg.params[0] ?? "*", "End of /NAMES list");
  return names(parts, conn, room);
}

/** 352 per member of a channel (or the one user of a nick), then 315. */
export async function who(parts: ChatParts, conn: ChatConn, msg: IrcMessage): Promise<void> {
  const mask = msg.params[0] ?? "*";
  const room = ircRoom(mask);
  let nicks: string[] = [];
  if (room !== undefined) nicks = (await parts.transport.who(room)).map((m) => m.nick);
  else {
    const nick = await parts.transport.findNick(mask);
    if (nick !== undefined) nicks = [nick];
  }
  if (conn.status !== "open") return;
  for (const nick of nicks) {
    numeric(conn, "352", room ?? "*", nick, SERVER, SERVER, nick, "H", `0 ${nick}`);
  }
  numeric(conn, "315", mask, "End of /WHO list");
}

/** 321, a 322 per room (every server's), 323. */
export async function list(parts: ChatParts, conn: ChatConn): Promise<void> {
  const rooms = await parts.transport.rooms();
  if (conn.status !== "open") return;
  numeric(conn, "321", "Channel", "Users  Name");
  for (const r of rooms) numeric(conn, "322", r.room, String(r.members), "");
  numeric(conn, "323", "End of /LIST");
}

/** Topics are not kept: 331 to a member, 482 to one setting it. */
export function topic(conn: ChatConn, msg: IrcMessage): void {
  const name = msg.params[0];
  if (name === undefined) {
    needMore(conn, "TOPIC");
    return;
  }
  const room = ircRoom(name);
  if (room === undefined || !conn.state.rooms.has(room)) {
    numeric(conn, ERR.NOTONCHANNEL, name, "You're not on that channel");
    return;
  }
  if (msg.params.length >= 2) numeric(conn, ERR.CHANOPRIVSNEEDED, room, "Topics are not supported here");
  else numeric(conn, "331", room, "No topic is set");
}

/** Channel modes: none (324, an empty ban list). User modes: `+B` (a bot: no history on join). */
export function mode(conn: ChatConn, msg: IrcMessage): void {
  const name = msg.params[0];
  if (name === undefined) {
    needMore(conn, "MODE");
    return;
  }
  const s = conn.state;
  const irc = s.irc!;
  if (name.startsWith("#")) {
    const room = ircRoom(name) ?? name;
    if (msg.params[1] === "b" || msg.params[1] === "+b")
      numeric(conn, "368", room, "End of channel ban list");
    else numeric(conn, "324", room, "+");
    return;
  }
  if (nickKey(name) !== nickKey(s.nick)) {
    numeric(conn, ERR.USERSDONTMATCH, "Can't change mode for other users");
    return;
  }
  const change = msg.params[1];
  if (change === undefined) {
    numeric(conn, "221", `+${[...irc.modes].join("")}`);
    return;
  }
  let sign = "+";
  let applied = "";
  for (const ch of change) {
    if (ch === "+" || ch === "-") sign = ch;
    else if (ch === "B") {
      if (sign === "+") irc.modes.add("B");
      else irc.modes.delete("B");
      applied += `${sign}B`;
    }
  }
  s.replayOnJoin = !irc.caps.has("echoplex/no-history") && !irc.modes.has("B");
  if (applied !== "") conn.send(`:${s.nick} MODE ${s.nick} :${applied}`);
}
