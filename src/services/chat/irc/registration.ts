// An IRC client's registration: CAP negotiation (LS, REQ, LIST, END), PASS, NICK and
// USER, then the welcome numerics 001-005 with ISUPPORT and the MOTD. The nick is
// claimed through the transport like an nc user's /nick, so it is unique on every door
// and every server sharing a Redis.
import type { ChatParts } from "../command-handlers.js";
import { nickError } from "../names.js";
import { type ChatConn, userOf } from "../session.js";
import type { MaybePromise } from "../transport.js";
import type { IrcMessage } from "./message.js";
import { prefixOf, SERVER } from "./render.js";
import { ERR, numeric, target } from "./replies.js";

/** Capabilities a client may request. `echoplex/no-history`: no history on JOIN (for bots). */
export const CAPABILITIES = ["server-time", "echo-message", "echoplex/no-history"] as const;

/** ISUPPORT (005): what a client may assume of names. Nicks and channels are those of names.ts. */
export const ISUPPORT = [
  "CHANTYPES=#",
  "NICKLEN=32",
  "CHANNELLEN=33",
  "CASEMAPPING=ascii",
  "NETWORK=echoplex",
  "BOT=B",
];

/** A line before the client is registered. */
export function register(parts: ChatParts, conn: ChatConn, msg: IrcMessage): MaybePromise<void> {
  const irc = conn.state.irc!;
  switch (msg.command) {
    case "CAP":
      return cap(parts, conn, msg);
    case "PASS":
      if (msg.params.length < 1) return numeric(conn, ERR.NEEDMOREPARAMS, "PASS", "Not enough parameters");
      irc.pass = msg.params[0];
      return;
    case "NICK":
      return registerNick(parts, conn, msg.params[0]);
    case "USER":
      if (msg.params.length < 4 || msg.params[0] === "") {
        return numeric(conn, ERR.NEEDMOREPARAMS, "USER", "Not enough parameters");
      }
      irc.user = msg.params[0]!;
      return complete(parts, conn);
    case "PING":
      return pong(conn, msg);
    case "PONG":
      return;
    case "QUIT":
      conn.close("closed by service", "ERROR :Closing link: quit");
      return;
    default:
      return numeric(conn, ERR.NOTREGISTERED, "You have not registered");
  }
}

export function pong(conn: ChatConn, msg: IrcMessage): void {
  if (msg.params.length < 1) {
    numeric(conn, ERR.NEEDMOREPARAMS, "PING", "Not enough parameters");
    return;
  }
  conn.send(`:${SERVER} PONG ${SERVER} :${msg.params[0]}`);
}

/** Validates and claims a nick: 431, 432 or 433 when it cannot be had. True when claimed. */
export async function claim(parts: ChatParts, conn: ChatConn, nick: string | undefined): Promise<boolean> {
  if (nick === undefined || nick === "") {
    numeric(conn, ERR.NONICKNAMEGIVEN, "No nickname given");
    return false;
  }
  if (nickError(nick) !== undefined) {
    numeric(conn, ERR.ERRONEUSNICKNAME, nick, "Erroneous nickname: use 1-32 letters, digits, _ or -");
    return false;
  }
  const s = conn.state;
  const ok = await parts.transport.claimNick(s.id, nick);
  if (conn.status !== "open" || s.phase === "gone") {
    // closed() ran while we waited and released only what it knew of.
    if (ok) await parts.transport.releaseNick(s.id);
    return false;
  }
  if (!ok) numeric(conn, ERR.NICKNAMEINUSE, nick, "Nickname is already in use");
  return ok;
}

async function registerNick(parts: ChatParts, conn: ChatConn, nick: string | undefined): Promise<void> {
  if (!(await claim(parts, conn, nick))) return;
  conn.state.nick = nick!;
  return complete(parts, conn);
}

export function cap(parts: ChatParts, conn: ChatConn, msg: IrcMessage): MaybePromise<void> {
  const s = conn.state;
  const irc = s.irc!;
  const sub = msg.params[0]?.toUpperCase();
  const registering = s.phase === "registering";
  switch (sub) {
    case "LS":
      if (registering) irc.capNegotiating = true;
      conn.send(`:${SERVER} CAP ${target(conn)} LS :${CAPABILITIES.join(" ")}`);
      return;
    case "LIST":
      conn.send(`:${SERVER} CAP ${target(conn)} LIST :${[...irc.caps].join(" ")}`);
      return;
    case "REQ": {
      if (registering) irc.capNegotiating = true;
      const asked = (msg.params[1] ?? "").trim();
      const names = asked.split(" ").filter((c) => c !== "");
      const known = (c: string) => (CAPABILITIES as readonly string[]).includes(c.replace(/^-/, ""));
      if (names.length === 0 || !names.every(known)) {
        conn.send(`:${SERVER} CAP ${target(conn)} NAK :${asked}`);
        return;
      }
      for (const c of names) {
        if (c.startsWith("-")) irc.caps.delete(c.slice(1));
        else irc.caps.add(c);
      }
      s.replayOnJoin = !irc.caps.has("echoplex/no-history") && !irc.modes.has("B");
      conn.send(`:${SERVER} CAP ${target(conn)} ACK :${asked}`);
      return;
    }
    case "END":
      irc.capNegotiating = false;
      return registering ? complete(parts, conn) : undefined;
    case undefined:
      return numeric(conn, ERR.NEEDMOREPARAMS, "CAP", "Not enough parameters");
    default:
      return numeric(conn, ERR.INVALIDCAPCMD, sub, "Invalid CAP command");
  }
}

/** Registers the client once it has a nick, a user and no CAP negotiation open; checks PASS first. */
function complete(parts: ChatParts, conn: ChatConn): void {
  const s = conn.state;
  const irc = s.irc!;
  if (s.phase !== "registering" || s.nick === "" || irc.user === "" || irc.capNegotiating) return;
  const password = parts.settings.password;
  if (password !== undefined && irc.pass !== password) {
    parts.logger.info({ conn: conn.id, remote: conn.remoteAddress }, "irc: wrong password");
    parts.countError("ERR_BAD_PASSWORD");
    numeric(conn, ERR.PASSWDMISMATCH, "Password incorrect");
    conn.close("closed by service", "ERROR :Closing link: bad password");
    return;
  }
  s.phase = "chatting";
  parts.rooms.addNick(conn);
  parts.logger.debug({ conn: conn.id, nick: s.nick }, "irc: registered");
  welcome(parts, conn);
}

function welcome(parts: ChatParts, conn: ChatConn): void {
  const nick = conn.state.nick;
  numeric(conn, "001", `Welcome to echoplex chat, ${prefixOf(userOf(conn))}`);
  numeric(conn, "002", `Your host is ${SERVER}, running echoplex`);
  numeric(conn, "003", "This server was created when it started");
  conn.send(`:${SERVER} 004 ${nick} ${SERVER} echoplex B n`);
  conn.send(`:${SERVER} 005 ${nick} ${ISUPPORT.join(" ")} :are supported by this server`);
  motd(parts, conn);
}

/** 375/372/376 with --motd, else 422. */
export function motd(parts: ChatParts, conn: ChatConn): void {
  const text = parts.settings.motd;
  if (text === undefined) {
    numeric(conn, "422", "MOTD File is missing");
    return;
  }
  numeric(conn, "375", `- ${SERVER} Message of the day -`);
  numeric(conn, "372", `- ${text}`);
  numeric(conn, "376", "End of /MOTD command.");
}
