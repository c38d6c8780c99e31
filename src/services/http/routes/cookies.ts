// Cookies: /cookies (what the client sent), /cookies/set?k=v and /cookies/delete?k
// (then 302 to /cookies); attr[Path|Domain|Secure|HttpOnly|SameSite] as go-httpbin.
import type { Route, RouteRequest } from "./types.js";
import { JSON_TYPE, json, TEXT_TYPE } from "./types.js";

/** The cookies of a Cookie header by name (the first of a name wins). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (header ?? "").split(";")) {
    const eq = pair.indexOf("=");
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    if (name !== "" && !(name in out))
      out[name] = pair
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
  }
  return out;
}

const ATTR = /^attr\[([A-Za-z]+)\]$/;
const TRUE = new Set(["true", "1"]);
const FALSE = new Set(["false", "0"]);
const SAME_SITE: Record<string, string> = { strict: "Strict", lax: "Lax", none: "None" };

/** The cookie attributes a request asks for, over the defaults (Path=/, HttpOnly, Secure on https). */
function attributes(r: RouteRequest): string {
  const h = r.req.headers;
  const https =
    r.scheme === "https" ||
    h["x-forwarded-proto"] === "https" ||
    h["x-forwarded-protocol"] === "https" ||
    h["x-forwarded-ssl"] === "on";
  let path = "/";
  let domain = "";
  let secure = https;
  let httpOnly = true;
  let sameSite = "";
  for (const [k, v] of r.query) {
    const name = ATTR.exec(k)?.[1]?.toLowerCase();
    if (name === "path" && /^\/[\x21-\x3a\x3c-\x7e]*$/.test(v)) path = v;
    else if (name === "domain" && /^[A-Za-z0-9.-]+$/.test(v)) domain = v;
    else if (name === "secure") secure = TRUE.has(v.toLowerCase());
    else if (name === "httponly") httpOnly = !FALSE.has(v.toLowerCase());
    else if (name === "samesite") sameSite = SAME_SITE[v.toLowerCase()] ?? "";
  }
  return [
    `Path=${path}`,
    domain && `Domain=${domain}`,
    httpOnly && "HttpOnly",
    secure && "Secure",
    sameSite && `SameSite=${sameSite}`,
  ]
    .filter(Boolean)
    .join("; ");
}

/** The cookie names and values of the query, leaving out attr[…] and anything a header cannot carry. */
function cookieParams(r: RouteRequest): Array<[string, string]> {
  return [...r.query].filter(
    ([k, v]) => !ATTR.test(k) && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) && !/[;\r\n]/.test(v),
  );
}

function setCookies(r: RouteRequest, remove: boolean): void {
  const attrs = attributes(r);
  const cookies = cookieParams(r).map(([k, v]) =>
    remove
      ? `${k}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; ${attrs}`
      : `${k}=${encodeURIComponent(v)}; ${attrs}`,
  );
  const headers = { location: "/cookies", "content-type": TEXT_TYPE, "set-cookie": cookies };
  r.send(302, headers, "redirecting to /cookies\n");
}

export const COOKIE_ROUTES: readonly Route[] = [
  {
    path: "/cookies",
    methods: ["GET"],
    description: "the cookies the client sent",
    example: "/cookies",
    handle: (r) =>
      r.send(200, { "content-type": JSON_TYPE }, json({ cookies: parseCookies(r.req.headers.cookie) })),
  },
  {
    path: "/cookies/set",
    methods: ["GET"],
    description: "sets each ?name=value as a cookie, then 302 to /cookies",
    params: [
      { name: "name", in: "query", description: "any cookie name: its value" },
      { name: "attr[Path|Domain|Secure|HttpOnly|SameSite]", in: "query", description: "cookie attributes" },
    ],
    example: "/cookies/set?k=v",
    handle: (r) => setCookies(r, false),
  },
  {
    path: "/cookies/delete",
    methods: ["GET"],
    description: "expires each ?name cookie, then 302 to /cookies",
    params: [{ name: "name", in: "query", description: "any cookie name to delete" }],
    example: "/cookies/delete?k",
    handle: (r) => setCookies(r, true),
  },
];
