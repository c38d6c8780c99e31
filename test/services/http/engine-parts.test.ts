// The responder on the engine's parts (issue 14): its periodic checks on the shared
// ticker (none left running once it has stopped), listen errors typed as the engine's,
// and its modules small, one job each.
import { readdirSync, readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { activeTickTasks } from "../../../src/core/ticker.js";
import { EchoplexError } from "../../../src/errors.js";
import { createHttpResponder, type HttpResponder } from "../../../src/services/http/index.js";

const httpDir = join(import.meta.dirname, "../../../src/services/http");

let servers: HttpResponder[] = [];

afterEach(async () => {
  await Promise.all(servers.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
  servers = [];
});

async function waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `request` on a raw socket, returns everything received until the server closes. */
function exchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error("no close within 10 s"));
    }, 10_000);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(guard);
      resolve(Buffer.concat(chunks).toString("latin1"));
    });
    socket.write(request);
  });
}

describe("the HTTP responder on the engine's parts", () => {
  it("runs its lingering closes and its clock on the shared ticker, and leaves no task once stopped", async () => {
    const before = activeTickTasks();
    const server = createHttpResponder({ delayMs: 0, lingerMs: 200 });
    servers.push(server);
    expect(activeTickTasks()).toBe(before);
    const { port } = await server.listen("127.0.0.1:0");
    // While listening: one task keeps the coarse clock the per-request stamps read.
    expect(activeTickTasks()).toBe(before + 1);
    const answer = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nHello World!$/);
    expect(server.lingering.started).toBe(1);
    await server.shutdown({ drainTimeoutMs: 1000 });
    await waitFor("the lingering close to end", () => server.lingering.size === 0);
    expect(activeTickTasks()).toBe(before);
  });

  it("reports an address in use as ERR_ADDRESS_IN_USE, as every service does", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    const server = createHttpResponder();
    try {
      const err = await server.listen(`127.0.0.1:${port}`).catch((e: unknown) => e);
      expect(EchoplexError.is(err) && err.code).toBe("ERR_ADDRESS_IN_USE");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("is split by concern: server.ts and every module at most 400 lines, no timer of its own, index.ts only re-exports", () => {
    const files = readdirSync(httpDir).filter((f) => f.endsWith(".ts"));
    for (const file of files) {
      const text = readFileSync(join(httpDir, file), "utf8");
      expect(text.split("\n").length, file).toBeLessThanOrEqual(400);
      expect(text, `${file}: periodic checks belong on the shared ticker`).not.toMatch(/setInterval\(/);
    }
    const index = readFileSync(join(httpDir, "index.ts"), "utf8");
    const code = index.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("//"));
    const statements = code
      .join("\n")
      .split(";")
      .filter((s) => s.trim() !== "");
    for (const statement of statements)
      expect(statement.trim()).toMatch(/^export (type )?\{[^}]*\} from "\.\/[\w-]+\.js"$/);
  });
});
