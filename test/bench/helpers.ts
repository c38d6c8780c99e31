// Runs `echoplex bench ... --json` as a child process and parses its result.
import type { ChildProcess } from "node:child_process";
import type { BenchResult } from "../../src/bench/result.js";
import { runCli } from "../helpers/cli.js";

export interface BenchRun {
  code: number | null;
  result: BenchResult;
  stdout: string;
  stderr: string;
}

export async function bench(
  args: string[],
  timeoutMs = 30_000,
  onSpawn?: (proc: ChildProcess) => void,
): Promise<BenchRun> {
  const out = await runCli(["bench", ...args, "--json"], { timeoutMs, ...(onSpawn ? { onSpawn } : {}) });
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  let result: BenchResult;
  try {
    result = JSON.parse(line) as BenchResult;
  } catch {
    throw new Error(`bench printed no JSON (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  }
  return { code: out.code, result, stdout: out.stdout, stderr: out.stderr };
}
