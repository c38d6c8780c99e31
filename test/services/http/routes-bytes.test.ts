// /bytes, /stream-bytes, /range, /stream, /drip: go-httpbin's TestBytes, TestStreamBytes,
// TestRange, TestStream and TestDrip cases, and the --max-bytes / --max-delay bounds.
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { captureLogs } from "../../helpers/log-capture.js";
import { curl, fetchRoute, rawGet, startRoutes } from "../../helpers/routes.js";

/** The answer as sent, and whether it came chunked or with a length. */
async function streamed(
  url: string,
): Promise<{ chunked: boolean; length: string | undefined; body: Buffer }> {
  const r = await rawGet(url);
  return {
    chunked: r.headers["transfer-encoding"] === "chunked",
    length: r.headers["content-length"],
    body: r.body,
  };
}

describe("/bytes", () => {
  it("answers n bytes as application/octet-stream; the same seed gives the same bytes", async () => {
    const { base } = await startRoutes();
    const r = await fetchRoute(`${base}/bytes/1024`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/octet-stream");
    expect(r.body.length).toBe(1024);
    const a = await fetchRoute(`${base}/bytes/16?seed=1234567890`);
    const b = await fetchRoute(`${base}/bytes/16?seed=1234567890`);
    const c = await fetchRoute(`${base}/bytes/16?seed=42`);
    expect(a.body.length).toBe(16);
    expect(a.body.equals(b.body)).toBe(true);
    expect(a.body.equals(c.body)).toBe(false);
    for (const [path, n] of [
      ["/bytes/0", 0],
      ["/bytes/1", 1],
      ["/bytes/16?seed=-12345", 16],
    ] as const) {
      const e = await fetchRoute(`${base}${path}`);
      expect(e.status, path).toBe(200);
      expect(e.headers.get("content-length"), path).toBe(String(n));
      expect(e.body.length, path).toBe(n);
    }
  });

  it("refuses a bad count or seed with 400, and a count over --max-bytes with 400 naming the flag", async () => {
    const { base } = await startRoutes({ maxBytes: 1000 });
    for (const path of [
      "/bytes/-1",
      "/bytes/foo",
      "/bytes/3.14",
      "/bytes/16?seed=foo",
      "/bytes/16?seed=3.14",
    ]) {
      expect((await fetchRoute(`${base}${path}`)).status, path).toBe(400);
    }
    const over = await fetchRoute(`${base}/bytes/1001`);
    expect(over.status).toBe(400);
    expect(over.text).toContain("exceeds the maximum 1000 bytes (--max-bytes)");
    expect((await fetchRoute(`${base}/bytes/1000`)).body.length).toBe(1000);
  });
});

describe("a refused size", () => {
  it("is a 400 to the client, an info log line and a count in http_responses_total{code=400}", async () => {
    const { logger, lines } = captureLogs();
    const { base, server } = await startRoutes({ maxBytes: 1000, logger });
    const r = await fetchRoute(`${base}/bytes/5000`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({
      status_code: 400,
      error: "byte count 5000 exceeds the maximum 1000 bytes (--max-bytes)",
    });
    expect(lines.some((l) => l.msg === "bad route parameter, answering 400" && l.url === "/bytes/5000")).toBe(
      true,
    );
    const metric = server.metrics.find((m) => m.name === "http_responses_total");
    expect(metric).toBeDefined();
    expect(server.counts.responses.get(400)).toBe(1);
  });
});

describe("/stream-bytes", () => {
  it("streams n bytes chunked, whatever the chunk size; bad values are 400", async () => {
    const { base } = await startRoutes();
    for (const q of [
      "",
      "?chunk_size=1",
      "?chunk_size=256",
      "?chunk_size=7",
      "?chunk_size=512",
      "?chunk_size=-10",
    ]) {
      const r = await streamed(`${base}/stream-bytes/256${q}`);
      expect(r.chunked, q).toBe(true);
      expect(r.length, q).toBeUndefined();
      expect(r.body.length, q).toBe(256);
    }
    const seeded = await streamed(`${base}/stream-bytes/16?seed=7&chunk_size=3`);
    expect(seeded.body.equals((await fetchRoute(`${base}/bytes/16?seed=7`)).body)).toBe(true);
    for (const path of ["/stream-bytes/foo", "/stream-bytes/3.1415", "/stream-bytes/16?chunk_size=foo"]) {
      expect((await fetchRoute(`${base}${path}`)).status, path).toBe(400);
    }
    for (const path of ["/stream-bytes", "/stream-bytes/10/foo"]) {
      expect((await fetchRoute(`${base}${path}`)).status, path).toBe(404);
    }
  });
});

describe("/range", () => {
  it("answers the whole alphabet with ETag and Accept-Ranges; one range is a 206", async () => {
    const { base } = await startRoutes();
    const all = await fetchRoute(`${base}/range/26`);
    expect(all.status).toBe(200);
    expect(all.text).toBe("abcdefghijklmnopqrstuvwxyz");
    expect(all.headers.get("etag")).toBe("range26");
    expect(all.headers.get("accept-ranges")).toBe("bytes");
    expect(all.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const cases = [
      ["/range/100", "bytes=10-24", "bytes 10-24/100", "klmnopqrstuvwxy"],
      ["/range/1000", "bytes=0-15", "bytes 0-15/1000", "abcdefghijklmnop"],
      ["/range/26", "bytes=20-", "bytes 20-25/26", "uvwxyz"],
      ["/range/26", "bytes=-5", "bytes 21-25/26", "vwxyz"],
    ] as const;
    for (const [path, range, contentRange, body] of cases) {
      const r = await fetchRoute(`${base}${path}`, { headers: { range } });
      expect(r.status, range).toBe(206);
      expect(r.headers.get("content-range"), range).toBe(contentRange);
      expect(r.headers.get("content-length"), range).toBe(String(body.length));
      expect(r.text, range).toBe(body);
    }
  });

  it("several ranges are multipart/byteranges; a range past the end is 416; curl -r reads a slice", async () => {
    const { base } = await startRoutes();
    const multi = await fetchRoute(`${base}/range/100`, { headers: { range: "bytes=10-24, 50-64" } });
    expect(multi.status).toBe(206);
    const boundary = /multipart\/byteranges; boundary=(\S+)/.exec(
      multi.headers.get("content-type") ?? "",
    )?.[1];
    expect(boundary).toBeDefined();
    const parts = multi.text.split(`--${boundary}`).slice(1, -1);
    expect(parts.map((p) => /content-range: (.*)\r\n/.exec(p)?.[1])).toEqual([
      "bytes 10-24/100",
      "bytes 50-64/100",
    ]);
    expect(parts.map((p) => p.split("\r\n\r\n")[1]?.trimEnd())).toEqual([
      "klmnopqrstuvwxy",
      "yzabcdefghijklm",
    ]);
    const unsatisfiable = await fetchRoute(`${base}/range/26`, { headers: { range: "bytes=32-40" } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get("content-range")).toBe("bytes */26");
    // A malformed range is ignored (the whole resource), as go's ServeContent does.
    expect((await fetchRoute(`${base}/range/26`, { headers: { range: "bytes=10-5" } })).status).toBe(200);
    expect((await curl(["-s", "-r", "0-4", `${base}/range/26`])).toString()).toBe("abcde");
  });

  it("waits ?duration before answering; bad sizes and durations are 400, a longer one than --max-delay too", async () => {
    const { base } = await startRoutes({ maxDelayMs: 1000 });
    const slow = await fetchRoute(`${base}/range/100?duration=150ms`, { headers: { range: "bytes=10-24" } });
    expect(slow.status).toBe(206);
    expect(slow.ms).toBeGreaterThanOrEqual(140);
    for (const path of [
      "/range/foo",
      "/range/1.5",
      "/range/-1",
      "/range/100?duration=-1",
      "/range/100?duration=XYZ",
    ]) {
      expect((await fetchRoute(`${base}${path}`)).status, path).toBe(400);
    }
    const long = await fetchRoute(`${base}/range/100?duration=2s`);
    expect(long.status).toBe(400);
    expect(long.text).toContain("(--max-delay)");
    for (const path of ["/range/1/foo", "/range/"])
      expect((await fetchRoute(`${base}${path}`)).status, path).toBe(404);
  });
});

describe("/stream", () => {
  it("writes n JSON lines chunked (ids 0…n-1, the request in each), at most 100", async () => {
    const { base } = await startRoutes();
    const r = await streamed(`${base}/stream/5?x=1`);
    expect(r.chunked).toBe(true);
    const lines = r.body
      .toString()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: number; args: unknown; url: string });
    expect(lines.map((l) => l.id)).toEqual([0, 1, 2, 3, 4]);
    expect(lines[0]!.args).toEqual({ x: ["1"] });
    expect(lines[0]!.url).toBe(`${base}/stream/5?x=1`);
    const capped = await streamed(`${base}/stream/1000`);
    expect(capped.body.toString().trimEnd().split("\n")).toHaveLength(100);
    expect((await fetchRoute(`${base}/stream/foo`)).status).toBe(400);
    expect((await fetchRoute(`${base}/stream/1/foo`)).status).toBe(404);
  });
});

describe("/drip", () => {
  it("sends numbytes '*' over the duration with a Content-Length (not chunked) and the asked code", async () => {
    const { base } = await startRoutes();
    const plain = await streamed(`${base}/drip?duration=0`);
    expect(plain.body.toString()).toBe("**********");
    expect(plain.chunked).toBe(false);
    expect(plain.length).toBe("10");
    const cases = [
      ["numbytes=1&duration=0", 1, 200, 0],
      ["numbytes=101&duration=0", 101, 200, 0],
      ["code=404&duration=0", 10, 404, 0],
      ["code=599&duration=0", 10, 599, 0],
      ["duration=0.1&numbytes=5", 5, 200, 100],
      ["duration=100ms&delay=100ms&numbytes=3", 3, 200, 200],
    ] as const;
    for (const [q, n, code, minMs] of cases) {
      const r = await fetchRoute(`${base}/drip?${q}`);
      expect(r.status, q).toBe(code);
      expect(r.body.length, q).toBe(n);
      expect(r.ms, q).toBeGreaterThanOrEqual(minMs - 10);
    }
  });

  it("writes incrementally: the first byte arrives long before the last", async () => {
    const { base } = await startRoutes();
    const started = Date.now();
    const times: number[] = [];
    await new Promise<void>((resolve, reject) => {
      request(`${base}/drip?numbytes=3&duration=600ms`, { agent: false }, (res) => {
        res.on("data", (c: Buffer) => {
          for (let i = 0; i < c.length; i++) times.push(Date.now() - started);
        });
        res.on("end", resolve);
      })
        .on("error", reject)
        .end();
    });
    expect(times).toHaveLength(3);
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(500);
  });

  it("refuses bad values and anything over --max-bytes or --max-delay with a 400 that names the bound", async () => {
    const { base } = await startRoutes({ maxBytes: 1024, maxDelayMs: 1000 });
    const bad = [
      "duration=-1ms",
      "duration=foo",
      "delay=-1",
      "delay=foo",
      "numbytes=foo",
      "numbytes=0",
      "numbytes=-1",
      "numbytes=0xff",
      "code=foo",
      "code=-1",
      "code=25",
      "code=600",
    ];
    for (const q of bad) expect((await fetchRoute(`${base}/drip?${q}`)).status, q).toBe(400);
    const bytes = await fetchRoute(`${base}/drip?numbytes=1025`);
    expect(bytes.status).toBe(400);
    expect(bytes.text).toContain("(--max-bytes)");
    expect((await fetchRoute(`${base}/drip?numbytes=1024&duration=0`)).body.length).toBe(1024);
    for (const q of ["duration=2s", "delay=2s", "duration=600ms&delay=600ms"]) {
      const r = await fetchRoute(`${base}/drip?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.text, q).toContain("(--max-delay)");
    }
  });
});
