// /sse (ids, Last-Event-ID, 204 when none are left, the --max-delay bound) and /ws (the
// WebSocket echo: text, binary, --max-bytes, other paths refused) over real sockets.
import { request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { fetchRoute, startRoutes } from "../../helpers/routes.js";

interface SseEvent {
  id: string;
  event: string;
  data: { id: number; timestamp: number };
}

function parseEvents(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.includes("data:"))
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
      );
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? "null") } as SseEvent;
    });
}

describe("/sse", () => {
  it("sends count events with ids 1…count, interval apart, as text/event-stream", async () => {
    const { base } = await startRoutes();
    const r = await fetchRoute(`${base}/sse?count=4&interval=50ms`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = parseEvents(r.text);
    expect(events.map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
    expect(events.every((e) => e.event === "ping" && String(e.data.id) === e.id)).toBe(true);
    expect(events[3]!.data.timestamp - events[0]!.data.timestamp).toBeGreaterThanOrEqual(140);
  });

  it("resumes after Last-Event-ID, and answers 204 once no event is left", async () => {
    const { base } = await startRoutes();
    const resumed = await fetchRoute(`${base}/sse?count=5&interval=1ms`, {
      headers: { "last-event-id": "3" },
    });
    expect(parseEvents(resumed.text).map((e) => e.id)).toEqual(["4", "5"]);
    const done = await fetchRoute(`${base}/sse?count=5&interval=1ms`, { headers: { "last-event-id": "5" } });
    expect(done.status).toBe(204);
    const dropped = await fetchRoute(`${base}/sse?count=5&interval=1ms&drop_after=2&retry=100`, {
      headers: { "last-event-id": "1" },
    });
    expect(dropped.text.startsWith("retry: 100\n\n")).toBe(true);
    expect(parseEvents(dropped.text).map((e) => e.id)).toEqual(["2", "3"]);
  });

  it("streams: the first event arrives before the last is due", async () => {
    const { base } = await startRoutes();
    const started = Date.now();
    const firstAt = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/sse?count=3&interval=1s`, { agent: false }, (res) => {
        res.once("data", () => {
          resolve(Date.now() - started);
          req.destroy();
        });
      });
      req.on("error", reject);
      req.end();
    });
    expect(firstAt).toBeLessThan(1500);
  });

  it("refuses a bad count, interval or drop_after, and count × interval over --max-delay, with a 400", async () => {
    const { base } = await startRoutes({ maxDelayMs: 1000 });
    for (const q of ["count=0", "count=foo", "count=100000", "interval=foo", "drop_after=0", "retry=x"]) {
      expect((await fetchRoute(`${base}/sse?${q}`)).status, q).toBe(400);
    }
    const long = await fetchRoute(`${base}/sse?count=10&interval=200ms`);
    expect(long.status).toBe(400);
    expect(long.text).toContain("(--max-delay)");
  });
});

function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  return new Promise((resolve) =>
    ws.once("message", (data, binary) => resolve({ data: data as Buffer, binary })),
  );
}

describe("/ws", () => {
  it("echoes text as text and binary as binary", async () => {
    const { port } = await startRoutes();
    const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
    try {
      const text = nextMessage(ws);
      ws.send("hello, echo");
      expect(await text).toEqual({ data: Buffer.from("hello, echo"), binary: false });
      const bin = nextMessage(ws);
      ws.send(Buffer.from([0, 1, 2, 255]));
      expect(await bin).toEqual({ data: Buffer.from([0, 1, 2, 255]), binary: true });
    } finally {
      ws.close();
    }
  });

  it("an echo socket outlives the HTTP timeouts: keep-alive, headers and request timeouts do not apply to it", async () => {
    const { port } = await startRoutes({
      keepAliveTimeoutMs: 200,
      headersTimeoutMs: 300,
      requestTimeoutMs: 400,
    });
    const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
    try {
      // Well past all three timeouts, and past node's check of them (every 100 ms here).
      await new Promise((r) => setTimeout(r, 1500));
      const echoed = nextMessage(ws);
      ws.send("still here");
      expect((await echoed).data.toString()).toBe("still here");
    } finally {
      ws.close();
    }
  });

  it("closes with 1009 on a message over --max-bytes; shutdown closes with 1001", async () => {
    const { port, server } = await startRoutes({ maxBytes: 1024 });
    const ws = await openWs(`ws://127.0.0.1:${port}/ws`);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("error", () => {});
    const echoed = nextMessage(ws);
    ws.send(Buffer.alloc(1024));
    expect((await echoed).data.length).toBe(1024);
    ws.send(Buffer.alloc(1025));
    expect(await closed).toBe(1009);
    const other = await openWs(`ws://127.0.0.1:${port}/ws`);
    const goingAway = new Promise<number>((resolve) => other.once("close", (code) => resolve(code)));
    await server.shutdown({ drainTimeoutMs: 2000 });
    expect(await goingAway).toBe(1001);
  });

  it("a plain GET /ws is a 426; an upgrade on another path is refused with a 404", async () => {
    const { base, port } = await startRoutes();
    const plain = await fetchRoute(`${base}/ws`);
    expect(plain.status).toBe(426);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" });
      let got = "";
      socket.on("data", (d) => {
        got += d.toString();
      });
      socket.on("close", () => resolve(got));
      socket.on("error", reject);
      socket.write(
        "GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    expect(reply.startsWith("HTTP/1.1 404")).toBe(true);
  });
});
