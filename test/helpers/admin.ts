// Talks to the admin endpoint over real HTTP and reads Prometheus text format.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { until } from "./until.js";

const run = promisify(execFile);

export interface HttpReply {
  status: number;
  headers: Headers;
  body: string;
}

/** GET http://127.0.0.1:port/path without following redirects. */
export async function adminGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<HttpReply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers, redirect: "manual" });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** GET a JSON document; throws on a status other than 200. */
export async function adminJson<T>(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<T> {
  const reply = await adminGet(port, path, headers);
  if (reply.status !== 200) throw new Error(`${path}: HTTP ${reply.status}: ${reply.body}`);
  return JSON.parse(reply.body) as T;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format into samples (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the sample named `name` whose labels include `labels`; undefined when absent. */
export function metric(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value;
}

/** Scrapes /metrics. */
export async function scrape(port: number, headers: Record<string, string> = {}): Promise<Sample[]> {
  const reply = await adminGet(port, "/metrics", headers);
  if (reply.status !== 200) throw new Error(`/metrics: HTTP ${reply.status}: ${reply.body}`);
  return parseMetrics(reply.body);
}

/** Polls `check` until it returns true, or throws with `what` after timeoutMs. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  await until(check, what, timeoutMs, 50);
}

/** What curl got: the status and the body. */
export interface CurlReply {
  status: number;
  body: string;
}

/** curl against the admin endpoint, as a user scripts it: `-X METHOD`, a JSON body with -d, a bearer token. */
export async function adminCurl(
  port: number,
  method: string,
  path: string,
  options: { body?: string; token?: string } = {},
): Promise<CurlReply> {
  const args = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, `http://127.0.0.1:${port}${path}`];
  if (options.token !== undefined) args.push("-H", `Authorization: Bearer ${options.token}`);
  if (options.body !== undefined) args.push("-H", "Content-Type: application/json", "-d", options.body);
  const { stdout } = await run("curl", ["--max-time", "20", ...args]);
  const cut = stdout.lastIndexOf("\n");
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}
