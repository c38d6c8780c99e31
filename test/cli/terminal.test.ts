// The CLI at a real terminal: `script` (bsdutils) runs it on a pseudo-terminal, so its
// stdout and stderr are a TTY and the log is the pretty one a person reads. Each event
// must be one line, and what `serve` prints at start-up must be printed once.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SERVICES } from "../../src/cli/registry.js";
import { CLI } from "../helpers/cli.js";
import { connectClient } from "../helpers/net.js";

interface Terminal {
  proc: ChildProcess;
  /** What the terminal shows so far, as lines without colours, CRs or empty lines. */
  lines(): string[];
  /** Waits (bounded) until `check` holds over the lines. */
  until(what: string, check: (lines: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  exited: Promise<number | null>;
}

const terminals: Terminal[] = [];

afterEach(() => {
  for (const t of terminals.splice(0)) if (t.proc.exitCode === null) t.proc.kill("SIGKILL");
});

function onTerminal(args: string[]): Terminal {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(" ");
  // stdin stays a pipe into the terminal: "\x03" written there is a Ctrl-C.
  const proc = spawn("script", ["-qfec", `exec ${quoted}`, "/dev/null"], {
    env: { ...process.env, SHELL: "/bin/sh", TERM: "xterm" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => proc.once("close", (code) => resolve(code)));
  const lines = () =>
    out
      // biome-ignore lint/suspicious/noControlCharactersInRegex: colour escapes are what is stripped
      .replace(/\x1b\[[0-9;]*m/g, "")
      .split(/\r?\n/)
      // The terminal echoes a Ctrl-C as "^C" before what the process then prints.
      .map((l) => l.replace(/\r/g, "").replace(/^\^C/, "").trimEnd())
      .filter((l) => l !== "");
  const t: Terminal = {
    proc,
    lines,
    exited,
    async until(what, check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = lines();
        if (check(now)) return now;
        if (Date.now() > deadline || proc.exitCode !== null) {
          throw new Error(`terminal never showed ${what}:\n${now.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  terminals.push(t);
  return t;
}

/** A pretty log line: time, level, then the event, all on one line. */
const LOG_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): \S/;

describe("echoplex at a terminal", () => {
  it("logs each connect and disconnect as one line, and says once where it listens", async () => {
    const t = onTerminal(["echo", "127.0.0.1:0"]);
    const start = await t.until("the listening line", (l) => l.some((x) => x.includes(" listening on ")));
    const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(start.join("\n"))![1]);

    const c = await connectClient(port);
    c.send("hi");
    expect(await c.readLine()).toBe("ECHO: hi");
    c.end();
    await c.closedPromise;
    const lines = await t.until("the disconnect", (l) => l.some((x) => / disconnect\b/.test(x)));

    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^echoplex echo listening on 127\.0\.0\.1:\d+ \(lines, prefix "ECHO: "\)$/);
    expect(lines[1]).toMatch(LOG_LINE);
    expect(lines[1]).toMatch(/INFO: echo: connect \{.*"remote":"127\.0\.0\.1"/);
    expect(lines[2]).toMatch(LOG_LINE);
    expect(lines[2]).toMatch(/INFO: echo: disconnect \{.*"reason":"peer closed".*"messagesIn":1/);
    // Nothing a terminal reader does not need: no pid, no host name.
    expect(lines.join("\n")).not.toMatch(/pid|hostname/);

    // Ctrl-C: the drain is logged, one line per event too.
    t.proc.stdin!.write("\x03");
    expect(await t.exited).toBe(0);
    const all = t.lines();
    expect(all.length).toBeGreaterThan(3);
    for (const line of all.slice(1)) expect(line).toMatch(LOG_LINE);
  });

  it("serve prints its services once, as one aligned table, and logs events one line each", async () => {
    const dir = await mkdtemp(join(tmpdir(), "echoplex-terminal-"));
    const file = join(dir, "all.json");
    const services = Object.fromEntries(SERVICES.map((s) => [s.name, { address: "127.0.0.1:0" }]));
    await writeFile(file, JSON.stringify({ services }));
    const t = onTerminal(["serve", "--config", file]);
    const start = await t.until("the admin row", (l) => l.some((x) => /^echoplex admin /.test(x)));

    // One row per service and one for admin, nothing else: no log lines, no second table.
    expect(start).toHaveLength(SERVICES.length + 1);
    for (const [i, s] of SERVICES.entries()) {
      expect(start[i]).toMatch(
        new RegExp(`^echoplex ${s.name} +listening on 127\\.0\\.0\\.1:\\d+ +\\(.+\\)$`),
      );
    }
    expect(start.at(-1)).toMatch(/^echoplex admin +off +\(add --admin 127\.0\.0\.1:9090 for metrics.*\)$/);
    // Aligned: the addresses start in one column, the details in another.
    expect(new Set(start.slice(0, -1).map((l) => l.indexOf("listening on"))).size).toBe(1);
    expect(new Set(start.map((l) => l.indexOf("("))).size).toBe(1);

    const port = Number(/^echoplex cmd +listening on 127\.0\.0\.1:(\d+)/m.exec(start.join("\n"))![1]);
    const c = await connectClient(port);
    c.send("PING");
    expect(await c.readLine()).toBe("PONG");
    c.end();
    await c.closedPromise;
    const lines = await t.until("the disconnect", (l) => l.some((x) => / disconnect\b/.test(x)));
    expect(lines.slice(start.length)).toHaveLength(2);
    expect(lines.at(-2)).toMatch(/INFO: cmd: connect \{/);
    expect(lines.at(-1)).toMatch(/INFO: cmd: disconnect \{/);

    t.proc.stdin!.write("\x03");
    expect(await t.exited).toBe(0);
    for (const line of t.lines().slice(start.length)) expect(line).toMatch(LOG_LINE);
  });
});
