// Routes that show the request back: /anything, /get, /headers, /ip, /user-agent, /uuid,
// /response-headers (go-httpbin's shapes: args and headers as lists of values).
import { randomUUID } from "node:crypto";
import type { Route, RouteRequest } from "./types.js";
import { fullUrl, headerMap, JSON_TYPE, json, multiMap, pushTo } from "./types.js";

/** The fields every inspection answer shares. */
export function described(r: RouteRequest): Record<string, unknown> {
  return {
    args: multiMap(r.query),
    headers: headerMap(r.req),
    method: r.method,
    origin: r.origin,
    url: fullUrl(r),
  };
}

/** /anything's answer: the request, its body decoded as a form, JSON or files where it is one. */
export function anything(r: RouteRequest): Record<string, unknown> {
  const type = (r.req.headers["content-type"] ?? "").toLowerCase();
  const text = r.body.toString("utf8");
  let form: Record<string, string[]> = {};
  let files: Record<string, string[]> = {};
  let parsed: unknown = null;
  if (type.startsWith("application/x-www-form-urlencoded")) {
    form = multiMap(new URLSearchParams(text));
  } else if (type.startsWith("multipart/form-data")) {
    ({ form, files } = multipart(text, type));
  } else if (type.includes("json") && text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // go-httpbin refuses it; a test responder answers anyway and leaves json null.
    }
  }
  return { ...described(r), data: text, files, form, json: parsed };
}

/** A multipart body's fields (by name) and files (their contents by field name). */
function multipart(
  text: string,
  type: string,
): { form: Record<string, string[]>; files: Record<string, string[]> } {
  const form: Record<string, string[]> = {};
  const files: Record<string, string[]> = {};
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  if (boundary === undefined) return { form, files };
  for (const part of text.split(`--${boundary}`).slice(1, 256)) {
    const split = part.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const head = part.slice(0, split);
    const value = part.slice(split + 4).replace(/\r\n$/, "");
    const name = /name="([^"]*)"/.exec(head)?.[1];
    if (name === undefined) continue;
    const into = /filename="/.test(head) ? files : form;
    pushTo(into, name, value);
  }
  return { form, files };
}

const answerJson = (r: RouteRequest, value: unknown) =>
  r.send(200, { "content-type": JSON_TYPE }, json(value));
const ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

export const INSPECTION_ROUTES: readonly Route[] = [
  {
    path: "/anything/{rest*}",
    methods: ANY,
    description: "the request: method, url, args, headers, form, json, data, files, origin",
    example: "/anything/x?a=1",
    handle: (r) => answerJson(r, anything(r)),
  },
  {
    path: "/get",
    methods: ["GET"],
    description: "the request (args, headers, origin, url); where redirects end",
    example: "/get",
    handle: (r) => answerJson(r, described(r)),
  },
  {
    path: "/headers",
    methods: ["GET"],
    description: "the request headers",
    example: "/headers",
    handle: (r) => answerJson(r, { headers: headerMap(r.req) }),
  },
  {
    path: "/ip",
    methods: ["GET"],
    description: "the client's address",
    example: "/ip",
    handle: (r) => answerJson(r, { origin: r.origin }),
  },
  {
    path: "/user-agent",
    methods: ["GET"],
    description: "the User-Agent header",
    example: "/user-agent",
    handle: (r) => answerJson(r, { "user-agent": r.req.headers["user-agent"] ?? "" }),
  },
  {
    path: "/uuid",
    methods: ["GET"],
    description: "a random UUID (v4)",
    example: "/uuid",
    handle: (r) => answerJson(r, { uuid: randomUUID() }),
  },
  {
    path: "/response-headers",
    methods: ["GET", "POST"],
    description: "answers with the headers given in the query (?K=V, repeatable); the body lists them",
    params: [{ name: "K", in: "query", description: "any header name: its value is sent back as a header" }],
    example: "/response-headers?X-Test=1",
    handle: responseHeaders,
  },
];

/** Content types a browser will not run script from (go-httpbin's list): their body is not escaped. */
const SAFE_TYPES = new Set(["text/plain", "application/json", "application/octet-string"]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function responseHeaders(r: RouteRequest): void {
  const args: Record<string, string[]> = {};
  for (const [k, v] of r.query) pushTo(args, k, v);
  // The query's own Content-Type (any case) replaces the JSON default.
  const typeKey = Object.keys(args).find((k) => k.toLowerCase() === "content-type");
  if (typeKey === undefined) args["Content-Type"] = [JSON_TYPE];
  const contentType = args[typeKey ?? "Content-Type"]![0]!;
  const headers: Record<string, string | string[]> = {};
  for (const [k, values] of Object.entries(args)) {
    // A name or value no header can carry stays in the body only.
    const ok = values.filter((v) => !/[^\t\x20-\x7e\x80-\xff]/.test(v));
    if (!TOKEN.test(k) || ok.length === 0) continue;
    headers[k.toLowerCase()] = k.toLowerCase() === "content-type" ? contentType : ok;
  }
  const safe = SAFE_TYPES.has(contentType.split(";")[0]!.trim().toLowerCase());
  const listed: Record<string, string[]> = {};
  for (const [k, values] of Object.entries(args)) {
    for (const v of values) pushTo(listed, safe ? k : escapeHtml(k), safe ? v : escapeHtml(v));
  }
  r.send(200, headers, json(listed));
}
