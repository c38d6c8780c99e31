// A real browser against the HTTP responder's routes: headless Chromium (Debian's, driven
// by playwright-core) on a page the responder serves. An EventSource on /sse receives
// every event once, reconnecting with Last-Event-ID after each drop, and stops at the
// 204; a WebSocket to /ws echoes text and binary; a cross-origin fetch passes CORS.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../helpers/chromium.js";
import { type RunningCli, startCli } from "../../helpers/cli.js";

let browser: Browser;
let cli: RunningCli;
let base = "";

beforeAll(async () => {
  browser = await launchChromium();
  cli = await startCli(["http", "127.0.0.1:0", "--delay", "0", "--log-level", "warn"]);
  base = `http://127.0.0.1:${cli.port}`;
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (cli !== undefined) expect(await cli.stop("SIGTERM")).toBe(0);
});

describe("the routes in Chromium", () => {
  it("an EventSource gets ids 1…6 once each over three connections (Last-Event-ID), then stops at the 204", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/get`);
      const result = await page.evaluate(
        () =>
          new Promise<{ ids: string[]; opens: number; state: number; timedOut: boolean }>((resolve) => {
            const es = new EventSource("/sse?count=6&interval=20ms&drop_after=2&retry=100");
            const ids: string[] = [];
            let opens = 0;
            const timer = setTimeout(
              () => resolve({ ids, opens, state: es.readyState, timedOut: true }),
              20_000,
            );
            es.onopen = () => {
              opens++;
            };
            es.addEventListener("ping", (e) => ids.push((e as MessageEvent).lastEventId));
            es.onerror = () => {
              // CONNECTING after each drop (it will resume); CLOSED after the 204.
              if (es.readyState === EventSource.CLOSED) {
                clearTimeout(timer);
                resolve({ ids, opens, state: es.readyState, timedOut: false });
              }
            };
          }),
      );
      expect(result.timedOut).toBe(false);
      expect(result.ids).toEqual(["1", "2", "3", "4", "5", "6"]);
      expect(result.opens).toBe(3);
      expect(result.state).toBe(2);
    } finally {
      await page.close();
    }
  }, 60_000);

  it("a WebSocket to /ws echoes text and binary", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/get`);
      const echoed = await page.evaluate(
        (url) =>
          new Promise<{ text: string; bytes: number[] } | string>((resolve) => {
            const ws = new WebSocket(url);
            ws.binaryType = "arraybuffer";
            const got: unknown[] = [];
            ws.onopen = () => {
              ws.send("héllo from chromium");
              ws.send(new Uint8Array([1, 2, 3, 250]));
            };
            ws.onmessage = (e) => {
              got.push(e.data);
              if (got.length === 2) {
                ws.close();
                resolve({ text: got[0] as string, bytes: [...new Uint8Array(got[1] as ArrayBuffer)] });
              }
            };
            ws.onerror = () => resolve("error");
            setTimeout(() => resolve("timed out"), 20_000);
          }),
        `${base.replace("http:", "ws:")}/ws`,
      );
      expect(echoed).toEqual({ text: "héllo from chromium", bytes: [1, 2, 3, 250] });
    } finally {
      await page.close();
    }
  }, 60_000);

  it("a cross-origin fetch with a custom header passes the preflight and reads the answer", async () => {
    const page = await browser.newPage();
    try {
      // Another origin than the responder's: 127.0.0.1 and localhost differ.
      await page.goto(`http://localhost:${cli.port}/get`);
      const result = await page.evaluate(async (url) => {
        const res = await fetch(url, {
          method: "PUT",
          headers: { "X-Custom": "1", "content-type": "application/json" },
          body: "{}",
        });
        return {
          status: res.status,
          body: (await res.json()) as { method: string; headers: Record<string, string[]> },
        };
      }, `${base}/anything`);
      expect(result.status).toBe(200);
      expect(result.body.method).toBe("PUT");
      expect(result.body.headers.Origin).toEqual([`http://localhost:${cli.port}`]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
