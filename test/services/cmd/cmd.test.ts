import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame } from "../../../src/codecs/length-prefixed.js";
import type { EchoplexServer } from "../../../src/core/server.js";
import { createCmdServer } from "../../../src/services/cmd/index.js";
import { connectClient, type TestClient } from "../../helpers/net.js";

let server: EchoplexServer<undefined> | undefined;
const clients: TestClient[] = [];

async function start(options: Parameters<typeof createCmdServer>[0] = {}): Promise<number> {
  server = createCmdServer(options);
  const { port } = await server.listen("127.0.0.1:0");
  return port;
}

async function client(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

/** Sends each request line and returns the reply line to each. */
async function ask(c: TestClient, ...requests: string[]): Promise<string[]> {
  c.write(requests.map((r) => `${r}\n`).join(""));
  return c.readLines(requests.length);
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server?.shutdown({ drainTimeoutMs: 1000 });
  server = undefined;
});

describe("cmd service over a real socket", () => {
  it("answers every command, one reply line each, command word in any case", async () => {
    const c = await client(await start());
    const replies = await ask(
      c,
      "ECHO hello world",
      "echo  two  spaces ",
      "UPPER hello",
      "lower HeLLo",
      "Reverse abc",
      "PING",
      "ping extra text is ignored",
      "HELP",
    );
    expect(replies).toEqual([
      "ECHO: hello world",
      "ECHO: two  spaces ",
      "HELLO",
      "hello",
      "cba",
      "PONG",
      "PONG",
      "Commands: ECHO <text>, UPPER <text>, LOWER <text>, REVERSE <text>, TIME, PING, HELP, QUIT",
    ]);
  });

  it("TIME answers the current time in RFC 3339 UTC", async () => {
    const c = await client(await start());
    const before = Date.now();
    const [time] = await ask(c, "TIME");
    expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const t = Date.parse(time!);
    expect(t).toBeGreaterThanOrEqual(before - 1000);
    expect(t).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it("converts case and reverses by grapheme, keeping accents and emoji sequences whole", async () => {
    const c = await client(await start());
    const replies = await ask(
      c,
      "REVERSE héllo 👩‍👩‍👧",
      // e + combining acute accent, a flag (two regional indicators), a skin-toned emoji
      "REVERSE e\u0301x🇫🇷y👍🏽",
      "UPPER straße café",
      "LOWER ÀÉÎÕÜ ΣΑΣ",
      "ECHO 日本語 ✓",
    );
    expect(replies).toEqual([
      "👩‍👩‍👧 olléh",
      "👍🏽y🇫🇷xe\u0301",
      "STRASSE CAFÉ",
      "àéîõü σας",
      "ECHO: 日本語 ✓",
    ]);
  });

  it("answers unknown commands and missing text with errors, and ignores empty lines", async () => {
    const c = await client(await start());
    c.write("\n   \n\t\nFOO bar\nUPPER\nLOWER   \nREVERSE\nECHO\nping\n");
    const replies = await c.readLines(6);
    expect(replies).toEqual([
      'ERROR: Unknown command "FOO"',
      "ERROR: UPPER needs text",
      "ERROR: LOWER needs text",
      "ERROR: REVERSE needs text",
      "ERROR: ECHO needs text",
      "PONG",
    ]);
    // The connection stays usable after errors.
    expect(await ask(c, "frobnicate")).toEqual(['ERROR: Unknown command "frobnicate"']);
  });

  it("QUIT answers BYE and the server closes; requests after QUIT in the same write are dropped", async () => {
    const c = await client(await start());
    c.write("PING\nQUIT\nPING\n");
    expect(await c.readToEnd()).toBe("PONG\nBYE\n");
  });

  it("answers CRLF requests with CRLF", async () => {
    const c = await client(await start());
    c.write("UPPER crlf\r\n");
    await c.waitFor((d) => d.toString() === "CRLF\r\n");
  });

  it("answers requests split across writes and many requests in one write, in order", async () => {
    const c = await client(await start());
    c.write("UPP");
    await new Promise((r) => setTimeout(r, 50));
    c.write("ER sp");
    await new Promise((r) => setTimeout(r, 50));
    c.write("lit\n");
    expect(await c.readLine()).toBe("SPLIT");
    const many = Array.from({ length: 500 }, (_, i) => `ECHO ${i}`);
    c.write(many.map((m) => `${m}\n`).join(""));
    const replies = await c.readLines(500);
    expect(replies).toEqual(many.map((_, i) => `ECHO: ${i}`));
  });

  it("answers the last request of a half-closed stream, then closes", async () => {
    const c = await client(await start());
    c.write("PING\nUPPER last");
    c.end();
    expect(await c.readToEnd()).toBe("PONG\nLAST\n");
  });

  it("speaks length-prefixed frames with --framing length", async () => {
    const c = await client(await start({ framing: "length" }));
    c.write(Buffer.concat([encodeFrame("UPPER multi\nline"), encodeFrame("PING"), encodeFrame("QUIT")]));
    const all = Buffer.from(await c.readToEnd(), "utf8");
    const frames: string[] = [];
    for (let off = 0; off < all.length; ) {
      const n = all.readUInt32BE(off);
      frames.push(all.subarray(off + 4, off + 4 + n).toString());
      off += 4 + n;
    }
    expect(frames).toEqual(["MULTI\nLINE", "PONG", "BYE"]);
  });

  it("rejects an over-long line with an error naming the limit, then closes", async () => {
    const c = await client(await start({ maxMessageBytes: 32 }));
    c.write(`ECHO ${"x".repeat(100)}\n`);
    expect(await c.readToEnd()).toBe("ERROR: line exceeds 32 bytes\n");
  });

  it("sends a shutdown notice after answering what it received", async () => {
    const c = await client(await start());
    expect(await ask(c, "PING")).toEqual(["PONG"]);
    const done = server!.shutdown({ drainTimeoutMs: 2000 });
    expect(await c.readToEnd()).toBe("NOTICE: server shutting down\n");
    await done;
  });
});
