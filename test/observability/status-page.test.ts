// The live status page in a real browser: headless Chromium (Debian's package,
// never a downloaded one) driven by playwright-core. 3 peers connect: 3 rows;
// one leaves: 2 rows. Screenshots go to test-output/.
import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningCli, startCli } from "../helpers/cli.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = new URL("../../test-output/", import.meta.url).pathname;

let browser: Browser;
const pageErrors: string[] = [];
let cli: RunningCli | undefined;
const clients: TestClient[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup-system.sh (installs Debian's chromium)`);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 60_000,
  });
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
});
