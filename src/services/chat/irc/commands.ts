// One line from an IRC client: the 512-byte limit (417, as ergo answers), then
// registration (registration.ts) or the command of a registered user: channels
// (channels.ts), PRIVMSG and NOTICE, NICK, WHOIS, QUIT, PING. Text is sanitised as an
// nc user's is, after CTCP ACTION is recognised.
import type { ChatParts } from "../command-handlers.js";
import { sanitize } from "../sanitize.js";
import { type ChatConn, userOf } from "../session.js";
import type { MaybePromise } from "../transport.js";
import { join, list, mode, namesCommand, part, topic, who } from "./channels.js";
import { type IrcMessage, parseIrcLine } from "./message.js";
import { cap, claim, motd, pong, register } from "./registration.js";
import { prefixOf, SERVER } from "./render.js";
import { ERR, ircSay, numeric } from "./replies.js";

/** RFC 1459's line limit, CR LF included; message tags (IRCv3) do not count. */
export const IRC_LINE_BYTES = 512;
/** The door's framing limit: 8191 bytes of tags and a 512-byte message (beyond it the connection is closed). */
export const IRC_MAX_LINE_BYTES = 8191 + IRC_LINE_BYTES;

export function ircLine(parts: ChatParts, conn: ChatConn, line: string): MaybePromise<void> {
  const untagged = line.startsWith("@") ? line.slice(line.indexOf(" ") + 1) : line;
  if (Buffer.byteLength(untagged) > IRC_LINE_BYTES - 2) {
    parts.countError("ERR_LINE_TOO_LONG");
    return numeric(conn, ERR.INPUTTOOLONG, "Input line was too long");
  }
  const msg = parseIrcLine(line);
  if (msg === undefined) return;
  const s = conn.state;
  if (s.phase === "registering") return register(parts, conn, msg);
  if (s.phase !== "chatting") return;
  return command(parts, conn, msg);
}

function command(parts: ChatParts, conn: ChatConn, msg: IrcMessage): MaybePromise<void> {
  switch (msg.command) {
    case "PRIVMSG":
    case "NOTICE":
      return message(parts, conn, msg);
    case "JOIN":
      return join(parts, conn, msg);
    case "PART":
      return part(parts, conn, msg);
    case "NAMES":
      return namesCommand(parts, conn, msg);
    case "WHO":
      return who(parts, conn, msg);
    case "LIST":
      return list(parts, conn);
    case "TOPIC":
      return topic(conn, msg);
    case "MODE":
      return mode(conn, msg);
    case "NICK":
      return nick(parts, conn, msg.params[0]);
    case "WHOIS":
      return whois(parts, conn, msg.params.at(-1));
    case "PING":
      return pong(conn, msg);
    case "PONG":
      return;
    case "CAP":
      return cap(parts, conn, msg);
    case "MOTD":
      return motd(parts, conn);
    case "PASS":
    case "USER":
      return numeric(conn, ERR.ALREADYREGISTERED, "You may not reregister");
    case "QUIT": {
      const reason = sanitize(msg.params[0] ?? "").trim();
      conn.state.leaveReason = reason === "" ? "quit" : `quit: ${reason}`;
      conn.close("closed by service", "ERROR :Closing link: quit");
      return;
    }
    default:
      return numeric(conn, ERR.UNKNOWNCOMMAND, msg.command, "Unknown command");
  }
}

const CTCP = "\x01";
const ACTION_START = `${CTCP}ACTION `;

/** The text of a CTCP ACTION (`\x01ACTION waves\x01`), or undefined. */
function actionText(raw: string): string | undefined {
  if (!raw.startsWith(ACTION_START)) return undefined;
  const end = raw.endsWith(CTCP) ? raw.length - 1 : raw.length;
  return raw.slice(ACTION_START.length, end);
}

/** PRIVMSG or NOTICE to a channel the user is in, or to a nick (NOTICE is never answered with an error). */
async function message(parts: ChatParts, conn: ChatConn, msg: IrcMessage): Promise<void> {
  const quiet = msg.command === "NOTICE";
  const [to, raw] = msg.params;
  if (to === undefined || to === "") {
    if (!quiet) numeric(conn, ERR.NORECIPIENT, `No recipient given (${msg.command})`);
    return;
  }
  if (raw === undefined || raw === "") {
    if (!quiet) numeric(conn, ERR.NOTEXTTOSEND, "No text to send");
    return;
  }
  const action = actionText(raw);
  // Other CTCP requests (VERSION, PING…) are not answered: there is no client behind nc users.
  if (action === undefined && raw.startsWith(CTCP)) return;
  const text = sanitize(action ?? raw).trim();
  if (text === "") return;
  const limit = parts.settings.maxMessageBytes;
  const bytes = Buffer.byteLength(text);
  if (bytes > limit) {
    ircSay(conn, `message too long (${bytes} bytes, limit ${limit}): not sent`);
    return;
  }
  const s = conn.state;
  const from = userOf(conn);
  if (to.startsWith("#")) {
    const room = to.toLowerCase();
    if (!s.rooms.has(room)) {
      if (!quiet) numeric(conn, ERR.CANNOTSENDTOCHAN, to, "Cannot send to channel (join it first)");
      return;
    }
    return parts.transport.publish({
      kind: action === undefined ? "say" : "action",
      room,
      from,
      text,
      ts: Date.now(),
    });
  }
  const target = await parts.transport.findNick(to);
  if (target === undefined) {
    if (!quiet) numeric(conn, ERR.NOSUCHNICK, to, "No such nick/channel");
    return;
  }
  await parts.transport.publish({
    kind: "private",
    to: target,
    from,
    text: action === undefined ? text : `* ${s.nick} ${text}`,
  });
  if (s.irc!.caps.has("echo-message") && conn.status === "open") {
    conn.send(`:${prefixOf(from)} ${msg.command} ${target} :${action === undefined ? text : raw}`);
  }
}

async function nick(parts: ChatParts, conn: ChatConn, nick: string | undefined): Promise<void> {
  const s = conn.state;
  if (nick === s.nick) return;
  if (!(await claim(parts, conn, nick))) return;
  if (s.phase !== "chatting") return;
  parts.logger.debug({ conn: conn.id, from: s.nick, to: nick }, "rename");
  await parts.rooms.rename(conn, nick!);
}

/** 311 and 318 for a user on any door (or 401). */
async function whois(parts: ChatParts, conn: ChatConn, nick: string | undefined): Promise<void> {
  if (nick === undefined) return numeric(conn, ERR.NONICKNAMEGIVEN, "No nickname given");
  const found = await parts.transport.findNick(nick);
  if (conn.status !== "open") return;
  if (found === undefined) numeric(conn, ERR.NOSUCHNICK, nick, "No such nick/channel");
  else numeric(conn, "311", found, found, SERVER, "*", found);
  numeric(conn, "318", nick, "End of /WHOIS list");
}
