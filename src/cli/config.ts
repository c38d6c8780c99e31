// `echoplex serve --config FILE`: reads JSON or YAML, validates it against the schema
// the service registry builds, and reports every mistake with its exact path.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseAddress } from "../core/address.js";
import { LOG_LEVELS } from "../core/logger.js";
import { EchoplexError } from "../errors.js";
import { WORKERS_BALANCE_CHOICES } from "../options/shared.js";
import { type CommonEntry, formatIssues } from "./config-schema.js";
import type { RegisteredService } from "./registry.js";

export interface ServeConfig {
  log?: { level?: (typeof LOG_LEVELS)[number]; format?: "auto" | "pretty" | "json" };
  /** The admin endpoint (as --admin and --admin-token; the flags win). */
  admin?: { address: string; token?: string | undefined };
  /** Worker processes (as --workers; the flag wins). */
  workers?: number;
  /** How the workers share a port (as --workers-balance; the flag wins). */
  workersBalance?: (typeof WORKERS_BALANCE_CHOICES)[number];
  /** Validated entries by service name; each is its service schema's output. */
  services?: Record<string, CommonEntry>;
}

/** The schema of a whole config file for these services. */
function configSchema(services: readonly RegisteredService[]): z.ZodType<ServeConfig> {
  const entries: Record<string, z.ZodOptional<z.ZodType>> = {};
  for (const service of services) entries[service.name] = service.schema.optional();
  return z.strictObject({
    log: z
      .strictObject({
        level: z.enum(LOG_LEVELS).optional(),
        format: z.enum(["auto", "pretty", "json"]).optional(),
      })
      .optional(),
    admin: z
      .strictObject({
        address: z.union([z.string(), z.number().int()]).transform((value, ctx) => {
          try {
            parseAddress(value);
            return String(value);
          } catch (err) {
            ctx.addIssue({ code: "custom", message: (err as Error).message });
            return z.NEVER;
          }
        }),
        token: z.string().optional(),
      })
      .optional(),
    workers: z
      .union([z.number().int().min(1), z.literal("auto")])
      .transform((value) => (value === "auto" ? availableParallelism() : value))
      .optional(),
    workersBalance: z.enum(WORKERS_BALANCE_CHOICES).optional(),
    services: z.strictObject(entries).optional(),
  }) as z.ZodType<ServeConfig>;
}

/** Validates already-parsed config data; throws ERR_CONFIG naming each bad field. */
export function validateConfig(
  data: unknown,
  services: readonly RegisteredService[],
  source = "config",
): ServeConfig {
  const result = configSchema(services).safeParse(data ?? {}, { reportInput: true });
  if (!result.success) {
    throw new EchoplexError("ERR_CONFIG", `${source}: ${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/** Reads a JSON (.json) or YAML (anything else) config file and validates it. */
export async function loadConfig(file: string, services: readonly RegisteredService[]): Promise<ServeConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new EchoplexError("ERR_CONFIG", `cannot read config file ${file} (${code})`, { cause: err });
  }
  let data: unknown;
  try {
    data = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const message = (err as Error).message.split("\n")[0];
    throw new EchoplexError(
      "ERR_CONFIG",
      `${file}: not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${message}`,
      {
        cause: err,
      },
    );
  }
  return validateConfig(data, services, file);
}
