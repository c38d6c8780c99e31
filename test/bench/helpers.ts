// Runs `echoplex bench ... --json` as a child process and parses its result.
import type { BenchResult } from "../../src/bench/result.js";
import { runCli } from "../helpers/cli.js";

export interface BenchRun {
  code: number | null;
  result: BenchResult;
  stdout: string;
  stderr: string;
}

export async function bench(args: string[], timeoutMs = 30_000): Promise<BenchRun> {
  const out = await runCli(["bench", ...args, "--json"], { timeoutMs });
  const line = out.stdout.trim().split("\n").at(-1) ?? "";
  let result: BenchResult;
  try {
    result = JSON.parse(line) as BenchResult;
  } catch {
    throw new Error(`bench printed no JSON (exit ${out.code}):\n${out.stdout}\n${out.stderr}`);
  }
  return { code: out.code, result, stdout: out.stdout, stderr: out.stderr };
}
