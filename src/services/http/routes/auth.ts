// Authentication checks: /basic-auth/{user}/{password} and /bearer.
import { timingSafeEqual } from "node:crypto";
import type { Route, RouteRequest } from "./types.js";
import { JSON_TYPE, json } from "./types.js";

/** The user and password of a Basic Authorization header, if it is one. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (m === null) return undefined;
  const text = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function basicAuth(r: RouteRequest): void {
  const given = basicCredentials(r.req.headers.authorization);
  const ok =
    given !== undefined && same(given.user, r.params.user!) && same(given.password, r.params.password!);
  const body = json({ authenticated: ok, authorized: ok, user: given?.user ?? "" });
  if (ok) {
    r.send(200, { "content-type": JSON_TYPE }, body);
    return;
  }
  r.send(401, { "content-type": JSON_TYPE, "www-authenticate": 'Basic realm="Fake Realm"' }, body);
}

function bearer(r: RouteRequest): void {
  const m = /^Bearer\s+(\S+)\s*$/.exec(r.req.headers.authorization ?? "");
  if (m === null) {
    r.send(
      401,
      { "www-authenticate": "Bearer", "content-type": JSON_TYPE },
      json({ authenticated: false, token: "" }),
    );
    return;
  }
  r.send(200, { "content-type": JSON_TYPE }, json({ authenticated: true, token: m[1] }));
}

export const AUTH_ROUTES: readonly Route[] = [
  {
    path: "/basic-auth/{user}/{password}",
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    description: "200 with Basic credentials user:password; 401 with WWW-Authenticate otherwise",
    params: [
      { name: "user", in: "path", description: "the expected user" },
      { name: "password", in: "path", description: "the expected password" },
    ],
    example: "/basic-auth/u/p",
    handle: basicAuth,
  },
  {
    path: "/bearer",
    methods: ["GET"],
    description: "200 with any Authorization: Bearer token (echoed); 401 without",
    params: [{ name: "Authorization", in: "header", description: "Bearer TOKEN" }],
    example: "/bearer",
    handle: bearer,
  },
];
