// Property-test helpers: cut a byte stream into chunks at arbitrary points.
import fc from "fast-check";

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
