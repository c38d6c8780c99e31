// A real redis-server for tests, on a free loopback port, with no persistence.
// It can be stopped (SIGTERM or SIGKILL) and started again on the same port.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./net.js";

const SETUP = fileURLToPath(new URL("../../scripts/setup-system.sh", import.meta.url));

function hasRedisServer(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Installs redis-server through the project's setup script when it is missing (pretest does the same). */
export function ensureRedisServer(): void {
  if (hasRedisServer()) return;
  execFileSync("bash", [SETUP], { stdio: "inherit" });
  if (!hasRedisServer())
    throw new Error("redis-server is missing and scripts/setup-system.sh could not install it");
}

export interface RunningRedis {
  port: number;
  url: string;
  /** Stops the server; resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /** Sends a signal without waiting (SIGSTOP/SIGCONT: a hung Redis whose connections stay open). */
  signal(signal: NodeJS.Signals): void;
}

export async function startRedis(): Promise<RunningRedis> {
  ensureRedisServer();
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    proc = child;
    let out = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
      child.stdout!.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${out}`));
      });
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    signal(signal: NodeJS.Signals) {
      proc?.kill(signal);
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      const child = proc;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill(signal);
      });
    },
  };
}
