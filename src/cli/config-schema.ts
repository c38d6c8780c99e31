// Schema pieces for `echoplex serve` config files (zod): human units, the fields every
// service entry shares, and error messages that name the exact path of a mistake.
import { z } from "zod";
import type { Limits } from "../core/limits.js";
import type { ServerTlsConfig } from "../core/tls.js";
import { parseDuration, parseSize } from "./units.js";

/** A duration: a number of seconds or a string such as "250ms", "2s", "1m". Output: milliseconds. */
export const duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") {
    if (value >= 0) return Math.round(value * 1000);
  } else {
    try {
      return parseDuration(value);
    } catch {}
  }
  ctx.addIssue({
    code: "custom",
    message: `expected a duration like 250ms, 2s, 1m; got ${JSON.stringify(value)}`,
  });
  return z.NEVER;
});

/** A size: a number of bytes or a string such as "64k", "1m". Output: bytes. */
export const size = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return value;
  try {
    return parseSize(value);
  } catch {
    ctx.addIssue({
      code: "custom",
      message: `expected a size like 65536, 64k, 1m; got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
});

export const count = z.number().int().nonnegative();

/** `tls:` in a service entry: the config-file twin of the --tls-* flags. */
const tlsSchema = z
  .strictObject({
    selfSigned: z.boolean().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    ca: z.string().optional(),
    requireClientCert: z.boolean().optional(),
    handshakeTimeout: duration.optional(),
    ciphers: z.string().min(1).optional(),
  })
  .superRefine((tls, ctx) => {
    const files = tls.cert !== undefined || tls.key !== undefined;
    if (files && tls.selfSigned)
      ctx.addIssue({ code: "custom", message: "use either cert/key or selfSigned, not both" });
    else if (files && (tls.cert === undefined || tls.key === undefined))
      ctx.addIssue({ code: "custom", message: "cert and key go together" });
    else if (!files && !tls.selfSigned)
      ctx.addIssue({ code: "custom", message: "needs cert and key, or selfSigned: true" });
    if (tls.requireClientCert && tls.ca === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["requireClientCert"],
        message: "needs ca: FILE to check certificates",
      });
  });

type TlsEntry = z.output<typeof tlsSchema>;

export function tlsConfigFromEntry(tls: TlsEntry): ServerTlsConfig {
  return {
    certificate:
      tls.cert !== undefined && tls.key !== undefined
        ? { kind: "files", certFile: tls.cert, keyFile: tls.key }
        : { kind: "self-signed" },
    ...(tls.ca === undefined ? {} : { caFile: tls.ca }),
    clientCerts: tls.ca === undefined ? "none" : tls.requireClientCert ? "required" : "optional",
    ...(tls.handshakeTimeout === undefined ? {} : { handshakeTimeoutMs: tls.handshakeTimeout }),
    ...(tls.ciphers === undefined ? {} : { ciphers: tls.ciphers }),
  };
}

/** Fields every service entry takes, whatever the service. */
export const commonEntryShape = {
  /** false: listed but not started. */
  enabled: z.boolean().optional(),
  /** As on the command line: 8080, ":8080", "127.0.0.1:8080", "[::1]:0". */
  address: z.union([z.string(), z.number().int()]).optional(),
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).optional(),
  tls: tlsSchema.optional(),
};

const commonEntry = z.object(commonEntryShape);
export type CommonEntry = z.output<typeof commonEntry>;

/** The engine limits, as a line service's config entry spells them (same names as the flags). */
export const engineLimitsShape = {
  idleTimeout: duration.optional(),
  maxConnections: count.min(1).optional(),
  maxConnsPerIp: count.optional(),
  highWater: size.optional(),
  maxPending: size.optional(),
  drainTimeout: duration.optional(),
  rateLimit: count.optional(),
  rateBurst: count.optional(),
  rateGrace: duration.optional(),
  lineTimeout: duration.optional(),
};

const engineLimitsEntry = z.object(engineLimitsShape);

export function limitsFromEntry(entry: z.output<typeof engineLimitsEntry>): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (entry.idleTimeout !== undefined) limits.idleTimeoutMs = entry.idleTimeout;
  if (entry.maxConnections !== undefined) limits.maxConnections = entry.maxConnections;
  if (entry.maxConnsPerIp !== undefined) limits.maxConnectionsPerIp = entry.maxConnsPerIp;
  if (entry.highWater !== undefined) limits.highWaterBytes = entry.highWater;
  if (entry.maxPending !== undefined) limits.maxPendingBytes = entry.maxPending;
  if (entry.drainTimeout !== undefined) limits.drainTimeoutMs = entry.drainTimeout;
  if (entry.rateLimit !== undefined) limits.maxMessagesPerSecond = entry.rateLimit;
  if (entry.rateBurst !== undefined) limits.rateBurst = entry.rateBurst;
  if (entry.rateGrace !== undefined) limits.rateGraceMs = entry.rateGrace;
  if (entry.lineTimeout !== undefined) limits.lineTimeoutMs = entry.lineTimeout;
  return limits;
}

const ARTICLE: Record<string, string> = {
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
};

/** A path segment as the reader can see it: a key that is not a plain word is quoted. */
function segment(key: PropertyKey): string {
  const text = String(key);
  return /^[\w-]+$/.test(text) ? text : JSON.stringify(text);
}

/** One line per problem: `services.echo.port: expected a number, got "abc"`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(segment).join(".");
      let message: string;
      switch (issue.code) {
        case "invalid_type":
          message =
            issue.input === undefined
              ? `missing (expected ${ARTICLE[issue.expected] ?? issue.expected})`
              : `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${JSON.stringify(issue.input)}`;
          break;
        case "unrecognized_keys":
          return issue.keys
            .map((key) => `${path === "" ? segment(key) : `${path}.${segment(key)}`}: unknown field`)
            .join("; ");
        case "invalid_value":
          message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
          break;
        case "invalid_union":
          message = "expected a number or a string";
          break;
        default:
          message = issue.message;
      }
      return `${path === "" ? "(top level)" : path}: ${message}`;
    })
    .join("; ");
}
