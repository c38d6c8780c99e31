// What to answer to one HTTP request, from its path and query alone (pure: no
// sockets, no timers): the delay, the status, or a 400 that says what was wrong.

/** The responder's settings that a request may override. */
export interface PlanDefaults {
  delayMs: number;
  status: number;
  /** Requests asking for a longer delay are refused with a 400. */
  maxDelayMs: number;
}

export type ResponsePlan =
  /** `/healthz`: answered at once, never delayed. */
  | { kind: "health" }
  /** `/echo`: the request itself as JSON, after the delay. */
  | { kind: "echo"; delayMs: number; status: number }
  /** Everything else: the configured body, after the delay, with the status. */
  | { kind: "reply"; delayMs: number; status: number }
  /** A malformed or over-the-cap override. */
  | { kind: "bad"; message: string };

const DELAY = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** `2`, `0.5`, `250ms`, `2s`, `1m` in milliseconds; a bare number is seconds. */
export function parseDelay(text: string): number | undefined {
  const m = DELAY.exec(text);
  if (m === null) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "s"]!);
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * A status, or a weighted choice (`200:9,503:1`; a weight defaults to 1) drawn with
 * `random` (0 ≤ x < 1); undefined when a code or weight is malformed.
 */
export function pickStatus(text: string, random: () => number): number | undefined {
  const choices: Array<[number, number]> = [];
  let total = 0;
  for (const item of text.split(",").slice(0, 64)) {
    const m = /^(\d{3})(?::(\d+(?:\.\d+)?))?$/.exec(item.trim());
    if (m === null) return undefined;
    const code = Number(m[1]);
    const weight = m[2] === undefined ? 1 : Number(m[2]);
    if (!(code >= 200 && code <= 599)) return undefined;
    choices.push([code, weight]);
    total += weight;
  }
  if (total <= 0) return undefined;
  let at = random() * total;
  for (const [code, weight] of choices) {
    if (at < weight) return code;
    at -= weight;
  }
  return choices[choices.length - 1]![0];
}

/** `url` is the request target as sent (`/delay/2?status=503`). */
export function planResponse(
  url: string,
  defaults: PlanDefaults,
  random: () => number = Math.random,
): ResponsePlan {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (path === "/healthz") return { kind: "health" };

  let delayText: string | undefined;
  let statusText: string | undefined;
  let kind: "echo" | "reply" = "reply";
  if (path === "/echo") kind = "echo";
  else if (path.startsWith("/delay/")) delayText = path.slice(7);
  else if (path.startsWith("/status/")) statusText = path.slice(8);
  if (q >= 0) {
    const query = new URLSearchParams(url.slice(q + 1));
    delayText = query.get("delay") ?? delayText;
    statusText = query.get("status") ?? statusText;
  }

  let delayMs = defaults.delayMs;
  if (delayText !== undefined) {
    const parsed = parseDelay(delayText);
    if (parsed === undefined) {
      return { kind: "bad", message: `bad delay "${delayText}": use seconds (2, 0.5) or 250ms, 2s, 1m` };
    }
    if (parsed > defaults.maxDelayMs) {
      return {
        kind: "bad",
        message: `delay ${formatMs(parsed)} exceeds the maximum ${formatMs(defaults.maxDelayMs)} (--max-delay)`,
      };
    }
    delayMs = parsed;
  }
  let status = defaults.status;
  if (statusText !== undefined) {
    const parsed = pickStatus(statusText, random);
    if (parsed === undefined) {
      return {
        kind: "bad",
        message: `bad status "${statusText}": use a code from 200 to 599, or weighted: 200:9,503:1`,
      };
    }
    status = parsed;
  }
  return { kind, delayMs, status };
}
