// Logger construction: pretty in a terminal, JSON otherwise, always on stderr so
// stdout stays free for what a command prints (banners, client replies).
import { createRequire } from "node:module";
import { type Logger, pino } from "pino";
import type PinoPretty from "pino-pretty";

// pino-pretty is loaded only for a terminal: servers logging JSON do not pay for it.
const require = createRequire(import.meta.url);

export type { Logger } from "pino";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = "pretty" | "json" | "auto";

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const format = options.format ?? "auto";
  const usePretty = format === "pretty" || (format === "auto" && process.stderr.isTTY === true);
  if (usePretty) {
    const pretty = require("pino-pretty") as typeof PinoPretty;
    return pino(
      { level },
      pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: "pid,hostname" }),
    );
  }
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: the library default, so embedding is quiet. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
