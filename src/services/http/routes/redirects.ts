// Redirects: /redirect/N, /relative-redirect/N, /absolute-redirect/N (chains ending at
// /get) and /redirect-to (same host only unless --allow-open-redirect).
import type { Route, RouteRequest } from "./types.js";
import { fail, TEXT_TYPE, wholeNumber } from "./types.js";

function hops(r: RouteRequest): number | undefined {
  const n = wholeNumber(r.params.n);
  if (n === undefined || n < 1) {
    fail(r, 400, `bad redirect count "${r.params.n}": use 1 or more`);
    return undefined;
  }
  return n;
}

function found(r: RouteRequest, status: number, location: string): void {
  r.send(status, { location, "content-type": TEXT_TYPE }, `redirecting to ${location}\n`);
}

function chain(kind: "relative" | "absolute") {
  return (r: RouteRequest) => {
    const n = hops(r);
    if (n === undefined) return;
    const next = n === 1 ? "/get" : `/${kind}-redirect/${n - 1}`;
    found(r, 302, kind === "relative" ? next : `${r.scheme}://${r.req.headers.host ?? "localhost"}${next}`);
  };
}

function redirect(r: RouteRequest): void {
  // go-httpbin: only the exact word "true" (any case) asks for absolute URLs.
  chain(r.query.get("absolute")?.toLowerCase() === "true" ? "absolute" : "relative")(r);
}

/**
 * Where /redirect-to may send a client: a root-relative path, or an absolute http(s) URL
 * on the host the client addressed; any host with --allow-open-redirect. Undefined: forbidden.
 */
export function redirectTarget(target: string, host: string | undefined, open: boolean): string | undefined {
  // A path, not a scheme-relative "//host" nor a "/\host" some browsers read as one.
  if (/^\/(?![/\\])/.test(target)) {
    // Percent-encoded as a Location header must be (a raw control character would not go out).
    const url = new URL(target, "http://host");
    return url.pathname + url.search + url.hash;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (open || (host !== undefined && url.host.toLowerCase() === host.toLowerCase())) return url.href;
  return undefined;
}

function redirectTo(r: RouteRequest): void {
  const target = r.query.get("url");
  if (target === null || target === "") {
    fail(r, 400, "missing url: /redirect-to?url=/get");
    return;
  }
  const codeText = r.query.get("status_code");
  const code = codeText === null ? 302 : wholeNumber(codeText);
  if (code === undefined || code < 300 || code > 308) {
    fail(r, 400, `bad status_code "${codeText}": use a redirect code from 300 to 308`);
    return;
  }
  const location = redirectTarget(target, r.req.headers.host, r.limits.allowOpenRedirect);
  if (location === undefined) {
    fail(r, 403, `forbidden redirect to "${target}": only this host, unless --allow-open-redirect`);
    return;
  }
  found(r, code, location);
}

const N = [{ name: "n", in: "path" as const, description: "redirects before /get" }];

export const REDIRECT_ROUTES: readonly Route[] = [
  {
    path: "/redirect/{n}",
    methods: ["GET"],
    description: "302 n times, then /get (relative Locations; ?absolute=true for absolute)",
    params: [...N, { name: "absolute", in: "query", description: "true: absolute Location URLs" }],
    example: "/redirect/2",
    handle: redirect,
  },
  {
    path: "/relative-redirect/{n}",
    methods: ["GET"],
    description: "302 n times with relative Locations, then /get",
    params: N,
    example: "/relative-redirect/1",
    handle: chain("relative"),
  },
  {
    path: "/absolute-redirect/{n}",
    methods: ["GET"],
    description: "302 n times with absolute Locations, then /get",
    params: N,
    example: "/absolute-redirect/1",
    handle: chain("absolute"),
  },
  {
    path: "/redirect-to",
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    description: "redirects to url (same host only unless --allow-open-redirect; 403 otherwise)",
    params: [
      { name: "url", in: "query", description: "a path (/get) or an http(s) URL on this host" },
      { name: "status_code", in: "query", description: "300 to 308 (default 302)" },
    ],
    example: "/redirect-to?url=/get",
    handle: redirectTo,
  },
];
