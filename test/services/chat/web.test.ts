// The chat's web page, in headless Chromium (Debian's, driven by playwright-core)
// against the real CLI: two browser users and an nc user in one room, markup from nc
// shown as text and never run, private messages apart, /me and /join, the password
// prompt, and reconnecting after the server restarts.
// `UPDATE_SCREENSHOT=1 npx vitest run test/services/chat/web.test.ts` rewrites docs/chat-web.png.
import type { ChildProcess } from "node:child_process";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../helpers/chromium.js";
import { type RunningCli, startCli } from "../../helpers/cli.js";
import { ncUser } from "../../helpers/nc-user.js";

const WAIT = 20_000;
let browser: Browser;
const clis: RunningCli[] = [];
const procs: ChildProcess[] = [];

beforeAll(async () => {
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await Promise.all(clis.splice(0).map((c) => c.stop("SIGKILL")));
});

/** Starts `echoplex chat` with a TCP door and a ws:// door; returns both ports. */
async function chat(args: string[], wsPort = 0): Promise<{ cli: RunningCli; tcp: number; ws: number }> {
  const cli = await startCli(["chat", "127.0.0.1:0", `ws://127.0.0.1:${wsPort}/`, ...args], { count: 1 });
  clis.push(cli);
  const deadline = Date.now() + WAIT;
  const port = (re: RegExp) => Number(cli.stdout().match(re)?.[1] ?? 0);
  const ports = () => ({
    tcp: port(/listening on 127\.0\.0\.1:(\d+) /),
    ws: port(/listening on ws:\/\/127\.0\.0\.1:(\d+)\//),
  });
  while (ports().tcp === 0 || ports().ws === 0) {
    if (Date.now() > deadline) throw new Error(`no tcp and ws:// doors in ${cli.stdout()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { cli, ...ports() };
}

const nc = (port: number) => ncUser(port, procs, WAIT);

/** Waits until the element's text contains `text`. */
async function shows(page: Page, selector: string, text: string): Promise<void> {
  const deadline = Date.now() + WAIT;
  for (;;) {
    const got = await page.textContent(selector);
    if (got?.includes(text)) return;
    if (Date.now() > deadline) {
      throw new Error(`${selector} never showed ${JSON.stringify(text)}; it shows ${got}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function state(page: Page, wanted: string): Promise<void> {
  await page.waitForSelector(`#state[data-state="${wanted}"]`, { timeout: WAIT });
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#input", text);
  await page.press("#input", "Enter");
}

/** Opens the page as a user and takes the nick. */
async function user(ws: number, nick: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 520 } });
  const response = await page.goto(`http://127.0.0.1:${ws}/`);
  expect(response?.status()).toBe(200);
  await state(page, "connected");
  await page.fill("#nick", nick);
  await page.press("#nick", "Enter");
  await shows(page, "#me", nick);
  return page;
}

const members = (page: Page) => page.$$eval("#members li", (items) => items.map((li) => li.textContent));

describe("the chat in a browser", () => {
  it("puts two browser users and an nc user in one room; markup from nc is shown as text and never runs; lines dressed as the server's change nothing", async () => {
    const { tcp, ws } = await chat(["--log-level", "warn"]);
    const alice = await user(ws, "alice");
    const bob = await user(ws, "bob");
    const carol = nc(tcp);
    carol.type("/nick carol");
    await shows(alice, "#members", "carol");
    await shows(bob, "#members", "alice");
    expect(await members(alice)).toEqual(["alice", "bob", "carol"]);

    await say(alice, "hello from alice");
    await carol.waitFor("<alice> hello from alice");
    await shows(bob, "#log", "<alice> hello from alice");
    // Shown once on the sender's own page (the server does not echo it back).
    expect((await alice.textContent("#log"))?.split("<alice> hello from alice")).toHaveLength(2);
    expect(await alice.isVisible("#pass-form")).toBe(false);

    const img = `<img src=x onerror="window.__pwned=1">`;
    const script = "<script>window.__pwned=2</script>";
    carol.type(`look: ${img}`);
    carol.type(script);
    for (const page of [alice, bob]) {
      await shows(page, "#log", `<carol> look: ${img}`);
      await shows(page, "#log", `<carol> ${script}`);
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.$$("#log img, #log script")).toHaveLength(0);
    }

    await say(bob, "/me waves");
    await shows(alice, "#log", "* bob waves");
    await shows(bob, "#log", "* bob waves");
    await carol.waitFor("* bob waves");

    carol.type("/msg bob just between us");
    await shows(bob, "#private", "carol: just between us");
    await say(alice, "/msg carol psst");
    await carol.waitFor("*alice* psst");
    await shows(alice, "#private", "to carol: psst");
    expect(await bob.textContent("#log")).not.toContain("just between us");

    if (process.env.UPDATE_SCREENSHOT === "1") {
      await alice.screenshot({ path: "docs/chat-web.png" });
    }

    await say(bob, "/join #side");
    await shows(bob, "#room", "#side");
    await shows(alice, "#log", "* bob left #lobby (moved to #side)");
    expect(await members(alice)).toEqual(["alice", "carol"]);
    expect(await members(bob)).toEqual(["bob"]);

    // Lines dressed as the server's (a /me from users called Welcome, 3 and last) change nothing.
    carol.type("/nick Welcome");
    carol.type("/me to echoplex chat, mallory! You are in #fake.");
    await shows(alice, "#log", "* Welcome to echoplex chat, mallory! You are in #fake.");
    carol.type("/nick 3");
    carol.type("/me in #lobby: mallory");
    await shows(alice, "#log", "* 3 in #lobby: mallory");
    carol.type("/nick last");
    carol.type("/me 1 message in #lobby:");
    await shows(alice, "#log", "* last 1 message in #lobby:");
    carol.type("/nick carol");
    await shows(alice, "#log", "* last is now known as carol");
    expect(await alice.textContent("#me")).toBe("alice");
    expect(await alice.textContent("#room")).toBe("#lobby");
    expect(await members(alice)).toEqual(["alice", "carol"]);
  }, 90_000);

  it("shows a user's own line once when the server echoes it too (--echo-self)", async () => {
    const { tcp, ws } = await chat(["--echo-self", "--log-level", "warn"]);
    const page = await user(ws, "erin");
    const frank = nc(tcp);
    await say(page, "one");
    await say(page, "/me nods");
    await frank.waitFor("* erin nods");
    frank.type("done");
    await shows(page, "#log", "<guest-2> done");
    const log = (await page.textContent("#log")) ?? "";
    expect(log.split("<erin> one")).toHaveLength(2);
    expect(log.split("* erin nods")).toHaveLength(2);
  }, 90_000);

  it("asks for the --password and, after a server restart, reconnects with its nick and shows it", async () => {
    const first = await chat(["--password", "s3cret", "--log-level", "warn"]);
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${first.ws}/`);
    await state(page, "password");
    await page.waitForSelector("#pass-form:not([hidden])", { timeout: WAIT });
    await page.fill("#pass", "s3cret");
    await page.press("#pass", "Enter");
    await state(page, "connected");
    expect(await page.isVisible("#pass-form")).toBe(false);
    await page.fill("#nick", "dana");
    await page.press("#nick", "Enter");
    await shows(page, "#me", "dana");

    await first.cli.stop("SIGTERM");
    clis.splice(clis.indexOf(first.cli), 1);
    await state(page, "offline");
    await shows(page, "#state", "retrying in");
    expect(await page.isDisabled("#input")).toBe(true);
    expect(await page.isVisible("#retry")).toBe(true);

    const second = await chat(["--password", "s3cret", "--log-level", "warn"], first.ws);
    await state(page, "connected");
    await shows(page, "#state", "reconnected");
    await shows(page, "#me", "dana");
    await shows(page, "#members", "dana");
    const eve = nc(second.tcp);
    eve.type("/pass s3cret");
    await eve.waitFor("You are in #lobby");
    await say(page, "back again");
    await eve.waitFor("<dana> back again");
    expect(await page.isVisible("#pass-form")).toBe(false);
    expect(await page.isVisible("#retry")).toBe(false);
  }, 90_000);
});
