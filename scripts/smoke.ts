// Smoke test of every service through the built CLI, for runtimes whose test
// runner differs from Node's (Bun): `bun scripts/smoke.ts`. Exits non-zero on failure.
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { connect as tlsConnect } from "node:tls";

const CLI = new URL("../dist/cli/echoplex.cjs", import.meta.url).pathname;

interface Case {
  name: string;
  args: string[];
  send: string;
  expect: RegExp;
  /** With --admin: a path of the admin endpoint to GET after the exchange, and what it must contain. */
  admin?: { path: string; expect: RegExp };
  /** Speak TLS (without verifying the self-signed certificate). */
  tls?: boolean;
}

const cases: Case[] = [
  { name: "echo", args: ["echo", "127.0.0.1:0"], send: "hello\n", expect: /^ECHO: hello\n/ },
  {
    name: "echo --admin (metrics)",
    args: ["echo", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
    send: "hello\n",
    expect: /^ECHO: hello\n/,
    admin: { path: "/metrics", expect: /^echoplex_messages_received_total\{service="echo"\} 1$/m },
  },
  {
    name: "http",
    args: ["http", "127.0.0.1:0", "--delay", "100ms"],
    send: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    expect: /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nHello World!$/,
  },
  {
    name: "http --admin (latency of every answer)",
    args: ["http", "127.0.0.1:0", "--delay", "100ms", "--admin", "127.0.0.1:0"],
    send: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    expect: /\r\n\r\nHello World!$/,
    admin: { path: "/metrics", expect: /^echoplex_reply_latency_seconds_count\{service="http"\} 1$/m },
  },
  {
    name: "http: a malformed request answered 400 (lingering close)",
    args: ["http", "127.0.0.1:0", "--delay", "0"],
    send: `NOT HTTP\r\n\r\n${"junk".repeat(4096)}`,
    expect: /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*\r\n\r\nmalformed request/,
  },
  {
    name: "http --max-pipeline 2: 6 pipelined requests all answered",
    args: ["http", "127.0.0.1:0", "--delay", "50ms", "--max-pipeline", "2"],
    send: "GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(6),
    expect: /^(HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\nHello World!){6}$/,
  },
  {
    name: "echo --workers 2 --admin (one endpoint over both workers)",
    args: ["echo", "127.0.0.1:0", "--workers", "2", "--admin", "127.0.0.1:0"],
    send: "hello\n",
    expect: /^ECHO: hello\n/,
    admin: { path: "/metrics", expect: /^echoplex_messages_received_total\{service="echo"\} 1$/m },
  },
  {
    name: "echo --workers 2 --workers-balance reuseport (a socket per worker, one port 0)",
    args: ["echo", "127.0.0.1:0", "--workers", "2", "--workers-balance", "reuseport"],
    send: "hello\n",
    expect: /^ECHO: hello\n/,
  },
  {
    name: "echo over TLS (self-signed)",
    args: ["echo", "127.0.0.1:0", "--tls-self-signed"],
    send: "hello\n",
    expect: /^ECHO: hello\n/,
    tls: true,
  },
  {
    name: "serve (echo + http)",
    args: ["serve", "--config", new URL("./smoke-serve.json", import.meta.url).pathname],
    send: "hello\n",
    expect: /^ECHO: hello\n/,
  },
  {
    name: "chat",
    args: ["chat", "127.0.0.1:0"],
    send: "/nick smoke\n/who\n",
    expect: /\* guest-1 is now known as smoke\n\* 1 in #lobby: smoke \(idle \d+s\)\n/,
  },
  {
    name: "sink",
    args: ["sink", "127.0.0.1:0", "--ack"],
    send: "hello\n\u0000binary\n",
    expect: /^OK 1\nOK 2\n/,
  },
  {
    name: "cmd",
    args: ["cmd", "127.0.0.1:0"],
    send: "UPPER héllo\nREVERSE ab👩‍👩‍👧\nPING\n",
    expect: /^HÉLLO\n👩‍👩‍👧ba\nPONG\n/,
  },
  {
    name: "echo --proxy-protocol",
    args: ["echo", "127.0.0.1:0", "--proxy-protocol"],
    send: "PROXY TCP4 192.0.2.1 127.0.0.1 4000 8080\r\nhello\n",
    expect: /^ECHO: hello\n/,
  },
  {
    name: "cmd --rate-limit",
    args: ["cmd", "127.0.0.1:0", "--rate-limit", "2"],
    send: "PING\nPING\nPING\nPING\n",
    expect: /^PONG\nPONG\nERROR: rate limit exceeded \(2 messages\/s\)\n/,
  },
];

async function start(
  args: string[],
): Promise<{ port: number; adminPort: number | undefined; stop: () => Promise<number | null> }> {
  const proc = spawn(process.execPath, [CLI, ...args, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${out}`)), 10_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m && (!args.includes("--admin") || /echoplex admin listening/.test(out))) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
  });
  const admin = /echoplex admin listening on \S*:(\d+)/.exec(out);
  return {
    port,
    adminPort: admin ? Number(admin[1]) : undefined,
    stop: () =>
      new Promise((resolve) => {
        proc.once("exit", (code) => resolve(code));
        proc.kill("SIGTERM");
      }),
  };
}

function exchange(port: number, send: string, expect: RegExp, tls = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls
      ? tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false })
      : connect({ port, host: "127.0.0.1" });
    let got = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply matching ${expect}; got ${JSON.stringify(got)}`));
    }, 5000);
    socket.on("data", (d) => {
      got += d.toString();
      if (expect.test(got)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(got);
      }
    });
    socket.on("error", reject);
    socket.write(send);
  });
}

/** The load generator against the echo service: exact verified counts, in one process and in two workers. */
async function benchCase(extra: string[]): Promise<void> {
  const server = await start(["echo", "127.0.0.1:0"]);
  try {
    const proc = spawn(
      process.execPath,
      [
        CLI,
        "bench",
        "echo",
        `127.0.0.1:${server.port}`,
        "--conns",
        "4",
        "--requests",
        "2000",
        "--json",
        ...extra,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    const result = JSON.parse(out) as { ok: number; mismatches: number };
    if (code !== 0 || result.ok !== 2000 || result.mismatches !== 0) {
      throw new Error(`bench exited ${code}: ${out}`);
    }
  } finally {
    await server.stop();
  }
}
const benchCases: Array<[string, string[]]> = [
  ["bench", []],
  ["bench --workers 2", ["--workers", "2"]],
];

let failed = 0;
for (const [name, extra] of benchCases) {
  try {
    await benchCase(extra);
    console.log(`ok   ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${(err as Error).message}`);
  }
}
for (const c of cases) {
  try {
    const server = await start(c.args);
    await exchange(server.port, c.send, c.expect, c.tls);
    if (c.admin !== undefined) {
      const res = await fetch(`http://127.0.0.1:${server.adminPort}${c.admin.path}`);
      const body = await res.text();
      if (res.status !== 200 || !c.admin.expect.test(body)) {
        throw new Error(`admin ${c.admin.path}: HTTP ${res.status}, no match for ${c.admin.expect}`);
      }
    }
    const code = await server.stop();
    if (code !== 0) throw new Error(`exit code ${code} after SIGTERM`);
    console.log(`ok   ${c.name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${c.name}: ${(err as Error).message}`);
  }
}
// The client (pipe mode) and the connection pool against the cmd service, on this runtime.
async function clientAndPool(): Promise<void> {
  const server = await start(["cmd", "127.0.0.1:0"]);
  try {
    const client = spawn(process.execPath, [CLI, "client", `127.0.0.1:${server.port}`], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    client.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    client.stdin.end("ECHO a\nUPPER b\n");
    const code = await new Promise<number | null>((resolve) => client.once("exit", resolve));
    if (code !== 0 || out !== "ECHO: a\nB\n")
      throw new Error(`client: exit ${code}, output ${JSON.stringify(out)}`);
    const { createPool } = (await import(
      new URL("../dist/index.js", import.meta.url).href
    )) as typeof import("../src/index.js");
    const pool = createPool({ host: "127.0.0.1", port: server.port, max: 4 });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => pool.request(`ECHO ${i}`)));
    await pool.close();
    replies.forEach((r, i) => {
      if (r.toString() !== `ECHO: ${i}`)
        throw new Error(`pool: reply ${i} was ${JSON.stringify(r.toString())}`);
    });
  } finally {
    await server.stop();
  }
}
try {
  await clientAndPool();
  console.log("ok   client+pool");
} catch (err) {
  failed++;
  console.log(`FAIL client+pool: ${(err as Error).message}`);
}

// Chat across two servers through a real redis-server (ioredis on this runtime):
// a private message from a user on B reaches a user on A.
async function redisChat(): Promise<void> {
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
  const redisPort = (free.address() as { port: number }).port;
  await new Promise((resolve) => free.close(resolve));
  const redis = spawn(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let out = "";
      redis.once("error", () => reject(new Error("redis-server not found: run scripts/setup-system.sh")));
      redis.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("Ready to accept connections")) resolve();
      });
    });
    const url = `redis://127.0.0.1:${redisPort}`;
    const a = await start(["chat", "127.0.0.1:0", "--redis", url]);
    const b = await start(["chat", "127.0.0.1:0", "--redis", url]);
    const first = connect({ port: a.port, host: "127.0.0.1" });
    let got = "";
    const heard = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`A got ${JSON.stringify(got)}`)), 5000);
      first.on("data", (d) => {
        got += d.toString();
        if (got.includes("*guest-2* hi from B")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 300)); // guest-1 is admitted on A
    await exchange(b.port, "/msg guest-1 hi from B\n", /-> \*guest-1\* hi from B/);
    await heard;
    first.destroy();
    const codes = [await a.stop(), await b.stop()];
    if (codes.some((c) => c !== 0)) throw new Error(`exit codes ${codes.join(", ")} after SIGTERM`);
  } finally {
    redis.kill("SIGKILL");
  }
}
try {
  await redisChat();
  console.log("ok   chat --redis (two servers)");
} catch (err) {
  failed++;
  console.log(`FAIL chat --redis (two servers): ${(err as Error).message}`);
}

// Every door of one echo on this runtime: UDP, a Unix socket and WebSocket (the
// runtime's own WebSocket client), then one shutdown for all of them.
async function doors(): Promise<void> {
  const { createEchoServer } = (await import(
    new URL("../dist/index.js", import.meta.url).href
  )) as typeof import("../src/index.js");
  const { createSocket } = await import("node:dgram");
  const server = createEchoServer();
  const sock = `/tmp/echoplex-smoke-${process.pid}.sock`;
  const udp = await server.listen("udp://127.0.0.1:0");
  await server.listen(`unix:${sock}`);
  const ws = await server.listen("ws://127.0.0.1:0/");
  const within = <T>(what: string, p: Promise<T>) =>
    Promise.race([
      p,
      new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer`)), 5000)),
    ]);
  const dgram = createSocket("udp4");
  const overUdp = await within(
    "udp",
    new Promise<string>((resolve) => {
      dgram.on("message", (m) => resolve(m.toString()));
      dgram.send("u", udp.port, "127.0.0.1");
    }),
  );
  dgram.close();
  const overUnix = await within(
    "unix",
    new Promise<string>((resolve) => {
      const c = connect({ path: sock });
      c.on("data", (d) => {
        resolve(d.toString());
        c.end();
      });
      c.write("x\n");
    }),
  );
  const overWs = await within(
    "ws",
    new Promise<string>((resolve) => {
      const c = new WebSocket(`ws://127.0.0.1:${ws.port}/`);
      c.onopen = () => c.send("w");
      c.onmessage = (e) => {
        resolve(String(e.data));
        c.close();
      };
    }),
  );
  await server.shutdown({ drainTimeoutMs: 2000 });
  const got = JSON.stringify([overUdp, overUnix, overWs]);
  if (got !== JSON.stringify(["ECHO: u", "ECHO: x\n", "ECHO: w"])) throw new Error(`answers ${got}`);
}
// Node 20 has no global WebSocket without a flag: the door is still tested by `npm test` there.
if (typeof WebSocket === "function") {
  try {
    await doors();
    console.log("ok   doors (udp, unix, ws)");
  } catch (err) {
    failed++;
    console.log(`FAIL doors (udp, unix, ws): ${(err as Error).message}`);
  }
} else {
  console.log("skip doors (no global WebSocket on this runtime)");
}

console.log(
  `${cases.length + benchCases.length + 2 + (typeof WebSocket === "function" ? 1 : 0) - failed} passed, ${failed} failed (${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`})`,
);
process.exit(failed === 0 ? 0 : 1);
