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
  /**
   * Messages the pretty log leaves out: the CLI prints where it listens on stdout, and a
   * person at the terminal need not read it twice. The JSON log keeps them.
   */
  omitFromPretty?: readonly string[];
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const format = options.format ?? "auto";
  const usePretty = format === "pretty" || (format === "auto" && process.stderr.isTTY === true);
  if (usePretty) {
    const pretty = require("pino-pretty") as typeof PinoPretty;
    const omitted = new Set(options.omitFromPretty ?? []);
    return pino(
      {
        level,
        hooks: {
          logMethod(args, method) {
            const msg = typeof args[0] === "string" ? args[0] : args[1];
            if (typeof msg === "string" && omitted.has(msg)) return;
            method.apply(this, args);
          },
        },
      },
      // One line per event (a connection's fields after its message), the service first:
      // a terminal shows many events at once. An error's stack still takes its own lines.
      pretty({
        destination: 2,
        sync: true,
        colorize: process.stderr.isTTY === true,
        singleLine: true,
        ignore: "pid,hostname,service",
        messageFormat: "{if service}{service}: {end}{msg}",
      }),
    );
  }
  return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything: the library default, so embedding is quiet. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
