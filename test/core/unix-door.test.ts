// The Unix socket door, and a server with several doors: one registry, one set of
// limits, one shutdown. Clients: OpenBSD nc (-U) and node's own sockets.
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EchoplexError, type EchoplexServer } from "../../src/index.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { connectClient, TestClient } from "../helpers/net.js";

let dir: string;
const servers: EchoplexServer<undefined>[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "echoplex-unix-"));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 1000 })));
  await rm(dir, { recursive: true, force: true });
});

function echo(options: Parameters<typeof createEchoServer>[0] = {}): EchoplexServer<undefined> {
  const server = createEchoServer(options);
  servers.push(server);
  return server;
}

async function connectUnix(path: string): Promise<TestClient> {
  const socket: Socket = connect({ path });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return new TestClient(socket);
}

/** `printf 'hello\n' | nc -U -N path`: what a user types. */
function ncUnix(path: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("nc", ["-U", "-N", path], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
    // A child that exits before reading all its input must not fail the run (EPIPE).
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe("the unix: door", () => {
  it("serves nc -U on a Unix socket and a TCP port at once, lists each peer's transport, and removes the file at shutdown", async () => {
    const path = join(dir, "echo.sock");
    const server = echo();
    const tcp = await server.listen("127.0.0.1:0");
    const unix = await server.listen(`unix:${path}`);
    expect(unix).toMatchObject({ transport: "unix", display: `unix:${path}`, tls: false });
    expect(tcp.transport).toBe("tcp");
    expect(server.addresses.map((a) => a.transport)).toEqual(["tcp", "unix"]);

    expect(await ncUnix(path, "hello\nworld\n")).toBe("ECHO: hello\nECHO: world\n");

    const overTcp = await connectClient(tcp.port);
    const overUnix = await connectUnix(path);
    overTcp.send("a");
    overUnix.send("b");
    await overTcp.waitFor((d) => d.toString() === "ECHO: a\n");
    await overUnix.waitFor((d) => d.toString() === "ECHO: b\n");
    expect(
      server
        .peers()
        .map((p) => `${p.transport} ${p.remoteAddress}`)
        .sort(),
    ).toEqual(["tcp 127.0.0.1", "unix unix"]);

    await server.shutdown({ drainTimeoutMs: 2000 });
    // Both peers got the shutdown notice; the socket file is gone.
    await overUnix.waitFor((d) => d.toString().includes("NOTICE: server shutting down"));
    await overTcp.waitFor((d) => d.toString().includes("NOTICE: server shutting down"));
    expect(await exists(path)).toBe(false);
  });

  it("replaces a socket file left by a crashed server, but never one a live server answers on", async () => {
    const path = join(dir, "stale.sock");
    // A server killed with SIGKILL leaves its socket file behind.
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [
        "-e",
        `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`,
      ]);
      child.once("exit", () => resolve());
    });
    expect(await exists(path)).toBe(true);
    const first = echo();
    await first.listen(`unix:${path}`);
    expect(await ncUnix(path, "still here\n")).toBe("ECHO: still here\n");

    const second = echo();
    const refused = await second.listen(`unix:${path}`).catch((err: unknown) => err);
    expect(EchoplexError.is(refused) && refused.code).toBe("ERR_ADDRESS_IN_USE");
    expect(String((refused as Error).message)).toContain(`unix:${path}`);
    // The live server was not disturbed.
    expect(await ncUnix(path, "again\n")).toBe("ECHO: again\n");
  });

  it("applies --unix-mode to the socket file", async () => {
    const path = join(dir, "mode.sock");
    await echo({ unixMode: 0o660 }).listen(`unix:${path}`);
    expect((await stat(path)).mode & 0o777).toBe(0o660);
  });

  it("listens in Linux's abstract namespace with unix:@name (no file)", async () => {
    const name = `echoplex-test-${process.pid}-${Date.now()}`;
    const info = await echo().listen(`unix:@${name}`);
    expect(info.display).toBe(`unix:@${name}`);
    const client = await connectUnix(`\0${name}`);
    client.send("abstract");
    await client.waitFor((d) => d.toString() === "ECHO: abstract\n");
    client.destroy();
  });

  it("counts every door against one --max-connections: a Unix peer is refused while a TCP peer holds the only slot", async () => {
    const path = join(dir, "limit.sock");
    const server = echo({ limits: { maxConnections: 1 } });
    const tcp = await server.listen("127.0.0.1:0");
    await server.listen(`unix:${path}`);
    const holder = await connectClient(tcp.port);
    holder.send("hold");
    await holder.waitFor((d) => d.toString() === "ECHO: hold\n");
    expect(await ncUnix(path, "")).toBe("ERROR: too many connections (limit 1)\n");
    holder.destroy();
  });

  it("refuses tls:// without TLS options and an unknown scheme with a clear error", async () => {
    const server = echo();
    await expect(server.listen("tls://127.0.0.1:0")).rejects.toThrow(/needs TLS options/);
    await expect(server.listen("ftp://127.0.0.1:0")).rejects.toThrow(/unknown scheme "ftp"/);
  });
});

describe("listen(...addresses)", () => {
  it("opens every door given at once and resolves with the first", async () => {
    const path = join(dir, "many.sock");
    const server = echo();
    const first = await server.listen("127.0.0.1:0", `unix:${path}`, "udp://127.0.0.1:0");
    expect(first.transport).toBe("tcp");
    expect(server.addresses.map((a) => a.transport)).toEqual(["tcp", "unix", "udp"]);
    expect(await ncUnix(path, "many\n")).toBe("ECHO: many\n");
  });
});
