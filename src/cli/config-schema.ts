// Schema pieces for `echoplex serve` config files (zod): human units, the fields every
// service entry has besides its declared options, and error messages naming the exact path.
import { z } from "zod";
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

/** The `tls:` object of a service entry (the --tls-* flags): a certificate, and mTLS only with a CA. */
export function refineTls(tls: Record<string, unknown>, ctx: z.RefinementCtx): void {
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
}

/** Fields of every service entry besides its declared options. */
export const commonEntryShape = {
  /** false: listed but not started. */
  enabled: z.boolean().optional(),
  /** As on the command line: 8080, ":8080", "127.0.0.1:8080", "[::1]:0". */
  /** One door, or several (`[":8080", "udp://:8080", "unix:/run/echo.sock"]`). */
  address: z
    .union([z.string(), z.number().int(), z.array(z.union([z.string(), z.number().int()])).min(1)])
    .optional(),
};

const commonEntry = z.object(commonEntryShape);
export type CommonEntry = z.output<typeof commonEntry>;

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
