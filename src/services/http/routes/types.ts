// The contract of the httpbin-style routes: what a route sees of its request, how it
// answers (whole or streamed), and its declaration (the route table and /openapi.json).
import type { IncomingMessage } from "node:http";
import { formatMs, parseDelay } from "../plan.js";
import type { HeaderBlock } from "../settings.js";

/** The bounds every size and duration a request asks for is checked against. */
export interface RouteLimits {
  /** --max-bytes: the largest body a route generates (/bytes, /drip, /range…). */
  maxBytes: number;
  /** --max-delay: the longest a route may take (/drip, /sse, /range?duration). */
  maxDelayMs: number;
  /** --allow-open-redirect: /redirect-to may send clients to another host. */
  allowOpenRedirect: boolean;
}

/** A streamed answer: written by the route over time; `closed` once the client is gone. */
export interface ReplyStream {
  write(chunk: string | Buffer): void;
  end(chunk?: string | Buffer): void;
  readonly closed: boolean;
  /** Runs when the answer is over (ended or the client left): the route stops its timers. */
  onClose(run: () => void): void;
}

export interface RouteRequest {
  req: IncomingMessage;
  method: string;
  /** The path without the query, as sent. */
  path: string;
  /** The `{name}` segments of the route's path, in order (`rest` for a trailing wildcard). */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The request body (up to --max-body). */
  body: Buffer;
  /** The client's address. */
  origin: string;
  /** `http` or `https`, as the client reached the responder. */
  scheme: string;
  limits: RouteLimits;
  send(status: number, headers: HeaderBlock, body: string | Buffer): void;
  stream(status: number, headers: HeaderBlock): ReplyStream;
  /** Runs `run` after `ms` (at once for 0); never once the client has gone. */
  after(ms: number, run: () => void): void;
}

export interface ParamDoc {
  name: string;
  in: "path" | "query" | "header";
  description: string;
}

/** One declaration per route: dispatch and /openapi.json are both made from it. */
export interface Route {
  /** OpenAPI path template: `/bytes/{n}`; a trailing `{rest*}` matches any rest (or none). */
  path: string;
  /** Methods answered besides HEAD (with GET) and OPTIONS (everywhere). */
  methods: readonly string[];
  description: string;
  params?: readonly ParamDoc[];
  /** An example request path that answers 2xx/3xx (the route table test requests it). */
  example: string;
  /** Undefined: answered by the responder's own plan (/delay, /status, /echo, /healthz). */
  handle?: (r: RouteRequest) => void;
}

export const JSON_TYPE = "application/json; charset=utf-8";
export const TEXT_TYPE = "text/plain; charset=utf-8";
export const BINARY_TYPE = "application/octet-stream";

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** A 400 (or other) that says what was wrong, as go-httpbin's errors: JSON with the status. */
export function fail(r: RouteRequest, status: number, message: string): void {
  r.send(status, { "content-type": JSON_TYPE }, json({ status_code: status, error: message }));
}

/** A whole number from text; undefined when it is not one ("3.14", "0xff", "-1" when not signed). */
export function wholeNumber(text: string | null | undefined, signed = false): number | undefined {
  if (text === null || text === undefined) return undefined;
  if (!(signed ? /^-?\d{1,15}$/ : /^\d{1,15}$/).test(text)) return undefined;
  return Number(text);
}

/** Repeated query keys kept, in go-httpbin's form: `{ "k": ["v1", "v2"] }`. */
export function multiMap(params: Iterable<[string, string]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of params) pushTo(out, k, v);
  return out;
}

/** The request headers in go-httpbin's form: canonical names, every value in a list. */
export function headerMap(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = canonical(raw[i]!);
    pushTo(out, name, raw[i + 1]!);
  }
  return out;
}

function canonical(name: string): string {
  return name
    .toLowerCase()
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("-");
}

/** The absolute URL of the request, as the client addressed it. */
export function fullUrl(r: RouteRequest): string {
  return `${r.scheme}://${r.req.headers.host ?? "localhost"}${r.req.url ?? "/"}`;
}

/**
 * A duration a request asks for (`0.5`, `250ms`, `2s`), checked against --max-delay:
 * milliseconds, or the reason it is refused.
 */
export function boundedDuration(
  name: string,
  text: string | null,
  fallbackMs: number,
  maxMs: number,
): number | string {
  if (text === null) return fallbackMs;
  const parsed = parseDelay(text);
  if (parsed === undefined) return `bad ${name} "${text}": use seconds (0.5) or 250ms, 2s`;
  if (parsed > maxMs)
    return `${name} ${formatMs(parsed)} exceeds the maximum ${formatMs(maxMs)} (--max-delay)`;
  return parsed;
}

/** A size a request asks for, checked against --max-bytes: bytes, or the reason it is refused. */
export function boundedSize(name: string, text: string, min: number, maxBytes: number): number | string {
  const n = wholeNumber(text, true);
  if (n === undefined) return `bad ${name} "${text}": use a whole number`;
  if (n < min) return `bad ${name} ${n}: use ${min} or more`;
  if (n > maxBytes) return `${name} ${n} exceeds the maximum ${maxBytes} bytes (--max-bytes)`;
  return n;
}

/** Appends a value to a key's list. */
export function pushTo(map: Record<string, string[]>, key: string, value: string): void {
  const list = map[key];
  if (list === undefined) map[key] = [value];
  else list.push(value);
}
