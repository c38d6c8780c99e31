// The echo service in-process, over real sockets on port 0.
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame } from "../../../src/codecs/length-prefixed.js";
import type { EchoplexServer } from "../../../src/core/server.js";
import { createEchoServer, type EchoOptions } from "../../../src/services/echo/index.js";
import { connectClient, sleep, type TestClient } from "../../helpers/net.js";

let server: EchoplexServer<undefined> | undefined;
const clients: TestClient[] = [];

async function start(options: EchoOptions = {}): Promise<number> {
  server = createEchoServer(options);
  const { port } = await server.listen("127.0.0.1:0");
  return port;
}

async function client(port: number): Promise<TestClient> {
  const c = await connectClient(port);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await server?.shutdown({ drainTimeoutMs: 500 });
  server = undefined;
});

describe("echo service", () => {
  it("answers each line with the ECHO: prefix, in order", async () => {
    const c = await client(await start());
    c.write("Hello Server!\nsecond\n\n");
    expect(await c.readLines(3)).toEqual(["ECHO: Hello Server!", "ECHO: second", "ECHO: "]);
  });

  it("answers a CRLF line with CRLF and an LF line with LF", async () => {
    const c = await client(await start());
    c.write("a\r\nb\n");
    await c.waitFor((d) => d.toString() === "ECHO: a\r\nECHO: b\n");
  });

  it("uses another prefix, or none", async () => {
    const c1 = await client(await start({ prefix: "Echo: " }));
    c1.send("x");
    expect(await c1.readLine()).toBe("Echo: x");
    await server!.shutdown();
    const c2 = await client(await start({ prefix: "" }));
    c2.send("y");
    expect(await c2.readLine()).toBe("y");
  });

  it("keeps bytes that are not UTF-8 intact", async () => {
    const c = await client(await start());
    const payload = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    c.write(Buffer.concat([payload, Buffer.from("\n")]));
    await c.waitFor((d) => d.length >= 6 + payload.length + 1);
    expect(c.received.equals(Buffer.concat([Buffer.from("ECHO: "), payload, Buffer.from("\n")]))).toBe(true);
  });

  it("answers every line of a half-closed stream, the unterminated last one too, then closes", async () => {
    const c = await client(await start());
    c.write("a\nb");
    c.end();
    expect(await c.readToEnd()).toBe("ECHO: a\nECHO: b\n");
  });

  it("decodes the same lines however the stream is split on the wire", async () => {
    const port = await start();
    const message = "first line\r\nsecond\nthird one\n";
    for (let i = 1; i < message.length; i++) {
      const c = await client(port);
      c.write(message.slice(0, i));
      await sleep(2);
      c.write(message.slice(i));
      await c.waitFor((d) => d.toString().split("\n").length === 4, 5000, `split at ${i}`);
      expect(c.received.toString()).toBe("ECHO: first line\r\nECHO: second\nECHO: third one\n");
      c.destroy();
    }
  });

  it("refuses a line over the limit with the real limit in the message, then closes", async () => {
    const c = await client(await start({ maxMessageBytes: 100 }));
    c.send("ok");
    c.write(`${"x".repeat(101)}\nnever answered\n`);
    expect(await c.readToEnd()).toBe("ECHO: ok\nERROR: line exceeds 100 bytes\n");
  });

  it("uses 64 KiB as the default line limit", async () => {
    const c = await client(await start());
    c.write(`${"y".repeat(65536)}\n`);
    await c.waitFor((d) => d.length === 6 + 65536 + 1);
    c.write(`${"z".repeat(65537)}\n`);
    const rest = await c.readToEnd();
    expect(rest.endsWith("ERROR: line exceeds 65536 bytes\n")).toBe(true);
  });

  it("gives 1,000 concurrent clients exactly their own replies", async () => {
    const port = await start();
    const conns = await Promise.all(Array.from({ length: 1000 }, () => client(port)));
    for (const [i, c] of conns.entries()) c.write(`client ${i} a\nclient ${i} b\n`);
    await Promise.all(
      conns.map(async (c, i) => {
        expect(await c.readLines(2, 20_000)).toEqual([`ECHO: client ${i} a`, `ECHO: client ${i} b`]);
      }),
    );
    expect(server!.connections.size).toBe(1000);
  }, 60_000);

  it("echoes length-prefixed frames with the prefix inside the frame", async () => {
    const c = await client(await start({ mode: "length" }));
    c.write(Buffer.concat([encodeFrame("hello"), encodeFrame("")]));
    await c.waitFor((d) => d.length === 4 + 11 + 4 + 6);
    const data = c.received;
    expect(data.readUInt32BE(0)).toBe(11);
    expect(data.subarray(4, 15).toString()).toBe("ECHO: hello");
    expect(data.readUInt32BE(15)).toBe(6);
  });

  it("refuses a frame over the limit from its header with a framed error", async () => {
    const c = await client(await start({ mode: "length", maxMessageBytes: 1000 }));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(2 ** 32 - 1, 0);
    c.write(header);
    const reply = Buffer.from(await c.readToEnd(), "latin1");
    expect(reply.subarray(4).toString()).toBe("ERROR: frame of 4294967295 bytes exceeds 1000 bytes");
  });

  it("echoes raw bytes exactly (RFC 862)", async () => {
    const c = await client(await start({ mode: "raw" }));
    const bytes = Buffer.from([1, 2, 3, 10, 13, 0, 255]);
    c.write(bytes);
    await c.waitFor((d) => d.length === bytes.length);
    expect(c.received.equals(bytes)).toBe(true);
  });

  it("listens on IPv6 loopback", async () => {
    server = createEchoServer();
    const info = await server.listen("[::1]:0");
    expect(info.display).toBe(`[::1]:${info.port}`);
    const c = await connectClient(info.port, "::1");
    clients.push(c);
    c.send("v6");
    expect(await c.readLine()).toBe("ECHO: v6");
  });
});
