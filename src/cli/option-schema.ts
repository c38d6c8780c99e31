// The `serve` config entry of a service from its option declarations (src/options/spec.ts):
// each option under its name (or its nested `config` path), parsed to the same value its
// flag gives, so a config key and a flag have the same effect.
import { z } from "zod";
import type { OptionSpec, OptionValues } from "../options/spec.js";
import { count, duration, size } from "./config-schema.js";
import { checkBounds, parseHeader } from "./option-commander.js";

/** Adds the declared bounds to a numeric field, worded as the flag's error is. */
function withBounds(spec: OptionSpec, field: z.ZodType<number>): z.ZodType<number> {
  if (spec.min === undefined && spec.max === undefined) return field;
  return field.superRefine((value, ctx) => {
    const problem = checkBounds(spec, value);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** Runs the declaration's string check; its error becomes the field's issue. */
function checkedString(spec: OptionSpec): z.ZodType<string> {
  const check = spec.check;
  if (check === undefined) return z.string();
  return z.string().superRefine((value, ctx) => {
    try {
      check(value);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
    }
  });
}

/** `headers: { Name: value }` or `headers: ["Name: value"]`, as pairs (repeated --header). */
const headers = z
  .union([z.record(z.string(), z.string()), z.array(z.string())])
  .transform((value, ctx): Array<[string, string]> => {
    if (!Array.isArray(value)) return Object.entries(value);
    try {
      return value.map((text) => parseHeader(text, "header"));
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

/** The config field of one option; its output is what the flag's parser returns. */
export function fieldFor(spec: OptionSpec): z.ZodType {
  switch (spec.kind) {
    case "size":
      return withBounds(spec, size);
    case "duration":
      return withBounds(spec, duration);
    case "count":
      return withBounds(spec, count);
    case "number":
      return withBounds(spec, z.number().min(0));
    case "boolean":
      return z.boolean();
    case "choice":
      return z.enum(spec.choices as [string, ...string[]]);
    case "headers":
      return headers;
    case "port":
      return z.number().int().min(0).max(65535);
    case "string":
      return checkedString(spec);
    case "list":
      // One string or a list of them, as a repeated flag gives.
      return z
        .union([checkedString(spec), z.array(checkedString(spec))])
        .transform((v) => (Array.isArray(v) ? v : [v]));
    default:
      return z.string();
  }
}

type Refinement = (value: Record<string, unknown>, ctx: z.RefinementCtx) => void;

/**
 * The entry fields of a service's options (process-wide ones excluded: they sit at the
 * config's top level). A nested path makes a strict object, checked by `refinements[group]`.
 */
export function entryShape(
  specs: readonly OptionSpec[],
  refinements: Record<string, Refinement> = {},
): z.ZodRawShape {
  const shape: Record<string, z.ZodType> = {};
  const groups = new Map<string, Record<string, z.ZodType>>();
  for (const spec of specs) {
    if (spec.scope === "process") continue;
    const [head, key] = (spec.config ?? spec.name).split(".") as [string, string | undefined];
    if (key === undefined) {
      shape[head] = fieldFor(spec).optional();
      continue;
    }
    const group = groups.get(head) ?? {};
    group[key] = fieldFor(spec).optional();
    groups.set(head, group);
  }
  for (const [head, group] of groups) {
    const refine = refinements[head];
    const object = z.strictObject(group);
    shape[head] = (refine === undefined ? object : object.superRefine(refine)).optional();
  }
  return shape;
}

/** The values of a validated entry by declared name, defaults filled in (as the flags give them). */
export function valuesFromEntry(specs: readonly OptionSpec[], entry: Record<string, unknown>): OptionValues {
  const values: Record<string, unknown> = {};
  for (const spec of specs) {
    const path = (spec.config ?? spec.name).split(".");
    let value: unknown = spec.scope === "process" ? undefined : entry;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    values[spec.name] = value ?? (spec.kind === "boolean" ? false : spec.default);
  }
  return values;
}
