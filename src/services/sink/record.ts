// One received message as one JSON line: {"ts","peer","conn","bytes","text"|"base64"}.
// Built as bytes: text that is valid UTF-8 without control characters is copied
// in with only `"` and `\` escaped; anything else is recorded as base64.
import { isUtf8 } from "node:buffer";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const TS_OPEN = Buffer.from('{"ts":"');
const TEXT_OPEN = Buffer.from(',"text":"');
const BASE64_OPEN = Buffer.from(',"base64":"');
const CLOSE = Buffer.from('"}\n');

/** True when `payload` can be recorded as text: valid UTF-8 with no C0, DEL or C1 control characters. */
export function isPlainText(payload: Buffer): boolean {
  for (let i = 0; i < payload.length; i++) {
    const b = payload[i]!;
    if (b < 0x20 || b === 0x7f) return false;
    // C1 controls (U+0080-U+009F) are encoded as C2 80..C2 9F.
    if (b === 0xc2 && i + 1 < payload.length && payload[i + 1]! < 0xa0) return false;
  }
  return isUtf8(payload);
}

/** The part of every record of one connection that does not change: `","peer":"…","conn":N,"bytes":`. */
export function connectionMeta(peer: string, conn: number): Buffer {
  return Buffer.from(`",${JSON.stringify("peer")}:${JSON.stringify(peer)},"conn":${conn},"bytes":`);
}

/** Encodes one record. `ts` is an ISO 8601 time as ASCII bytes. */
export function encodeRecord(ts: Buffer, meta: Buffer, payload: Buffer): Buffer {
  const size = String(payload.length);
  if (isPlainText(payload)) {
    let escapes = 0;
    for (let i = 0; i < payload.length; i++) {
      const b = payload[i]!;
      if (b === QUOTE || b === BACKSLASH) escapes++;
    }
    const len =
      TS_OPEN.length +
      ts.length +
      meta.length +
      size.length +
      TEXT_OPEN.length +
      payload.length +
      escapes +
      CLOSE.length;
    const out = Buffer.allocUnsafe(len);
    let at = head(out, ts, meta, size, TEXT_OPEN);
    if (escapes === 0) {
      at += payload.copy(out, at);
    } else {
      for (let i = 0; i < payload.length; i++) {
        const b = payload[i]!;
        if (b === QUOTE || b === BACKSLASH) out[at++] = BACKSLASH;
        out[at++] = b;
      }
    }
    CLOSE.copy(out, at);
    return out;
  }
  const b64 = payload.toString("base64");
  const len =
    TS_OPEN.length + ts.length + meta.length + size.length + BASE64_OPEN.length + b64.length + CLOSE.length;
  const out = Buffer.allocUnsafe(len);
  let at = head(out, ts, meta, size, BASE64_OPEN);
  at += out.write(b64, at, "latin1");
  CLOSE.copy(out, at);
  return out;
}

function head(out: Buffer, ts: Buffer, meta: Buffer, size: string, open: Buffer): number {
  let at = TS_OPEN.copy(out, 0);
  at += ts.copy(out, at);
  at += meta.copy(out, at);
  at += out.write(size, at, "latin1");
  at += open.copy(out, at);
  return at;
}

/** The current time as ISO 8601 bytes, recomputed at most once per millisecond. */
export class TimestampCache {
  private ms = 0;
  private bytes = Buffer.alloc(0);

  now(): Buffer {
    const ms = Date.now();
    if (ms !== this.ms) {
      this.ms = ms;
      this.bytes = Buffer.from(new Date(ms).toISOString(), "latin1");
    }
    return this.bytes;
  }
}
