// `--compare OLD.json`: each headline figure of this run next to a saved run's
// (`--json` output), with the change in percent, so a CI job can show a regression.
import { readFileSync } from "node:fs";
import { EchoplexError } from "../errors.js";
import { type BenchResult, errorTotal } from "./result.js";

export interface FigureChange {
  figure: string;
  old: number;
  new: number;
  /** Percent change from old to new (null when old is 0). */
  changePct: number | null;
  /** Whether a rise is good (throughput) or bad (latency, errors). */
  higherIsBetter: boolean;
}

const FIGURES: ReadonlyArray<[string, (r: BenchResult) => number | undefined, boolean]> = [
  ["msgs/s", (r) => r.msgsPerSec, true],
  ["sent/s", (r) => r.sentPerSec, true],
  ["MB/s", (r) => r.mbPerSec, true],
  ["p50 us", (r) => r.latencyUs?.p50, false],
  ["p90 us", (r) => r.latencyUs?.p90, false],
  ["p99 us", (r) => r.latencyUs?.p99, false],
  ["p99.9 us", (r) => r.latencyUs?.p999, false],
  ["max us", (r) => r.latencyUs?.max, false],
  ["errors", (r) => (r.errors === undefined ? undefined : errorTotal(r.errors)), false],
  ["mismatches", (r) => r.mismatches, false],
  ["lost", (r) => r.lost, false],
  ["cpu us/reply", (r) => r.cpuUsPerReply, false],
];

/** Reads a result saved with --json (the last JSON line of the file, so --json-stream output works too). */
export function readResult(file: string): BenchResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new EchoplexError("ERR_BAD_OPTION", `cannot read --compare ${file}: ${(err as Error).message}`);
  }
  const line = text.trim().split("\n").at(-1) ?? "";
  try {
    const parsed = JSON.parse(line) as BenchResult;
    if (typeof parsed.msgsPerSec !== "number") throw new Error("no msgsPerSec");
    return parsed;
  } catch {
    throw new EchoplexError("ERR_BAD_OPTION", `--compare ${file} is not a result saved with bench --json`);
  }
}

export function compareResults(old: BenchResult, now: BenchResult): FigureChange[] {
  const changes: FigureChange[] = [];
  for (const [figure, pick, higherIsBetter] of FIGURES) {
    const a = pick(old);
    const b = pick(now);
    if (a === undefined || b === undefined) continue;
    const changePct = a === 0 ? null : Math.round(((b - a) / a) * 1000) / 10;
    changes.push({ figure, old: a, new: b, changePct, higherIsBetter });
  }
  return changes;
}

/** A table: figure, old, new, change (`better`/`worse` when it moved more than 1 %). */
export function formatComparison(file: string, changes: readonly FigureChange[]): string {
  const rows = changes.map((c) => {
    const pct =
      c.changePct === null ? (c.new === 0 ? "=" : "new") : `${c.changePct > 0 ? "+" : ""}${c.changePct}%`;
    const moved = c.changePct !== null && Math.abs(c.changePct) > 1;
    const verdict = moved ? (c.changePct! > 0 === c.higherIsBetter ? " better" : " worse") : "";
    return [c.figure, String(c.old), String(c.new), `${pct}${verdict}`];
  });
  const head = ["figure", "old", "new", "change"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return `compared with ${file}:\n${[head, ...rows].map(line).join("\n")}\n`;
}
