// Chat servers with flood control (echoplex chat: 5 messages/s per user by default)
// drop a sender's excess lines and tell only the sender: `! flood control: slow down
// (limit 5 messages/s, burst 10); messages dropped`, then `! flooding: disconnecting`.
// Without noticing, a run reports hundreds of lost deliveries and no reason; this
// finds those notices in what the senders receive, and says what to do instead.

/** The start of echoplex chat's flood notices, at the start of a line. */
const NOTICE = Buffer.from("\n! flood");
const LF = 0x0a;

/** Lines of a notice kept for the message, at most. */
const MAX_NOTICE_CHARS = 200;

/**
 * Watches one sender's stream for flood notices without splitting it into lines (the
 * senders also receive every other sender's messages): a search per chunk, plus the
 * few bytes that straddle two chunks.
 */
export function floodWatcher(onNotice: (line: string) => void): (chunk: Buffer) => void {
  // The stream starts at the start of a line.
  let tail = Buffer.from("\n");
  return (chunk: Buffer) => {
    // `at` is where NOTICE starts; its text after "\n! flood" starts at `rest` in the chunk.
    const edge = Buffer.concat([tail, chunk.subarray(0, NOTICE.length - 1)]);
    let at = edge.indexOf(NOTICE);
    let rest = at - tail.length + NOTICE.length;
    if (at < 0) {
      at = chunk.indexOf(NOTICE);
      rest = at + NOTICE.length;
    }
    if (at >= 0) onNotice(noticeLine(chunk, rest));
    const keep = NOTICE.length - 1;
    tail =
      chunk.length >= keep
        ? Buffer.from(chunk.subarray(chunk.length - keep))
        : Buffer.concat([tail, chunk]).subarray(-keep);
  };
}

/** "! flood" and the rest of the line from `rest` in the chunk (to the line's end, or the chunk's). */
function noticeLine(chunk: Buffer, rest: number): string {
  const end = chunk.indexOf(LF, rest);
  const text = chunk.subarray(rest, end < 0 ? chunk.length : end).toString("utf8");
  return `! flood${text}`.replace(/\r$/, "").slice(0, MAX_NOTICE_CHARS);
}

/** What the user should do, from the notice's limit (`limit N messages/s`) and the senders. */
export function floodHint(notice: string, senders: number, dropped: number): string {
  const limit = Number(/limit (\d+(?:\.\d+)?) messages\/s/.exec(notice)?.[1] ?? Number.NaN);
  const what =
    dropped > 0
      ? `dropped ${dropped.toLocaleString("en-US")} message${dropped === 1 ? "" : "s"}`
      : "dropped messages";
  const rate =
    Number.isFinite(limit) && limit > 0
      ? `--rate ${Math.max(1, Math.floor(limit * senders * 0.8))} or lower (its limit: ${limit} messages/s per sender; ${senders} sender${senders > 1 ? "s" : ""})`
      : "a lower --rate";
  return `the chat server's flood control ${what}; run with ${rate}, or start the server with --flood-rate 0`;
}
