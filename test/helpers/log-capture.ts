// A library logger for tests that read what a server logged: its JSON lines, parsed.
import { type Logger, pino } from "pino";

/** A logger (info and up) whose JSON lines land in `lines`. */
export function captureLogs(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "info", base: undefined },
    { write: (s: string) => lines.push(JSON.parse(s)) },
  );
  return { logger, lines };
}
