// What the IRC door sends that is not a chat event: numerics, server notices, PONG,
// and the liveness bookkeeping a line from the client refreshes.
import { coarseClock } from "../../../core/clock.js";
import type { ChatConn, IrcState } from "../session.js";
import { SERVER } from "./render.js";

/** Whom a numeric addresses: the nick, or `*` before the client has one. */
export function target(conn: ChatConn): string {
  return conn.state.nick === "" ? "*" : conn.state.nick;
}

/**
 * A numeric reply: `:echoplex 433 * alice :Nickname is already in use`. The last
 * parameter is the trailing one (it may hold spaces).
 */
export function numeric(conn: ChatConn, code: string, ...params: string[]): void {
  const last = params.length - 1;
  const middle = params.slice(0, last).join(" ");
  const trailing = last < 0 ? "" : ` :${params[last]}`;
  conn.send(`:${SERVER} ${code} ${target(conn)}${middle === "" ? "" : ` ${middle}`}${trailing}`);
}

/** A notice from the server to the user (flood control, a refusal that has no numeric). */
export function ircSay(conn: ChatConn, text: string): void {
  conn.send(`:${SERVER} NOTICE ${target(conn)} :${text}`);
}

/** Any line from the client shows it is alive: no PING owed. */
export function ircSeen(irc: IrcState): void {
  irc.lastSeen = coarseClock.now;
  irc.pingSent = 0;
}

/** Error numerics by name, for the handlers and the tests that read them. */
export const ERR = {
  NOSUCHNICK: "401",
  NOSUCHCHANNEL: "403",
  CANNOTSENDTOCHAN: "404",
  NORECIPIENT: "411",
  NOTEXTTOSEND: "412",
  INPUTTOOLONG: "417",
  UNKNOWNCOMMAND: "421",
  NONICKNAMEGIVEN: "431",
  ERRONEUSNICKNAME: "432",
  NICKNAMEINUSE: "433",
  NOTONCHANNEL: "442",
  NOTREGISTERED: "451",
  NEEDMOREPARAMS: "461",
  ALREADYREGISTERED: "462",
  PASSWDMISMATCH: "464",
  CHANOPRIVSNEEDED: "482",
  USERSDONTMATCH: "502",
  INVALIDCAPCMD: "410",
} as const;
