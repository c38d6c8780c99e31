// Answers written over time: /stream/N (N JSON lines, chunked) and /drip (bytes paced
// over a duration, with a Content-Length: a slow link, not a chunked stream).
import { described } from "./inspection.js";
import type { ReplyStream, Route, RouteRequest } from "./types.js";
import { boundedDuration, boundedSize, fail, JSON_TYPE, TEXT_TYPE, wholeNumber } from "./types.js";

/** The most lines /stream/N writes (go-httpbin's cap). */
const MAX_STREAM_LINES = 100;

/**
 * Calls `step(i)` for i = 0…count-1, `pauseMs` apart (the first at once), until the client
 * leaves; then `done()`. One timer at a time, cleared when the answer is over.
 */
export function pace(
  out: ReplyStream,
  count: number,
  pauseMs: number,
  step: (i: number) => void,
  done: () => void,
): void {
  let i = 0;
  let timer: NodeJS.Timeout | undefined;
  out.onClose(() => clearTimeout(timer));
  const next = () => {
    timer = undefined;
    if (out.closed) return;
    step(i++);
    if (i >= count) {
      done();
      return;
    }
    timer = setTimeout(next, pauseMs);
  };
  next();
}

function stream(r: RouteRequest): void {
  const n = wholeNumber(r.params.n);
  if (n === undefined) {
    fail(r, 400, `bad line count "${r.params.n}": use a whole number`);
    return;
  }
  const count = Math.min(n, MAX_STREAM_LINES);
  const base = described(r);
  delete base.method;
  const out = r.stream(200, { "content-type": JSON_TYPE });
  for (let id = 0; id < count && !out.closed; id++) out.write(`${JSON.stringify({ id, ...base })}\n`);
  out.end();
}

function drip(r: RouteRequest): void {
  const { maxDelayMs, maxBytes } = r.limits;
  const numText = r.query.get("numbytes");
  const numbytes = numText === null ? 10 : boundedSize("numbytes", numText, 1, maxBytes);
  if (typeof numbytes === "string") {
    fail(r, 400, numbytes);
    return;
  }
  const duration = boundedDuration("duration", r.query.get("duration"), 2000, maxDelayMs);
  if (typeof duration === "string") {
    fail(r, 400, duration);
    return;
  }
  const delay = boundedDuration("delay", r.query.get("delay"), 0, maxDelayMs);
  if (typeof delay === "string") {
    fail(r, 400, delay);
    return;
  }
  if (duration + delay > maxDelayMs) {
    fail(r, 400, `delay + duration exceeds the maximum ${maxDelayMs}ms (--max-delay)`);
    return;
  }
  const codeText = r.query.get("code");
  const code = codeText === null ? 200 : wholeNumber(codeText);
  if (code === undefined || code < 100 || code > 599) {
    fail(r, 400, `bad code "${codeText}": use a code from 100 to 599`);
    return;
  }
  r.after(delay, () => {
    const out = r.stream(code, { "content-type": TEXT_TYPE, "content-length": numbytes });
    // numbytes writes spread over the duration: the last lands at its end.
    const pause = numbytes > 1 ? duration / (numbytes - 1) : 0;
    if (duration === 0) {
      out.end("*".repeat(numbytes));
      return;
    }
    if (numbytes === 1) {
      r.after(duration, () => out.end("*"));
      return;
    }
    pace(
      out,
      numbytes,
      pause,
      () => out.write("*"),
      () => out.end(),
    );
  });
}

export const STREAM_ROUTES: readonly Route[] = [
  {
    path: "/stream/{n}",
    methods: ["GET"],
    description: "n JSON lines (at most 100), chunked: id, args, headers, origin, url",
    params: [{ name: "n", in: "path", description: "how many lines" }],
    example: "/stream/3",
    handle: stream,
  },
  {
    path: "/drip",
    methods: ["GET"],
    description:
      "numbytes '*' bytes spread over duration, after delay, with status code (Content-Length set)",
    params: [
      { name: "numbytes", in: "query", description: "how many bytes (default 10, ≤ --max-bytes)" },
      { name: "duration", in: "query", description: "spread over this long (default 2s)" },
      { name: "delay", in: "query", description: "wait this long first (delay + duration ≤ --max-delay)" },
      { name: "code", in: "query", description: "status code (default 200)" },
    ],
    example: "/drip?numbytes=3&duration=0",
    handle: drip,
  },
];
