// Real IRC clients from Debian's packages on the chat's IRC door (installed by
// scripts/setup-system.sh): ii driven through its FIFOs (with an nc user and a user of the
// chat's web page in Debian's Chromium), and irssi in a tmux terminal with an nc user:
// join, talk both ways, 433 on a taken nick, change nick, part, quit.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { launchChromium } from "../../helpers/chromium.js";
import type { RunningCli } from "../../helpers/cli.js";
import { startChatWithIrc } from "../../helpers/irc-user.js";
import { ncUser } from "../../helpers/nc-user.js";
import { type TmuxTerminal, tmuxTerminal } from "../../helpers/tmux.js";
import { until as waitUntil } from "../../helpers/until.js";

const WAIT = 20_000;
const clis: RunningCli[] = [];
const procs: ChildProcess[] = [];
const dirs: string[] = [];
const terminals: TmuxTerminal[] = [];
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const t of terminals.splice(0)) t.kill();
  for (const p of procs.splice(0)) p.kill("SIGKILL");
  await Promise.all(clis.splice(0).map((c) => c.stop("SIGKILL")));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const nc = (port: number) => ncUser(port, procs, WAIT);

const until = (what: string, check: () => boolean) => waitUntil(check, what, WAIT, 25);

const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

describe("IRC clients from Debian on the chat's IRC door", () => {
  it("ii (through its FIFOs) joins two channels, talks with an nc user and a browser user, gets 433 on a taken nick, renames, parts and quits", async () => {
    const { cli, tcp, irc } = await startChatWithIrc(["ws://127.0.0.1:0/", "--log-level", "warn"], clis);
    const ws = Number(cli.stdout().match(/listening on ws:\/\/127\.0\.0\.1:(\d+)\//)?.[1]);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${ws}/`);
    await page.waitForSelector('#state[data-state="connected"]', { timeout: WAIT });
    await page.fill("#nick", "wendy");
    await page.press("#nick", "Enter");
    const pageShows = async (text: string) => {
      const deadline = Date.now() + WAIT;
      while (!((await page.textContent("#log")) ?? "").includes(text)) {
        if (Date.now() > deadline) throw new Error(`the page never showed ${text}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const bob = nc(tcp);
    bob.type("/nick bob");
    await bob.waitFor("is now known as bob");
    const carol = nc(tcp);
    carol.type("/join #dev");
    await carol.waitFor("joined #dev");
    const prefix = mkdtempSync(join(tmpdir(), "echoplex-ii-"));
    dirs.push(prefix);
    const ii = spawn("ii", ["-s", "127.0.0.1", "-p", String(irc), "-n", "iiuser", "-i", prefix], {
      stdio: "ignore",
    });
    procs.push(ii);
    const server = join(prefix, "127.0.0.1");
    // Writing to a FIFO blocks until ii reads it: ii keeps it open once it is there.
    const send = (dir: string, line: string) => writeFileSync(join(dir, "in"), `${line}\n`, { flag: "a" });
    await until("ii registered", () => read(join(server, "out")).includes("Welcome to echoplex chat"));

    send(server, "/j #lobby");
    await bob.waitFor("* iiuser joined #lobby");
    const lobby = join(server, "#lobby");
    await until("ii's #lobby FIFO", () => existsSync(join(lobby, "in")));
    send(server, "/j #dev");
    const dev = join(server, "#dev");
    await until("ii's #dev FIFO", () => existsSync(join(dev, "in")));

    send(lobby, "hello from ii");
    await bob.waitFor("<iiuser> hello from ii");
    await pageShows("<iiuser> hello from ii");
    await page.fill("#input", "hello from the web");
    await page.press("#input", "Enter");
    await until("ii shows wendy's line", () =>
      read(join(lobby, "out")).includes("<wendy> hello from the web"),
    );
    bob.type("hello ii");
    await until("ii shows bob's line", () => read(join(lobby, "out")).includes("<bob> hello ii"));

    send(server, "/n bob");
    await until("ii shows 433", () => read(join(server, "out")).includes("Nickname is already in use"));
    send(server, "/n iinew");
    await bob.waitFor("* iiuser is now known as iinew");

    await carol.waitFor("* iiuser joined #dev");
    send(dev, "/l lunch");
    await carol.waitFor("* iinew left #dev (parted: lunch)");
    send(server, "/q done for today");
    await bob.waitFor("* iinew left #lobby (quit: done for today)");
    await until("ii exited", () => ii.exitCode !== null || ii.signalCode !== null);
    // The nick change was announced once although ii shared one room with bob (and another with nobody).
    expect(bob.output().split("is now known as iinew")).toHaveLength(2);
    expect(bob.output()).not.toContain("parted: lunch");
  }, 90_000);

  it("irssi (in a terminal) joins, talks with an nc user, gets 433 on a taken nick, renames, parts and quits", async () => {
    const { tcp, irc } = await startChatWithIrc(["--log-level", "warn"], clis);
    const bob = nc(tcp);
    bob.type("/nick bob");
    await bob.waitFor("is now known as bob");
    const home = mkdtempSync(join(tmpdir(), "echoplex-irssi-"));
    dirs.push(home);
    // irssi's first run writes its config under --home; no scripts, no theme, no autoconnect.
    writeFileSync(
      join(home, "config"),
      'settings = { core = { real_name = "irssi user"; user_name = "irssi"; }; };\n',
    );
    const term = tmuxTerminal(`echoplex-irssi-${process.pid}`, "irssi");
    terminals.push(term);
    term.start(`irssi --home=${home} -n ircie -c 127.0.0.1 -p ${irc}`, 160);
    const screenHas = (text: string) => term.waitForScreen((l) => l.some((x) => x.includes(text)), text);
    const keys = (line: string) => {
      term.tmux("send-keys", "-t", "irssi", "-l", line);
      term.tmux("send-keys", "-t", "irssi", "Enter");
    };
    await screenHas("Welcome to echoplex chat");
    keys("/join #lobby");
    await bob.waitFor("* ircie joined #lobby");
    keys("hello from irssi");
    await bob.waitFor("<ircie> hello from irssi");
    bob.type("hello irssi");
    await screenHas("hello irssi");
    keys("/nick bob");
    // irssi shows a nick error in its status window (window 1).
    keys("/window 1");
    await screenHas("already in use");
    keys("/nick ircnew");
    await bob.waitFor("* ircie is now known as ircnew");
    keys("/join #dev");
    keys("/part #dev");
    keys("/quit see you");
    await bob.waitFor("* ircnew left #lobby (quit: see you)");
    expect(await term.exitStatus()).toBe("0");
  }, 60_000);
});
