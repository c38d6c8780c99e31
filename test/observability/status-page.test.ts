// The live status page in a real browser: headless Chromium (Debian's package,
// never a downloaded one) driven by playwright-core. 3 peers connect: 3 rows;
// one leaves: 2 rows. Its layout under serve at three widths. Screenshots go to test-output/.
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SERVICES } from "../../src/cli/registry.js";
import { launchChromium } from "../helpers/chromium.js";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

const OUTPUT = new URL("../../test-output/", import.meta.url).pathname;

let browser: Browser;
const pageErrors: string[] = [];
let cli: RunningCli | undefined;
const clients: TestClient[] = [];

beforeAll(async () => {
  browser = await launchChromium([
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ]);
  mkdirSync(OUTPUT, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await cli?.stop("SIGKILL");
  cli = undefined;
});

/** Polls the page (through the devtools protocol, which the page's CSP allows) until `check` holds. */
async function until(
  page: Page,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      await page.screenshot({ path: `${OUTPUT}status-page-failure.png`, fullPage: true });
      throw new Error(`status page: timed out waiting for ${what}; page errors: ${pageErrors.join("; ")}`);
    }
    await sleep(100);
  }
}

const count = (page: Page, selector: string) => page.locator(selector).count();
const text = (page: Page, selector: string) => page.locator(selector).textContent();

describe("the status page in Chromium", () => {
  it("shows peers as they come and go, with a token, fetching nothing from elsewhere", async () => {
    cli = await startCli(
      ["echo", "127.0.0.1:0", "--admin", "0", "--admin-token", "page-token", "--log-level", "warn"],
      { count: 2 },
    );
    const origin = `http://127.0.0.1:${cli.ports.admin}`;
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const requested: string[] = [];
    page.on("request", (req) => requested.push(req.url()));
    page.on("pageerror", (err) => pageErrors.push(err.message));

    await page.goto(`${origin}/?token=page-token`);
    expect(page.url()).toBe(`${origin}/`); // the token moved into a cookie
    await until(page, "ready", async () => (await text(page, "#state")) === "ready");
    await until(page, "an empty peer table", async () => (await count(page, "#peers td.empty")) === 1);

    for (let i = 0; i < 3; i++) {
      const c = await connectClient(cli.ports.echo!);
      clients.push(c);
      c.send(`hello from client ${i}`);
      expect(await c.readLine()).toBe(`ECHO: hello from client ${i}`);
    }
    await until(page, "3 peer rows", async () => (await count(page, "#peers tr.peer-row")) === 3);
    const remotes = await page.$$eval("#peers tr.peer-row td:nth-child(3)", (tds) =>
      tds.map((td) => td.textContent),
    );
    for (const c of clients) expect(remotes).toContain(`127.0.0.1:${c.socket.localPort}`);
    expect(await text(page, "#c-active")).toBe("3");

    // Some traffic for the charts, bounded: 3 s of lines from each client.
    const stopAt = Date.now() + 3_000;
    let n = 0;
    while (Date.now() < stopAt) {
      for (const c of clients) c.send(`line ${n++} ${"x".repeat(n % 200)}`);
      await sleep(20);
    }
    await until(page, "two message-rate lines", async () => (await count(page, "#ch-msg polyline")) === 2);
    await page.screenshot({ path: `${OUTPUT}status-page.png`, fullPage: true });

    clients.shift()!.destroy();
    await until(page, "2 peer rows", async () => (await count(page, "#peers tr.peer-row")) === 2);
    await until(page, "2 connections in the totals", async () => (await text(page, "#c-active")) === "2");
    await page.screenshot({ path: `${OUTPUT}status-page-2-peers.png`, fullPage: true });

    expect(pageErrors).toEqual([]);
    expect(requested.length).toBeGreaterThan(3);
    for (const url of requested) expect(url.startsWith(`${origin}/`), url).toBe(true);
    await page.close();
  });

  it("fits the window under serve at 1150, 800 and 400 px: the services table wraps or scrolls in its box", async () => {
    const dir = await mkdtemp(join(tmpdir(), "echoplex-status-page-"));
    const file = join(dir, "all.json");
    const services = Object.fromEntries(SERVICES.map((x) => [x.name, { address: "127.0.0.1:0" }]));
    await writeFile(file, JSON.stringify({ services }));
    cli = await startCli(["serve", "--config", file, "--admin", "0", "--log-level", "warn"], {
      count: SERVICES.length + 1,
    });
    const origin = `http://127.0.0.1:${cli.ports.admin}`;
    for (const width of [1150, 800, 400]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const failed: string[] = [];
      page.on("response", (res) => {
        if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
      });
      page.on("pageerror", (err) => pageErrors.push(err.message));
      await page.goto(`${origin}/`);
      await until(
        page,
        "a row per service",
        async () => (await count(page, "#services tr.service-row")) === SERVICES.length,
      );
      await page.screenshot({ path: `${OUTPUT}status-page-serve-${width}.png`, fullPage: true });
      const box = await page.$eval("#services", (table) => {
        const container = table.parentElement!;
        return {
          pageWidth: table.ownerDocument.documentElement.scrollWidth,
          windowWidth: table.ownerDocument.defaultView!.innerWidth,
          tableRight: table.getBoundingClientRect().right,
          containerRight: container.getBoundingClientRect().right,
          containerScrolls: container.scrollWidth > container.clientWidth,
        };
      });
      // Nothing wider than the window: the page never scrolls sideways.
      expect(box.pageWidth, `page width at ${width} px`).toBeLessThanOrEqual(box.windowWidth);
      expect(box.containerRight, `services box at ${width} px`).toBeLessThanOrEqual(box.windowWidth);
      if (width >= 1150) {
        // Wide enough for the whole table: it fits its box (its long cells wrap).
        expect(box.tableRight, `table at ${width} px`).toBeLessThanOrEqual(box.containerRight + 0.5);
        expect(box.containerScrolls).toBe(false);
      }
      expect(failed).toEqual([]);
      await page.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it("serves a favicon (no 404), without the token, and the page links it", async () => {
    cli = await startCli(
      ["echo", "127.0.0.1:0", "--admin", "0", "--admin-token", "icon-token", "--log-level", "warn"],
      { count: 2 },
    );
    const url = `http://127.0.0.1:${cli.ports.admin}/favicon.ico`;
    // curl as a browser's first request would be: no token, no cookie.
    const { stdout } = await promisify(execFile)("curl", ["-sS", "-D", "-", url]);
    const [head = "", body = ""] = stdout.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toMatch(/\r\ncontent-type: image\/svg\+xml\r\n/i);
    expect(body).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>\n?$/s);
    expect(cli.stderr()).not.toContain("admin request without a valid token");

    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${cli.ports.admin}/?token=icon-token`);
    const icon = await page.$eval('link[rel="icon"]', async (link) => {
      const href = link.getAttribute("href") ?? "";
      const res = await fetch(href);
      return { href, status: res.status, type: res.headers.get("content-type") };
    });
    expect(icon).toEqual({ href: "favicon.ico", status: 200, type: "image/svg+xml" });
    await page.close();
  });
});
