// Guest nicks (`guest-N`, numbered by the transport so they are unique across
// servers): the nick of every new user, and the way out for a user whose nick
// another server's user kept after a Redis outage.
import type { ChatParts } from "./command-handlers.js";
import { ircSay } from "./irc/replies.js";
import { nickKey } from "./names.js";
import type { ChatConn } from "./session.js";
import type { ChatTransport } from "./transport.js";

/** A guest nick claimed for user `id`, or undefined if none could be had (bounded tries). */
export async function claimGuestNick(transport: ChatTransport, id: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const nick = `guest-${await transport.nextGuestNumber()}`;
    if (await transport.claimNick(id, nick)) return nick;
  }
  return undefined;
}

/**
 * Renames the user away from `lost` (kept by another server's user) to a guest nick,
 * telling them why; `conflict` counts it (not when they renamed or left meanwhile).
 */
export async function renameAway(
  parts: ChatParts,
  conn: ChatConn,
  lost: string,
  conflict: () => void,
): Promise<void> {
  const s = conn.state;
  if (nickKey(s.nick) !== nickKey(lost)) return; // renamed meanwhile
  const guest = await claimGuestNick(parts.transport, s.id);
  if (guest === undefined) {
    const why = `your nick ${lost} was taken and no guest nick is available`;
    conn.close(
      "closed by service",
      conn.state.dialect === "irc" ? `ERROR :Closing link: ${why}` : `! ${why}`,
    );
    return;
  }
  if (conn.status !== "open" || s.phase !== "chatting") {
    await parts.transport.releaseNick(s.id);
    return;
  }
  conflict();
  parts.logger.warn(
    { conn: conn.id, nick: lost, now: guest },
    "nick was taken on another server during a Redis outage: user renamed",
  );
  const notice = `your nick ${lost} was taken on another server during the Redis outage; you are now ${guest}`;
  if (conn.state.dialect === "irc") ircSay(conn, notice);
  else conn.send(`* ${notice}`);
  await parts.rooms.rename(conn, guest);
}
