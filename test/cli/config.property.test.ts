// Properties of the serve config schema: any data (JSON-like values, near-valid service
// entries) is accepted or refused with ERR_CONFIG naming a path, never another error;
// valid units convert exactly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../src/cli/config.js";
import { SERVICES } from "../../src/cli/registry.js";
import { EchoplexError } from "../../src/errors.js";

/** validateConfig's result, or the ERR_CONFIG message (any other throw fails the property). */
function check(data: unknown): ReturnType<typeof validateConfig> | string {
  try {
    return validateConfig(data, SERVICES);
  } catch (err) {
    expect(EchoplexError.is(err)).toBe(true);
    expect((err as EchoplexError).code).toBe("ERR_CONFIG");
    return (err as EchoplexError).message;
  }
}

const FIELDS = [
  "port",
  "address",
  "host",
  "enabled",
  "idleTimeout",
  "maxLine",
  "maxConnections",
  "maxConnsPerIp",
  "highWater",
  "maxPending",
  "drainTimeout",
  "rateLimit",
  "rateBurst",
  "rateGrace",
  "lineTimeout",
  "framing",
  "tls",
  "delay",
  "bogus",
];
const unitish = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }),
  fc.double({ noNaN: false }),
  fc.constantFrom("1s", "250ms", "2m", "1h", "64k", "1m", "10x", "", "-1s", "1e3", "0", "lines", "length"),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
);
const entry = fc.dictionary(fc.constantFrom(...FIELDS), unitish, { maxKeys: 6 });
const config = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record(
    {
      services: fc.dictionary(
        fc.constantFrom(...SERVICES.map((s) => s.name), "nope"),
        fc.oneof(entry, fc.jsonValue({ maxDepth: 1 })),
        { maxKeys: 4 },
      ),
      log: fc.oneof(
        fc.record({ level: fc.constantFrom("info", "debug", "loud") }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
    },
    { requiredKeys: [] },
  ),
);

describe("serve config schema (properties)", () => {
  it("accepts or refuses any data with ERR_CONFIG, each problem on a named path", () => {
    fc.assert(
      fc.property(config, (data) => {
        const result = check(data);
        if (typeof result === "string") {
          // "config: PATH: what is wrong", PATH readable even for an empty or odd key.
          expect(result).toMatch(
            /^config: (\(top level\)|[\w-]+|"(?:[^"\\]|\\.)*")(\.([\w-]+|"(?:[^"\\]|\\.)*"))*: \S/,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("durations and sizes convert exactly; rate and line limits come through", () => {
    fc.assert(
      fc.property(
        fc.nat(10_000_000),
        fc.nat(1_000_000),
        fc.nat(100_000),
        fc.integer({ min: 1, max: 4096 }),
        (ms, seconds, rate, kib) => {
          const result = check({
            services: {
              cmd: {
                idleTimeout: `${ms}ms`,
                drainTimeout: seconds,
                lineTimeout: `${seconds}s`,
                rateLimit: rate,
                maxLine: `${kib}k`,
              },
            },
          });
          expect(typeof result).not.toBe("string");
          const cmd = (typeof result === "string" ? {} : result.services?.cmd) as Record<string, unknown>;
          expect(cmd).toMatchObject({
            idleTimeout: ms,
            drainTimeout: seconds * 1000,
            lineTimeout: seconds * 1000,
            rateLimit: rate,
            maxLine: kib * 1024,
          });
        },
      ),
    );
  });
});
