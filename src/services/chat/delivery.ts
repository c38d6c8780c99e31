// Rendering events to this process's users: each room event is rendered once into
// one Buffer that every recipient's outbox references (the engine writes each outbox
// once per tick); private messages go to the one local holder of the nick.
import { type ChatEvent, type HistoryEvent, renderEvent } from "./events.js";
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
    if (target !== undefined && target.status === "open") target.send(renderEvent(event));
    return;
  }
  const members = to.members(event.room);
  if (members === undefined) return;
  const line = Buffer.from(renderEvent(event));
  const skip = (event.kind === "say" || event.kind === "action") && !echoSelf ? event.from.id : "";
  for (const conn of members) {
    if (conn.status !== "open" || conn.state.id === skip) continue;
    conn.send(line);
  }
}

/** A room's last messages, to someone who just joined it or asked for them (/history). */
export function replay(conn: ChatConn, room: string, history: readonly HistoryEvent[]): void {
  conn.send(`* last ${history.length} ${history.length === 1 ? "message" : "messages"} in ${room}:`);
  for (const event of history) conn.send(renderEvent(event));
  conn.send("* end of history");
}
