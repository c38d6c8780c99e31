// `--junit FILE`: the run's verdict as a JUnit XML report, the format CI systems
// (Jenkins, GitLab, GitHub test reporters) show as test results: one testcase per
// threshold, or one for the whole run when no threshold was given.
import type { BenchResult } from "./result.js";
import type { ThresholdOutcome } from "./thresholds.js";

const escapeXml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );

interface Case {
  name: string;
  failure?: string;
}

/**
 * The report: thresholds as testcases; without thresholds one testcase, failed with
 * `failedSummary` when the run saw errors, mismatches or losses.
 */
export function junitReport(
  r: BenchResult,
  outcomes: readonly ThresholdOutcome[] | undefined,
  failedSummary: string | undefined,
): string {
  const cases: Case[] =
    outcomes === undefined
      ? [{ name: "run", ...(failedSummary === undefined ? {} : { failure: failedSummary }) }]
      : outcomes.map((o) => ({
          name: o.threshold,
          ...(o.pass ? {} : { failure: `measured ${o.actual}, limit ${o.limit}` }),
        }));
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const suite = escapeXml(`echoplex bench ${r.mode} ${r.target}`);
  const classname = escapeXml(`echoplex.bench.${r.mode}`);
  const body = cases
    .map((c) => {
      const open = `    <testcase name="${escapeXml(c.name)}" classname="${classname}" time="${r.seconds}"`;
      if (c.failure === undefined) return `${open}/>`;
      const msg = escapeXml(c.failure);
      return `${open}>\n      <failure message="${msg}" type="threshold">${msg}</failure>\n    </testcase>`;
    })
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="${cases.length}" failures="${failures}" time="${r.seconds}">
  <testsuite name="${suite}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${r.seconds}">
${body}
  </testsuite>
</testsuites>
`;
}
