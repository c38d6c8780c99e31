// Property-test helpers: cut a byte stream into chunks at arbitrary points.
import fc from "fast-check";
import type { Framing } from "../../src/codecs/types.js";
import { EchoplexError } from "../../src/errors.js";

/** Cuts `input` at the given offsets (taken modulo its length, sorted, duplicates allowed: empty chunks). */
export function cut(input: Buffer, offsets: number[]): Buffer[] {
  if (input.length === 0) return [input];
  const points = offsets.map((o) => o % (input.length + 1)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(input.subarray(prev, p));
    prev = p;
  }
  out.push(input.subarray(prev));
  return out;
}

/** Bytes rich in the framing's special values (LF, CR) so that edge cases are common. */
export const lineBytes = fc
  .array(fc.oneof(fc.constant(0x0a), fc.constant(0x0d), fc.integer({ min: 0, max: 255 })), {
    maxLength: 600,
  })
  .map((a) => Buffer.from(a));

export const cutPoints = fc.array(fc.nat(), { maxLength: 12 });

/** What a decoder produced: the messages, then the error code if it stopped on one. */
export interface Outcome {
  messages: string[];
  error?: string;
}

/**
 * Feeds the chunks to a fresh codec of `framing`; records the messages (in `encoding`)
 * and the first error, which must be the codec's own typed error.
 */
export function decodeAll(
  framing: Framing,
  chunks: Buffer[],
  encoding: BufferEncoding,
  onPush?: (buffered: number) => void,
): Outcome {
  const messages: string[] = [];
  const codec = framing.create((p) => messages.push(p.toString(encoding)));
  try {
    for (const c of chunks) {
      codec.push(c);
      onPush?.(codec.bufferedBytes);
    }
    codec.end();
  } catch (err) {
    if (!EchoplexError.is(err)) throw err;
    return { messages, error: err.code };
  }
  return { messages };
}
