// Chat events as IRC lines (pure): how nc, web and IRC users appear to an IRC client
// (`nick!user@host`), and which events an IRC client must see once however many of
// its channels they reach.
import type { ChatEvent, HistoryEvent, UserRef } from "../events.js";

/** The server's name in numerics and notices. */
export const SERVER = "echoplex";

/**
 * `nick!user@host` for any chat user: the user part is stable across nick changes (the
 * connection), the host part the server process, so clients can tell two guests apart.
 */
export function prefixOf(user: UserRef, nick = user.nick): string {
  const colon = user.id.lastIndexOf(":");
  const instance = colon < 0 ? "local" : user.id.slice(0, colon);
  return `${nick}!u${user.id.slice(colon + 1)}@${instance}.echoplex`;
}

/** Leave reasons that are a PART (the user is still connected); every other one is a QUIT. */
export function isPart(reason: string): boolean {
  return reason === "parted" || reason.startsWith("parted: ") || reason.startsWith("moved to ");
}

/** The PART reason a user gave (`PART #room :reason`) as the leave event's reason. */
export function partReason(message: string): string {
  return message === "" ? "parted" : `parted: ${message}`;
}

function partMessage(reason: string): string {
  if (reason === "parted") return "";
  return reason.startsWith("parted: ") ? reason.slice("parted: ".length) : reason;
}

/** The line an IRC client receives for `event` (without line ending). */
export function renderIrc(event: ChatEvent): string {
  switch (event.kind) {
    case "say":
      return `:${prefixOf(event.from)} PRIVMSG ${event.room} :${event.text}`;
    case "action":
      return `:${prefixOf(event.from)} PRIVMSG ${event.room} :\x01ACTION ${event.text}\x01`;
    case "join":
      return `:${prefixOf(event.user)} JOIN ${event.room}`;
    case "leave": {
      if (!isPart(event.reason)) return `:${prefixOf(event.user)} QUIT :${event.reason}`;
      const message = partMessage(event.reason);
      return `:${prefixOf(event.user)} PART ${event.room}${message === "" ? "" : ` :${message}`}`;
    }
    case "rename":
      return `:${prefixOf(event.user, event.from)} NICK :${event.user.nick}`;
    case "private":
      return `:${prefixOf(event.from)} PRIVMSG ${event.to} :${event.text}`;
    case "notice":
      return `:${SERVER} NOTICE ${event.room} :${event.text}`;
  }
}

/** A history message, with its time when the client negotiated `server-time`. */
export function renderIrcHistory(event: HistoryEvent, withTime: boolean): string {
  const line = renderIrc(event);
  return withTime ? `@time=${new Date(event.ts).toISOString()} ${line}` : line;
}

/**
 * The key of an event an IRC client must see once although it arrives once per shared
 * room (a nick change, a quit); undefined for any other event.
 */
export function ircShared(event: ChatEvent): string | undefined {
  if (event.kind === "rename") return `n ${event.user.id} ${event.user.nick}`;
  if (event.kind === "leave" && !isPart(event.reason)) return `q ${event.user.id}`;
  return undefined;
}

/** False for the user's own JOIN and NICK: the IRC door answered those to them directly. */
export function ircEcho(event: ChatEvent, id: string): boolean {
  return !((event.kind === "join" || event.kind === "rename") && event.user.id === id);
}
