// Issue 19: an idle server pays only for what it serves. A plain TCP echo server must not
// load node:tls (OpenSSL's state with it) or the WebSocket package, and its
// idle RSS stays near that of a bare node:net server on the same runtime.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningCli, startCli } from "../helpers/cli.js";

/**
 * Measured on a 2-core VM (docs/BENCHMARKS.md, "Idle RSS"): on Node 20, 13.8–14.5 MiB over
 * the bare server when every door's modules loaded at start, 11.8 MiB with doors loaded on
 * demand, 6.8 MiB since the CLI is one bundled file (scripts/bundle-cli.mjs: V8 no longer
 * optimises Node's module resolver at start). Node 24 maps more of its binary for the same
 * code: 18.4 MiB over the bare server before the bundle (CI), 10.4 MiB with it.
 */
const MAX_OVER_BARE_MIB = Number(process.versions.node.split(".")[0]) === 20 ? 9 : 13;

const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

async function settledRss(pid: number): Promise<number> {
  // Start-up allocations settle within a second or two: read until two readings agree.
  let last = rssKiB(pid);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = rssKiB(pid);
    if (Math.abs(now - last) < 256) return now;
    last = now;
  }
  return last;
}

/** NODE_OPTIONS for a CLI that reports, on SIGUSR2, which heavy modules it has loaded. */
function probeEnv(): NodeJS.ProcessEnv {
  const probe = join(tmpdir(), `echoplex-light-probe-${process.pid}.cjs`);
  writeFileSync(
    probe,
    `process.on("SIGUSR2", () => process.stderr.write("LOADED " + JSON.stringify({
      tls: process.moduleLoadList.includes("NativeModule tls"),
      ws: Object.keys(require.cache).some((f) => f.includes("/node_modules/ws/")),
      ioredis: Object.keys(require.cache).some((f) => f.includes("/node_modules/ioredis/")),
    }) + "\\n"));\n`,
  );
  return { NODE_OPTIONS: `--require ${probe}` };
}

async function loadedModules(running: RunningCli): Promise<Record<string, boolean>> {
  const reports = () => running.stderr().match(/LOADED .*/g) ?? [];
  const before = reports().length;
  running.proc.kill("SIGUSR2");
  const deadline = Date.now() + 10_000;
  while (reports().length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return JSON.parse(reports().at(-1)!.slice("LOADED ".length)) as Record<string, boolean>;
}

let cli: RunningCli | undefined;
let bare: ReturnType<typeof spawn> | undefined;
afterEach(async () => {
  await cli?.stop("SIGKILL");
  bare?.kill("SIGKILL");
  cli = undefined;
  bare = undefined;
});

describe("a light start", () => {
  it("a TCP echo server loads neither node:tls nor the ws package, and idles within 9 MiB (Node 20) of a bare node:net server", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--log-level", "warn"], { env: probeEnv() });
    bare = spawn(process.execPath, [
      "-e",
      "require('net').createServer((s) => s.pipe(s)).listen(0, '127.0.0.1', () => console.log('up'))",
    ]);
    await new Promise((resolve) => bare!.stdout!.once("data", resolve));
    const [ours, theirs] = await Promise.all([settledRss(cli.proc.pid!), settledRss(bare.pid!)]);
    const loaded = await loadedModules(cli);
    const overMiB = (ours - theirs) / 1024;
    console.log(
      `idle echo ${(ours / 1024).toFixed(1)} MiB, bare node:net ${(theirs / 1024).toFixed(1)} MiB: +${overMiB.toFixed(1)} MiB`,
    );
    expect(loaded).toEqual({ tls: false, ws: false, ioredis: false });
    expect(overMiB).toBeLessThan(MAX_OVER_BARE_MIB);
    // The server still answers.
    const { connect } = await import("node:net");
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect({ port: cli!.port, host: "127.0.0.1" }, () => s.write("hi\n"));
      s.setEncoding("utf8").once("data", (d: string) => {
        s.destroy();
        resolve(d);
      });
      s.on("error", reject);
    });
    expect(reply).toBe("ECHO: hi\n");
  });
  it("a chat server without --redis never loads ioredis; once a user opens /ws on the HTTP service, it loads ws", async () => {
    cli = await startCli(["chat", "127.0.0.1:0", "--log-level", "warn"], { env: probeEnv() });
    expect(await loadedModules(cli)).toEqual({ tls: false, ws: false, ioredis: false });
    await cli.stop("SIGKILL");

    cli = await startCli(["http", "127.0.0.1:0", "--log-level", "warn"], { env: probeEnv() });
    expect(await loadedModules(cli)).toEqual({ tls: false, ws: false, ioredis: false });
    // The route still works: the server loads the package at the first upgrade.
    const ws = new WebSocket(`ws://127.0.0.1:${cli.port}/ws`);
    const echoed = await new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send("ping"));
      ws.once("message", (data) => resolve(String(data)));
      ws.once("error", reject);
    });
    ws.close();
    expect(echoed).toBe("ping");
    // (The ws package itself loads node:tls.)
    expect(await loadedModules(cli)).toMatchObject({ ws: true, ioredis: false });
  });
});
