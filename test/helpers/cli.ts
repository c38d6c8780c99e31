// Runs the real CLI (dist/cli/echoplex.cjs, built by `pretest`) as a child process.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli/echoplex.cjs", import.meta.url));

export interface RunningCli {
  proc: ChildProcess;
  /** The port of the first "listening on" line. */
  port: number;
  /** Ports by service name, from every "echoplex NAME listening on HOST:PORT" line (or serve's aligned row). */
  ports: Record<string, number>;
  stdout: () => string;
  stderr: () => string;
  /** Sends a signal and resolves with the exit code (or the signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  exited: Promise<number | string>;
}

/** Starts `echoplex ...args` and waits until it prints that it listens (`count` services). */
export async function startCli(
  args: string[],
  options: { count?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunningCli> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  // "exit" can come before the last output is read from the pipes: wait for them to
  // close too, bounded, since worker processes of a killed supervisor may hold them a while.
  const closed = new Promise<void>((resolve) => proc.once("close", () => resolve()));
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      const status = code ?? signal ?? -1;
      const timer = setTimeout(() => resolve(status), 5000);
      closed.then(() => {
        clearTimeout(timer);
        resolve(status);
      });
    });
  });
  const ports: Record<string, number> = {};
  const want = options.count ?? 1;
  // Generous: a node process starting on a loaded 2-core machine can take seconds.
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    ports_from(out, ports);
    if (Object.keys(ports).length >= want) break;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`echoplex ${args.join(" ")} exited early (${proc.exitCode}):\n${out}\n${err}`);
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`echoplex ${args.join(" ")} did not start:\n${out}\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const first = Object.values(ports)[0]!;
  return {
    proc,
    port: first,
    ports,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

function ports_from(out: string, ports: Record<string, number>): void {
  // serve aligns its lines into a table: spaces may pad the name and the address.
  for (const m of out.matchAll(/echoplex (\S+) +listening on \S*:(\d+)/g)) ports[m[1]!] = Number(m[2]);
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(
  args: string[],
  options: {
    input?: string;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    /** Called with all of stderr so far on each new chunk (to wait for a line while it runs). */
    onStderr?: (soFar: string) => void;
    /** Called with the child once started (to signal it while it runs). */
    onSpawn?: (proc: ChildProcess) => void;
  } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...options.env } });
  options.onSpawn?.(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  proc.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    options.onStderr?.(stderr);
  });
  // A child that exits before reading all its input must not fail the run (EPIPE).
  proc.stdin.on("error", () => {});
  proc.stdin.end(options.input ?? "");
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const [code] = (await once(proc, "close")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** One JSON log line of a CLI started with `--log-format json` (the fields tests look at). */
export interface JsonLog {
  msg: string;
  remote?: string;
  via?: string;
}

/** The complete JSON log lines a CLI wrote to stderr so far (a line still being written is skipped). */
export function jsonLogs(cli: RunningCli): JsonLog[] {
  return cli
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.endsWith("}"))
    .map((l) => JSON.parse(l) as JsonLog);
}
