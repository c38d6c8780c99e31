// /sse: server-sent events (text/event-stream), each with an `id:`; a client that
// reconnects with Last-Event-ID gets the events after it, and a 204 once none are left
// (which tells an EventSource to stop reconnecting).
import { pace } from "./streams.js";
import type { Route, RouteRequest } from "./types.js";
import { boundedDuration, fail, wholeNumber } from "./types.js";

/** The most events one /sse request may ask for. */
const MAX_EVENTS = 10_000;

function sse(r: RouteRequest): void {
  const countText = r.query.get("count");
  const count = countText === null ? 10 : wholeNumber(countText);
  if (count === undefined || count < 1 || count > MAX_EVENTS) {
    fail(r, 400, `bad count "${countText}": use 1 to ${MAX_EVENTS}`);
    return;
  }
  const interval = boundedDuration("interval", r.query.get("interval"), 1000, r.limits.maxDelayMs);
  if (typeof interval === "string") {
    fail(r, 400, interval);
    return;
  }
  if (interval * (count - 1) > r.limits.maxDelayMs) {
    fail(r, 400, `count × interval exceeds the maximum ${r.limits.maxDelayMs}ms (--max-delay)`);
    return;
  }
  const dropText = r.query.get("drop_after");
  const dropAfter = dropText === null ? count : wholeNumber(dropText);
  if (dropAfter === undefined || dropAfter < 1) {
    fail(r, 400, `bad drop_after "${dropText}": use 1 or more`);
    return;
  }
  const retryText = r.query.get("retry");
  const retry = retryText === null ? undefined : wholeNumber(retryText);
  if (retry === undefined && retryText !== null) {
    fail(r, 400, `bad retry "${retryText}": use milliseconds`);
    return;
  }
  const lastText = r.req.headers["last-event-id"];
  const last = typeof lastText === "string" ? (wholeNumber(lastText.trim()) ?? 0) : 0;
  // Event ids run 1…count; a resumed stream starts after the last one the client saw.
  if (last >= count) {
    r.send(204, {}, "");
    return;
  }
  const out = r.stream(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    // Proxies (nginx) would otherwise buffer the stream.
    "x-accel-buffering": "no",
  });
  const first = last + 1;
  // retry: how soon an EventSource reconnects after the stream ends (its default is seconds).
  if (retry !== undefined) out.write(`retry: ${retry}\n\n`);
  pace(
    out,
    Math.min(count - last, dropAfter),
    interval,
    (i) => {
      const id = first + i;
      out.write(`id: ${id}\nevent: ping\ndata: ${JSON.stringify({ id, timestamp: Date.now() })}\n\n`);
    },
    () => out.end(),
  );
}

export const SSE_ROUTES: readonly Route[] = [
  {
    path: "/sse",
    methods: ["GET"],
    description:
      "count server-sent events (ids 1…count) interval apart; resumes after Last-Event-ID; 204 when none are left",
    params: [
      { name: "count", in: "query", description: "how many events (default 10, at most 10000)" },
      {
        name: "interval",
        in: "query",
        description: "time between events (default 1s; count × interval ≤ --max-delay)",
      },
      {
        name: "Last-Event-ID",
        in: "header",
        description: "the last id the client received: the stream resumes after it",
      },
    ],
    example: "/sse?count=2&interval=10ms",
    handle: sse,
  },
];
