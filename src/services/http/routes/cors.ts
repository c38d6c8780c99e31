// CORS on every answer: Access-Control-Allow-Origin mirrors the request's Origin (or *),
// and a preflight (OPTIONS, on any path) is answered at once, as go-httpbin does.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeaderBlock } from "../settings.js";

export const CORS_METHODS = "GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS";

/** Set before any answer is written: every answer carries them. */
export function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.setHeader("access-control-allow-origin", origin ?? "*");
  res.setHeader("access-control-allow-credentials", "true");
  // The answer differs by Origin: a cache must not serve one origin's answer to another.
  if (origin !== undefined) res.setHeader("vary", "Origin");
}

/** The preflight answer's own headers (besides those of setCorsHeaders). */
export function preflightHeaders(req: IncomingMessage): HeaderBlock {
  return {
    "access-control-allow-methods": CORS_METHODS,
    "access-control-max-age": "3600",
    "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "",
  };
}
