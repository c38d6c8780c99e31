// bench as a CI tool: the flags for load shapes (--stages), verdicts (--threshold,
// --junit), honest reporting (--hdr-log, --json-stream, --compare), and what is done
// with them before and after the run. bench.ts stays the run itself.
import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { compareResults, type FigureChange, formatComparison, readResult } from "../../bench/compare.js";
import { writeHdrLog } from "../../bench/hdr-log.js";
import type { BenchOptions, BenchTarget, ScriptBenchOptions, StopRule } from "../../bench/index.js";
import { junitReport } from "../../bench/junit.js";
import type { BenchResult } from "../../bench/result.js";
import { parseRamp, parseStages, type Stage, stagesMeanRate, stagesMs } from "../../bench/stages.js";
import { checkTargets, evaluateThresholds, parseThreshold, type Threshold } from "../../bench/thresholds.js";
import { EchoplexError } from "../../errors.js";
import { parseCount } from "../units.js";

export interface CiFlags {
  rampConns?: Stage;
  connStages?: Stage[];
  conns: number;
  seed?: number;
  timeout: number;
  stages?: Stage[];
  threshold?: Threshold[];
  junit?: string;
  hdrLog?: string;
  jsonStream?: boolean;
  compare?: string;
  rate: number;
  duration?: number;
  requests?: number;
  warmup?: number;
}

const bad = (message: string) => new EchoplexError("ERR_BAD_OPTION", message);

export function addCiOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--stages <stages>",
        "open loop with a shape: DURATION:RATE or DURATION:FROM->TO, comma-separated (e.g. 10s:0->5000,30s:5000)",
      ).argParser((v) => parseStages(v)),
    )
    .addOption(
      new Option(
        "--threshold <rule>",
        "pass/fail rule, repeatable: p99<20ms, errors==0, mismatches==0, lost==0, rate>=0.99*target (exit 8 when one fails)",
      ).argParser((v, prev: Threshold[] | undefined) => [...(prev ?? []), parseThreshold(v)]),
    )
    .addOption(
      new Option(
        "--ramp-conns <n/duration>",
        "closed loop: bring connections into the load from 0 to N over the duration, then hold for --duration",
      ).argParser((v) => parseRamp(v)),
    )
    .addOption(
      new Option(
        "--conn-stages <stages>",
        "closed loop: connections carrying load, DURATION:N or DURATION:FROM->TO, comma-separated",
      ).argParser((v) => parseStages(v)),
    )
    .option("--junit <file>", "write the verdict as a JUnit XML report (one testcase per threshold)")
    .option("--hdr-log <file>", "write an HdrHistogram interval log (one histogram per second, microseconds)")
    .option("--json-stream", "print one JSON line per second while the run goes (stdout)")
    .option("--compare <old.json>", "print each figure's change against a result saved with --json")
    .addOption(
      new Option("--seed <n>", "script: seed of ctx.random() (default: random, printed)").argParser((v) =>
        parseCount(v, "--seed"),
      ),
    );
}

export function scriptAddress(address: string | undefined): string {
  if (address === undefined) {
    throw new EchoplexError("ERR_USAGE", "bench script takes FILE.js ADDRESS: the address is missing");
  }
  return address;
}

/** `bench script FILE.js ADDRESS`: closed loop, one virtual user per --conns. */
export function scriptOptions(
  file: string,
  flags: CiFlags,
  stop: StopRule,
  target: BenchTarget,
): ScriptBenchOptions {
  if (flags.rate > 0 || flags.stages !== undefined) {
    throw bad(
      "script mode is closed loop: each user starts its next iteration when one ends (no --rate, --stages)",
    );
  }
  return {
    mode: "script",
    conns: flags.conns,
    stop,
    rate: 0,
    timeoutMs: flags.timeout,
    target,
    file,
    seed: flags.seed ?? Math.floor(Math.random() * 2 ** 31),
  };
}

/** Applies --stages (an open-loop run as long as its stages) and what the reports need. */
export function withCi(options: BenchOptions, flags: CiFlags): BenchOptions {
  let next = options;
  if (flags.stages !== undefined) {
    if (flags.rate > 0) throw bad("give --rate or --stages, not both");
    if (flags.duration !== undefined || flags.requests !== undefined || flags.warmup !== undefined) {
      throw bad("--stages sets the run's length: --duration, --requests and --warmup do not apply");
    }
    const rate = stagesMeanRate(flags.stages);
    if (rate <= 0) throw bad("--stages sends nothing: give a rate above 0 in some stage");
    next = {
      ...next,
      rate,
      stages: flags.stages,
      stop: { kind: "duration", durationMs: stagesMs(flags.stages), warmupMs: 0 },
    };
  }
  const connStages = connShape(flags);
  if (connStages !== undefined) {
    if (next.mode !== "echo" && next.mode !== "cmd")
      throw bad("--ramp-conns and --conn-stages apply to echo and cmd modes");
    if (next.rate > 0) throw bad("--ramp-conns and --conn-stages shape a closed loop: no --rate or --stages");
    const conns = Math.max(...connStages.map((s) => Math.max(s.from, s.to)));
    if (conns < 1) throw bad("--conn-stages never uses a connection: give a level of 1 or more");
    next = {
      ...next,
      conns,
      connStages,
      stop: { kind: "duration", durationMs: stagesMs(connStages), warmupMs: 0 },
    };
  }
  if (flags.hdrLog !== undefined) next = { ...next, intervals: true };
  checkTargets(flags.threshold ?? [], next.rate);
  return next;
}

/** The closed-loop connection shape: --conn-stages, or --ramp-conns then --duration at N. */
function connShape(flags: CiFlags): Stage[] | undefined {
  const ramp = flags.rampConns;
  if (ramp !== undefined && flags.connStages !== undefined)
    throw bad("give --ramp-conns or --conn-stages, not both");
  if (ramp === undefined && flags.connStages === undefined) return undefined;
  if (flags.requests !== undefined || flags.warmup !== undefined) {
    throw bad("a connection shape sets the run's length: --requests and --warmup do not apply");
  }
  if (flags.connStages !== undefined) {
    if (flags.duration !== undefined)
      throw bad("--conn-stages sets the run's length: --duration does not apply");
    return flags.connStages;
  }
  const hold = flags.duration ?? DEFAULT_HOLD_MS;
  return [ramp!, { ms: hold, from: ramp!.to, to: ramp!.to }];
}

const DEFAULT_HOLD_MS = 5000;

/** What the run is checked against: read before the run, so a bad file fails at once. */
export function readBaseline(flags: CiFlags): BenchResult | undefined {
  return flags.compare === undefined ? undefined : readResult(flags.compare);
}

/**
 * After the run: thresholds into the result, the files written, the text printed.
 * Returns the error to exit with (undefined: exit 0), given the run's own verdict.
 */
export function finishCi(
  result: BenchResult,
  options: BenchOptions,
  flags: CiFlags & { json?: boolean },
  baseline: BenchResult | undefined,
  startEpochMs: number,
  format: (r: BenchResult) => string,
  failedSummary: string | undefined,
): { out: string; error: EchoplexError | undefined } {
  const thresholds = flags.threshold;
  if (thresholds !== undefined) result.thresholds = evaluateThresholds(thresholds, result, options.rate);
  const changes: FigureChange[] | undefined =
    baseline === undefined ? undefined : compareResults(baseline, result);
  if (flags.hdrLog !== undefined) writeHdrLog(flags.hdrLog, result, startEpochMs);
  if (flags.junit !== undefined) {
    try {
      writeFileSync(flags.junit, junitReport(result, result.thresholds, failedSummary));
    } catch (err) {
      throw new EchoplexError(
        "ERR_OUTPUT_FILE",
        `cannot write --junit ${flags.junit}: ${(err as Error).message}`,
      );
    }
  }
  const { histogram: _h, intervals: _i, uncorrectedHistogram: _u, ...shown } = result;
  if (shown.script !== undefined) {
    const { stepHistograms: _s, ...script } = shown.script;
    shown.script = script;
  }
  const out = flags.json
    ? `${JSON.stringify(changes === undefined ? shown : { ...shown, compare: changes })}\n`
    : format(result) + (changes === undefined ? "" : formatComparison(flags.compare ?? "", changes));
  const failed = result.thresholds?.filter((t) => !t.pass);
  if (failed !== undefined) {
    const error =
      failed.length === 0
        ? undefined
        : new EchoplexError(
            "ERR_THRESHOLD_FAILED",
            `threshold${failed.length > 1 ? "s" : ""} not met: ${failed.map((t) => `${t.threshold} (measured ${t.actual})`).join(", ")}`,
          );
    return { out, error };
  }
  return {
    out,
    error: failedSummary === undefined ? undefined : new EchoplexError("ERR_BENCH_FAILED", failedSummary),
  };
}
