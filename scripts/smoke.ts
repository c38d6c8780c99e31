// Smoke test of every service through the built CLI, for runtimes whose test
// runner differs from Node's (Bun): `bun scripts/smoke.ts`. Exits non-zero on failure.
import { spawn } from "node:child_process";
import { connect, createServer } from "node:net";

const CLI = new URL("../dist/cli/main.js", import.meta.url).pathname;

interface Case {
  name: string;
  args: string[];
  send: string;
  expect: RegExp;
}

const cases: Case[] = [
  { name: "echo", args: ["echo", "127.0.0.1:0"], send: "hello\n", expect: /^ECHO: hello\n/ },
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
];

async function start(args: string[]): Promise<{ port: number; stop: () => Promise<number | null> }> {
  const proc = spawn(process.execPath, [CLI, ...args, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} did not start: ${out}`)), 10_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on \S*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code}: ${out}`)));
  });
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        proc.once("exit", (code) => resolve(code));
        proc.kill("SIGTERM");
      }),
  };
}

function exchange(port: number, send: string, expect: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
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
    await exchange(server.port, c.send, c.expect);
    const code = await server.stop();
    if (code !== 0) throw new Error(`exit code ${code} after SIGTERM`);
    console.log(`ok   ${c.name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${c.name}: ${(err as Error).message}`);
  }
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

console.log(
  `${cases.length + 1 - failed} passed, ${failed} failed (${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`})`,
);
process.exit(failed === 0 ? 0 : 1);
