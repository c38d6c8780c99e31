// From a matched route to its answer: the method check (405 with Allow), the 404 of a
// path under a route's family that matches none, and the RouteRequest a route reads.
import type { IncomingMessage } from "node:http";
import type { HeaderBlock } from "../settings.js";
import type { RouteMatch } from "./table.js";
import type { ReplyStream, RouteLimits, RouteRequest } from "./types.js";
import { fail } from "./types.js";

/** What the request path lends a route to answer with (stats, ordering and drain included). */
export interface Replier {
  send(status: number, headers: HeaderBlock, body: string | Buffer): void;
  stream(status: number, headers: HeaderBlock): ReplyStream;
  after(ms: number, run: () => void): void;
}

export interface RouteSite {
  limits: RouteLimits;
  scheme: string;
}

/** The methods a route answers: its own, HEAD wherever GET, OPTIONS everywhere. */
export function allowedMethods(methods: readonly string[]): string[] {
  return [...methods, ...(methods.includes("GET") ? ["HEAD"] : []), "OPTIONS"];
}

export function runRoute(
  match: RouteMatch | "missing",
  req: IncomingMessage,
  body: Buffer,
  origin: string,
  site: RouteSite,
  reply: Replier,
): void {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const r: RouteRequest = {
    req,
    method: req.method ?? "GET",
    path: q < 0 ? url : url.slice(0, q),
    params: match === "missing" ? {} : match.params,
    query: new URLSearchParams(q < 0 ? "" : url.slice(q + 1)),
    body,
    origin: forwardedFor(req) ?? origin,
    scheme: site.scheme,
    limits: site.limits,
    send: (status, headers, b) => reply.send(status, headers, b),
    stream: (status, headers) => reply.stream(status, headers),
    after: (ms, run) => reply.after(ms, run),
  };
  if (match === "missing") {
    fail(r, 404, `no route for ${r.path} (see /openapi.json)`);
    return;
  }
  const allowed = allowedMethods(match.route.methods);
  if (!allowed.includes(r.method)) {
    reply.send(
      405,
      { allow: allowed.join(", "), "content-type": "application/json; charset=utf-8" },
      `${JSON.stringify({ status_code: 405, error: `${r.method} not allowed on ${r.path}` })}\n`,
    );
    return;
  }
  match.route.handle?.(r);
}

/** The first address of X-Forwarded-For, as go-httpbin reports the origin behind a proxy. */
function forwardedFor(req: IncomingMessage): string | undefined {
  const header = req.headers["x-forwarded-for"];
  const first = (Array.isArray(header) ? header[0] : header)?.split(",")[0]?.trim();
  return first === undefined || first === "" ? undefined : first;
}
