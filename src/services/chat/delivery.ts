// Rendering events to this process's users: each room event is rendered once per
// dialect (nc text, IRC) into one Buffer that every recipient's outbox references (the
// engine writes each outbox once per tick); private messages go to the one local holder
// of the nick. A user in several rooms shared with the recipient announces a nick change
// or a quit once per room: the recipient is shown it once.
import { type ChatEvent, type HistoryEvent, renderEvent } from "./events.js";
import { ircEcho, ircShared, renderIrc } from "./irc/render.js";
import type { ChatConn } from "./session.js";

/** Who is local: the members of a room, the holder of a nick. */
export interface Recipients {
  members(room: string): ReadonlySet<ChatConn> | undefined;
  withNick(nick: string): ChatConn | undefined;
}

/** An event from the transport, to its local recipients (not the sender of a message, unless `echoSelf`). */
export function deliver(to: Recipients, event: ChatEvent, echoSelf: boolean): void {
  if (event.kind === "private") {
    const target = to.withNick(event.to);
    if (target === undefined || target.status !== "open") return;
    target.send(target.state.dialect === "irc" ? renderIrc(event) : renderEvent(event));
    return;
  }
  const members = to.members(event.room);
  if (members === undefined) return;
  let text: Buffer | undefined;
  let irc: Buffer | undefined;
  const skip = (event.kind === "say" || event.kind === "action") && !echoSelf ? event.from.id : "";
  const shared = ircShared(event);
  for (const conn of members) {
    const s = conn.state;
    if (conn.status !== "open") continue;
    if (s.dialect === "text") {
      if (s.id === skip) continue;
      text ??= Buffer.from(renderEvent(event));
      conn.send(text);
      continue;
    }
    if (s.id === skip && !s.irc!.caps.has("echo-message")) continue;
    // Their own JOIN and NICK were answered to them at once (irc/channels.ts).
    if (!ircEcho(event, s.id)) continue;
    if (shared !== undefined) {
      if (s.lastShared === shared) continue;
      s.lastShared = shared;
    }
    irc ??= Buffer.from(renderIrc(event));
    conn.send(irc);
  }
}

/** A room's last messages, to someone who just joined it or asked for them (/history). */
export function replay(conn: ChatConn, room: string, history: readonly HistoryEvent[]): void {
  conn.send(`* last ${history.length} ${history.length === 1 ? "message" : "messages"} in ${room}:`);
  for (const event of history) conn.send(renderEvent(event));
  conn.send("* end of history");
}
