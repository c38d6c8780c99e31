// The route table: every httpbin-style route in one list (dispatch and /openapi.json read
// it), and the match of a request path against it.
import { AUTH_ROUTES } from "./auth.js";
import { BUILTIN_ROUTES } from "./builtin.js";
import { BYTES_ROUTES } from "./bytes.js";
import { CACHING_ROUTES } from "./caching.js";
import { COOKIE_ROUTES } from "./cookies.js";
import { INSPECTION_ROUTES } from "./inspection.js";
import { openApiRoute } from "./openapi.js";
import { REDIRECT_ROUTES } from "./redirects.js";
import { SSE_ROUTES } from "./sse.js";
import { STREAM_ROUTES } from "./streams.js";
import type { Route } from "./types.js";
import { WS_ROUTE } from "./ws.js";

const TABLE: Route[] = [
  ...BUILTIN_ROUTES,
  ...INSPECTION_ROUTES,
  ...BYTES_ROUTES,
  ...STREAM_ROUTES,
  ...SSE_ROUTES,
  ...REDIRECT_ROUTES,
  ...CACHING_ROUTES,
  ...AUTH_ROUTES,
  ...COOKIE_ROUTES,
  WS_ROUTE,
];
TABLE.push(openApiRoute(TABLE));

export const ROUTES: readonly Route[] = TABLE;

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

const compiled = ROUTES.filter((r) => r.handle !== undefined).map((route) => ({
  route,
  segments: route.path.split("/").slice(1),
}));

/** First path segments the routes own: a path under one that matches no route is a 404. */
const FAMILIES = new Set(compiled.map((c) => c.segments[0]!));

/**
 * The route a path asks for; "missing" for a path under a route's first segment that
 * matches none (/bytes, /redirect/1/x: 404); undefined for any other path (the
 * responder's own answer).
 */
export function matchRoute(path: string): RouteMatch | "missing" | undefined {
  const parts = path.split("/").slice(1);
  for (const { route, segments } of compiled) {
    const params = matchSegments(segments, parts);
    if (params !== undefined) return { route, params };
  }
  return FAMILIES.has(parts[0]!) ? "missing" : undefined;
}

function matchSegments(
  segments: readonly string[],
  parts: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.endsWith("*}")) {
      params[seg.slice(1, -2)] = parts.slice(i).join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (seg.startsWith("{")) {
      if (part === "") return undefined;
      params[seg.slice(1, -1)] = safeDecode(part);
    } else if (seg !== part) return undefined;
  }
  return parts.length === segments.length ? params : undefined;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
