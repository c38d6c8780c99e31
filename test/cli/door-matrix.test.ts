// Every line service over every door that applies, through the real CLI, with clients
// nobody in the project wrote: nc (TCP), socat's OpenSSL (TLS), nc -U (Unix), nc -u
// (UDP), and Node's own WebSocket (global on Node 22+, --experimental-websocket on
// Node 20) for ws:// and wss:// (self-signed: the client trusts nothing, so TLS
// verification is switched off for it alone).
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";

type Door = "tcp" | "tls" | "unix" | "udp" | "ws" | "wss";
const DOORS: Door[] = ["tcp", "tls", "unix", "udp", "ws", "wss"];

interface Case {
  service: "echo" | "cmd" | "sink";
  args: string[];
  /** What a client sends (a line for stream doors; one message or datagram otherwise). */
  send: string;
  /** The answer over a stream door (a line) and over a message door (one message). */
  stream: string;
  message: string;
  /** Over UDP, where nc sends the line with its newline as one datagram. */
  udp: string;
}

const CASES: Case[] = [
  // Echo returns the datagram as it came, newline included.
  {
    service: "echo",
    args: [],
    send: "hello",
    stream: "ECHO: hello\n",
    message: "ECHO: hello",
    udp: "ECHO: hello\n",
  },
  { service: "cmd", args: [], send: "UPPER hello", stream: "HELLO\n", message: "HELLO", udp: "HELLO" },
  { service: "sink", args: ["--ack"], send: "hello", stream: "OK 1\n", message: "OK 1", udp: "OK 1" },
];

let dir: string;
const running = new Map<string, { cli: RunningCli; doors: Record<Door, string> }>();

function run(cmd: string, args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: 15_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    // A child that exits before reading all its input must not fail the run (EPIPE).
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

/** Node's built-in WebSocket: sends one message, prints the first answer. */
function nodeWebSocket(url: string, message: string): Promise<string> {
  const major = Number(process.versions.node.split(".")[0]);
  const script = `
    const ws = new WebSocket(${JSON.stringify(url)});
    ws.onopen = () => ws.send(${JSON.stringify(message)});
    ws.onmessage = (e) => { process.stdout.write(String(e.data)); ws.close(); };
    ws.onerror = (e) => { console.error("websocket error", e.message ?? e); process.exit(1); };`;
  const flags = major < 22 ? ["--experimental-websocket", "--no-warnings"] : ["--no-warnings"];
  // Self-signed server certificate: only this client process skips verification.
  return run(process.execPath, [...flags, "-e", script], "", { NODE_TLS_REJECT_UNAUTHORIZED: "0" });
}

function client(door: Door, where: string, text: string): Promise<string> {
  const port = where.split(":").pop()!.split("/")[0]!;
  switch (door) {
    case "tcp":
      return run("nc", ["-N", "127.0.0.1", port], `${text}\n`);
    case "tls":
      return run("socat", ["-t", "2", "-", `OPENSSL:127.0.0.1:${port},verify=0`], `${text}\n`);
    case "unix":
      return run("nc", ["-U", "-N", where.slice("unix:".length)], `${text}\n`);
    case "udp":
      return run("nc", ["-u", "-w", "1", "127.0.0.1", port], `${text}\n`);
    case "ws":
    case "wss":
      return nodeWebSocket(where, text);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "echoplex-matrix-"));
  await Promise.all(
    CASES.map(async (c) => {
      const cli = await startCli([
        c.service,
        "tcp://127.0.0.1:0",
        "tls://127.0.0.1:0",
        `unix:${join(dir, `${c.service}.sock`)}`,
        "udp://127.0.0.1:0",
        "ws://127.0.0.1:0/",
        "wss://127.0.0.1:0/",
        "--tls-self-signed",
        "--log-level",
        "warn",
        ...c.args,
      ]);
      const deadline = Date.now() + 10_000;
      const printed = () => [...cli.stdout().matchAll(/listening on (\S+)/g)].map((m) => m[1]!);
      while (printed().length < 6) {
        if (Date.now() > deadline) throw new Error(`${c.service}: ${cli.stdout()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const lines = printed();
      const doors = Object.fromEntries(DOORS.map((d, i) => [d, lines[i]!])) as Record<Door, string>;
      running.set(c.service, { cli, doors });
    }),
  );
}, 60_000);

afterAll(async () => {
  for (const { cli } of running.values()) expect(await cli.stop("SIGTERM")).toBe(0);
  await rm(dir, { recursive: true, force: true });
});

describe("every line service over every door", () => {
  for (const c of CASES) {
    for (const door of DOORS) {
      it(`${c.service} over ${door}`, async () => {
        const { doors } = running.get(c.service)!;
        const answer = await client(door, doors[door], c.send);
        expect(answer).toBe(door === "udp" ? c.udp : door === "ws" || door === "wss" ? c.message : c.stream);
      });
    }
  }
});
