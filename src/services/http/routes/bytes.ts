// Generated bodies: /bytes/N (seedable), /stream-bytes/N (chunked), /range/N (206, 416,
// multipart/byteranges). Every size bounded by --max-bytes.
import { randomInt } from "node:crypto";
import { mulberry32 } from "../../../core/seeded-random.js";
import type { Route, RouteRequest } from "./types.js";
import { BINARY_TYPE, boundedDuration, boundedSize, fail, TEXT_TYPE, wholeNumber } from "./types.js";

/** A small seeded generator (mulberry32): the same seed gives the same bytes on every run. */
export function seededBytes(n: number, seed: number): Buffer {
  const next = mulberry32(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = next() & 0xff;
  return out;
}

/** ?seed= as a number (negative allowed, within 64 bits as go-httpbin), or the reason it is refused. */
function seedOf(r: RouteRequest): number | string {
  const text = r.query.get("seed");
  if (text === null) return randomInt(0x7fffffff);
  const n = wholeNumber(text, true);
  if (n === undefined) return `bad seed "${text}": use a whole number`;
  // Folded into 32 bits: mulberry32's state.
  return n % 0x1_0000_0000;
}

function bytes(r: RouteRequest): void {
  const n = boundedSize("byte count", r.params.n!, 0, r.limits.maxBytes);
  if (typeof n === "string") {
    fail(r, 400, n);
    return;
  }
  const seed = seedOf(r);
  if (typeof seed === "string") {
    fail(r, 400, seed);
    return;
  }
  r.send(200, { "content-type": BINARY_TYPE }, seededBytes(n, seed));
}

function streamBytes(r: RouteRequest): void {
  const n = boundedSize("byte count", r.params.n!, 0, r.limits.maxBytes);
  if (typeof n === "string") {
    fail(r, 400, n);
    return;
  }
  const chunkText = r.query.get("chunk_size");
  const chunk = chunkText === null ? 10 * 1024 : wholeNumber(chunkText, true);
  if (chunk === undefined) {
    fail(r, 400, `bad chunk_size "${chunkText}": use a whole number`);
    return;
  }
  const seed = seedOf(r);
  if (typeof seed === "string") {
    fail(r, 400, seed);
    return;
  }
  const data = seededBytes(n, seed);
  const step = chunk < 1 ? 10 * 1024 : chunk;
  const out = r.stream(200, { "content-type": BINARY_TYPE });
  // Chunks written at once: node:http sends each as one chunk of the chunked encoding.
  for (let at = 0; at < n && !out.closed; at += step) out.write(data.subarray(at, at + step));
  out.end();
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz";

/** Bytes [from, to] of /range/N's body: the alphabet, repeated. */
function alphabet(from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from + 1);
  for (let i = from; i <= to; i++) out[i - from] = ALPHABET.charCodeAt(i % 26);
  return out;
}

/** The Range header's byte ranges over `size` bytes; "bad": ignored (200); "none": unsatisfiable (416). */
export function parseRanges(
  header: string | undefined,
  size: number,
): Array<[number, number]> | "bad" | "none" {
  if (header === undefined) return "bad";
  const m = /^bytes=(.+)$/.exec(header.trim());
  if (m === null) return "bad";
  const ranges: Array<[number, number]> = [];
  for (const spec of m[1]!.split(",").slice(0, 16)) {
    const r = /^\s*(\d*)-(\d*)\s*$/.exec(spec);
    if (r === null || (r[1] === "" && r[2] === "")) return "bad";
    if (r[1] === "") {
      const suffix = Number(r[2]);
      if (suffix > 0) ranges.push([Math.max(0, size - suffix), size - 1]);
      continue;
    }
    const start = Number(r[1]);
    const end = r[2] === "" ? size - 1 : Math.min(Number(r[2]), size - 1);
    if (r[2] !== "" && Number(r[2]) < start) return "bad";
    if (start < size) ranges.push([start, end]);
  }
  return ranges.length === 0 ? "none" : ranges;
}

function range(r: RouteRequest): void {
  const n = boundedSize("byte count", r.params.n!, 0, r.limits.maxBytes);
  if (typeof n === "string") {
    fail(r, 400, n);
    return;
  }
  const wait = boundedDuration("duration", r.query.get("duration"), 0, r.limits.maxDelayMs);
  if (typeof wait === "string") {
    fail(r, 400, wait);
    return;
  }
  const base = { etag: `range${n}`, "accept-ranges": "bytes" };
  const ranges = parseRanges(r.req.headers.range, n);
  const answer = () => {
    if (ranges === "bad") {
      r.send(200, { ...base, "content-type": TEXT_TYPE }, alphabet(0, n - 1));
      return;
    }
    if (ranges === "none") {
      r.send(416, { ...base, "content-range": `bytes */${n}`, "content-type": TEXT_TYPE }, "");
      return;
    }
    if (ranges.length === 1) {
      const [from, to] = ranges[0]!;
      const headers = { ...base, "content-type": TEXT_TYPE, "content-range": `bytes ${from}-${to}/${n}` };
      r.send(206, headers, alphabet(from, to));
      return;
    }
    const boundary = `echoplex${randomInt(1e9)}`;
    const parts = ranges.map(([from, to]) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\ncontent-type: ${TEXT_TYPE}\r\ncontent-range: bytes ${from}-${to}/${n}\r\n\r\n`,
        ),
        alphabet(from, to),
        Buffer.from("\r\n"),
      ]),
    );
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    r.send(
      206,
      { ...base, "content-type": `multipart/byteranges; boundary=${boundary}` },
      Buffer.concat(parts),
    );
  };
  r.after(wait, answer);
}

export const BYTES_ROUTES: readonly Route[] = [
  {
    path: "/bytes/{n}",
    methods: ["GET"],
    description: "n random bytes (n ≤ --max-bytes); ?seed= makes them repeatable",
    params: [
      { name: "n", in: "path", description: "how many bytes" },
      { name: "seed", in: "query", description: "seed of the generator: the same seed gives the same bytes" },
    ],
    example: "/bytes/16?seed=1",
    handle: bytes,
  },
  {
    path: "/stream-bytes/{n}",
    methods: ["GET"],
    description: "n random bytes, chunked (?chunk_size=, ?seed=)",
    params: [
      { name: "n", in: "path", description: "how many bytes (≤ --max-bytes)" },
      { name: "chunk_size", in: "query", description: "bytes per chunk (default 10240)" },
      { name: "seed", in: "query", description: "seed of the generator" },
    ],
    example: "/stream-bytes/64?chunk_size=8",
    handle: streamBytes,
  },
  {
    path: "/range/{n}",
    methods: ["GET"],
    description: "n bytes of the alphabet; honours Range (206, multipart for several, 416 beyond the end)",
    params: [
      { name: "n", in: "path", description: "size of the resource (≤ --max-bytes)" },
      {
        name: "Range",
        in: "header",
        description: "bytes=FROM-TO, bytes=FROM-, bytes=-SUFFIX (comma-separated)",
      },
      { name: "duration", in: "query", description: "wait this long before answering (≤ --max-delay)" },
    ],
    example: "/range/26",
    handle: range,
  },
];
