// Smoke test of every service through the built CLI, for runtimes whose test
// runner differs from Node's (Bun): `bun scripts/smoke.ts`. Exits non-zero on failure.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";

const CLI = new URL("../dist/cli/main.js", import.meta.url).pathname;

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
    name: "echo --workers 2 --admin (one endpoint over both workers)",
    args: ["echo", "127.0.0.1:0", "--workers", "2", "--admin", "127.0.0.1:0"],
    send: "hello\n",
    expect: /^ECHO: hello\n/,
    admin: { path: "/metrics", expect: /^echoplex_messages_received_total\{service="echo"\} 1$/m },
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

let failed = 0;
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
console.log(
  `${cases.length - failed} passed, ${failed} failed (${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`})`,
);
process.exit(failed === 0 ? 0 : 1);
