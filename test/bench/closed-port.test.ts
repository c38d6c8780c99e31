// Every bench mode against a port nothing listens on: one ERR_CONNECT_FAILED line and
// exit 1 right away, not a --duration of counted ECONNREFUSED (the real CLI, a port
// that was bound and released).
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

const DURATION_MS = 20_000;
/** Well before --duration even on a loaded machine (measured: 0.4 to 1.5 s each, process start included). */
const FAST_MS = 8_000;

async function againstClosedPort(mode: string, target: (port: number) => string, ...extra: string[]) {
  const port = await freePort();
  const started = Date.now();
  const out = await runCli(["bench", mode, target(port), "--duration", `${DURATION_MS / 1000}s`, ...extra], {
    timeoutMs: DURATION_MS + 10_000,
  });
  const ms = Date.now() - started;
  expect(out.stdout).toBe("");
  // With --workers each worker fails alike; the first to report is named.
  expect(out.stderr).toMatch(
    new RegExp(
      `^echoplex: error: (worker \\d+: )?cannot connect to 127\\.0\\.0\\.1:${port}: connection refused \\(ECONNREFUSED\\) \\(ERR_CONNECT_FAILED\\)\n$`,
    ),
  );
  expect(out.code).toBe(1);
  expect(ms).toBeLessThan(FAST_MS);
}

const tcp = (port: number) => `127.0.0.1:${port}`;

describe("bench against a closed port fails fast, in one line", () => {
  it("echo", () => againstClosedPort("echo", tcp, "--conns", "4"));
  it("echo with a given prefix (no probe)", () =>
    againstClosedPort("echo", tcp, "--prefix", "", "--conns", "4"));
  it("cmd", () => againstClosedPort("cmd", tcp, "--conns", "4"));
  it("chat", () => againstClosedPort("chat", tcp, "--conns", "4"));
  it("connect (closed loop)", () => againstClosedPort("connect", tcp, "--conns", "500"));
  it("connect at --rate", () => againstClosedPort("connect", tcp, "--conns", "500", "--rate", "50"));
  it("http (closed loop)", () => againstClosedPort("http", (p) => `http://127.0.0.1:${p}/`, "--conns", "4"));
  it("http at --rate", () =>
    againstClosedPort("http", (p) => `http://127.0.0.1:${p}/`, "--conns", "4", "--rate", "100"));
  it("http with --workers 2", () =>
    againstClosedPort("http", (p) => `http://127.0.0.1:${p}/`, "--conns", "4", "--workers", "2"));
});
