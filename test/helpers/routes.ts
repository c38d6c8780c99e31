// The HTTP responder on a loopback port for the route tests, and one request with
// node's fetch (redirects not followed, so a test sees each 3xx).
import { execFile } from "node:child_process";
import { type IncomingHttpHeaders, request } from "node:http";
import { afterEach } from "vitest";
import {
  createHttpResponder,
  type HttpResponder,
  type HttpResponderOptions,
} from "../../src/services/http/index.js";

let running: HttpResponder[] = [];

afterEach(async () => {
  await Promise.all(running.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
  running = [];
});

/** A responder with no default delay (routes answer at once), shut down after the test. */
export async function startRoutes(
  options: HttpResponderOptions = {},
): Promise<{ base: string; port: number; server: HttpResponder }> {
  const server = createHttpResponder({ delayMs: 0, ...options });
  running.push(server);
  const { port } = await server.listen("127.0.0.1:0");
  return { base: `http://127.0.0.1:${port}`, port, server };
}

export interface Fetched {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  ms: number;
}

export async function fetchRoute(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Fetched> {
  const started = Date.now();
  const res = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(20_000) });
  const body = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    body,
    text: body.toString("utf8"),
    ms: Date.now() - started,
  };
}

/** The JSON body of a route's answer. */
export async function fetchJson<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Headers; json: T }> {
  const r = await fetchRoute(url, init);
  return { status: r.status, headers: r.headers, json: JSON.parse(r.text) as T };
}

/**
 * Runs curl without blocking this process's event loop (the responder under test runs in
 * it: execFileSync would deadlock). Resolves with its stdout.
 */
export function curl(args: string[], input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile("curl", ["--max-time", "20", ...args], { encoding: "buffer" }, (err, stdout) =>
      err === null ? resolve(stdout) : reject(err),
    );
    child.stdin?.end(input);
  });
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as sent: node:http neither decompresses nor hides the chunked encoding's header. */
  body: Buffer;
}

/** One GET over node:http, the body as it arrived (no decoding). */
export function rawGet(url: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`timed out: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}
