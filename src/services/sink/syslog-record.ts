// One received syslog message as one JSON line (`--format syslog`): the sink's own fields
// (ts, peer, conn, bytes), then the parsed ones; a message that does not parse keeps its
// exact bytes (`raw`, or `base64`) and says why (`parseError`).
import { isUtf8 } from "node:buffer";
import { parseSyslog } from "./syslog.js";

const TS_OPEN = Buffer.from('{"ts":"');

export interface SyslogRecord {
  record: Buffer;
  /** Why the message did not parse; undefined when it did. */
  parseError: string | undefined;
}

/** Encodes one message. `ts` is the time of receipt as ISO 8601 bytes, `meta` the peer's `connectionMeta`. */
export function encodeSyslogRecord(ts: Buffer, meta: Buffer, payload: Buffer, received: Date): SyslogRecord {
  const parsed = parseSyslog(payload, received);
  const fields = parsed.ok
    ? parsed.fields
    : {
        ...parsed.pri,
        parseError: parsed.error,
        ...(isUtf8(payload) ? { raw: payload.toString("utf8") } : { base64: payload.toString("base64") }),
      };
  // `{"ts":"…","peer":"…","conn":N,"bytes":N` then the fields' object without its `{`.
  const tail = `${payload.length},${JSON.stringify(fields).slice(1)}\n`;
  return {
    record: Buffer.concat([TS_OPEN, ts, meta, Buffer.from(tail, "utf8")]),
    parseError: parsed.ok ? undefined : parsed.error,
  };
}
