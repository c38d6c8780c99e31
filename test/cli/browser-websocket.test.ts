// A browser at the WebSocket doors: headless Chromium (Debian's, driven by
// playwright-core) opens ws:// and wss:// to the real CLI, sends text and binary, and
// is refused by --ws-origin unless its page's origin is allowed.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../helpers/chromium.js";
import { type RunningCli, startCli } from "../helpers/cli.js";

let browser: Browser;
let cli: RunningCli;
let ws = "";
let wss = "";

beforeAll(async () => {
  browser = await launchChromium([
    // The server's certificate is self-signed: this browser trusts it for the test.
    "--ignore-certificate-errors",
    // The test pages are served by the test under made-up public origins: let them reach loopback.
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks",
  ]);
  cli = await startCli([
    "echo",
    "ws://127.0.0.1:0/",
    "wss://127.0.0.1:0/",
    "--tls-self-signed",
    "--ws-origin",
    "http://allowed.test",
    "--log-level",
    "warn",
  ]);
  const deadline = Date.now() + 10_000;
  const doors = () => [...cli.stdout().matchAll(/listening on (\S+)/g)].map((m) => m[1]!);
  while (doors().length < 2) {
    if (Date.now() > deadline) throw new Error(cli.stdout());
    await new Promise((r) => setTimeout(r, 20));
  }
  [ws, wss] = doors() as [string, string];
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (cli !== undefined) expect(await cli.stop("SIGTERM")).toBe(0);
});

/** Opens a page at `origin` (served by the test itself) and runs a WebSocket exchange there. */
async function exchange(
  origin: string,
  url: string,
): Promise<{ text?: string; binary?: number[]; error?: string }> {
  const page = await browser.newPage();
  try {
    await page.route(`${origin}/**`, (route) =>
      route.fulfill({ contentType: "text/html", body: "<title>t</title>" }),
    );
    await page.goto(`${origin}/`);
    return await page.evaluate(
      (target) =>
        new Promise<{ text?: string; binary?: number[]; error?: string }>((resolve) => {
          const socket = new WebSocket(target);
          socket.binaryType = "arraybuffer";
          const out: { text?: string; binary?: number[] } = {};
          socket.onopen = () => socket.send("hello from a browser");
          socket.onmessage = (e) => {
            if (typeof e.data === "string") {
              out.text = e.data;
              socket.send(new Uint8Array([1, 2, 3]));
            } else {
              out.binary = [...new Uint8Array(e.data as ArrayBuffer)];
              socket.close();
              resolve(out);
            }
          };
          socket.onerror = () => resolve({ error: "refused" });
        }),
      url,
    );
  } finally {
    await page.close();
  }
}

describe("Chromium at the WebSocket doors", () => {
  for (const door of ["ws", "wss"] as const) {
    it(`talks text and binary over ${door}:// from an allowed origin`, async () => {
      const result = await exchange("http://allowed.test", door === "ws" ? ws : wss);
      expect(result.text).toBe("ECHO: hello from a browser");
      expect(result.binary).toEqual([..."ECHO: "].map((c) => c.charCodeAt(0)).concat([1, 2, 3]));
    });
  }

  it("is refused from another origin (--ws-origin)", async () => {
    expect(await exchange("http://elsewhere.test", ws)).toEqual({ error: "refused" });
    expect(cli.stderr()).toContain("WebSocket origin not allowed");
  });
});
