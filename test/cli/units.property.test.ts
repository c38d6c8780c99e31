import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCount, parseDuration, parseSize } from "../../src/cli/units.js";
import { EchoplexError } from "../../src/errors.js";

/** Calls f; returns its result or undefined when it threw ERR_BAD_OPTION (anything else fails the test). */
function typed(f: () => number): number | undefined {
  try {
    return f();
  } catch (err) {
    expect(EchoplexError.is(err)).toBe(true);
    expect((err as EchoplexError).code).toBe("ERR_BAD_OPTION");
    return undefined;
  }
}

/** Strings near the valid forms: digits, dots, unit letters, spaces. */
const unitish = fc
  .array(fc.oneof(fc.constantFrom(..."0123456789.  kmgbisKMGBhI-e+"), fc.string({ maxLength: 1 })), {
    maxLength: 30,
  })
  .map((a) => a.join(""));
const anyText = fc.oneof(unitish, fc.string(), fc.bigInt({ min: 0n, max: 10n ** 40n }).map(String));

describe("CLI units (properties)", () => {
  for (const [name, parse] of [
    ["parseSize", parseSize],
    ["parseDuration", parseDuration],
    ["parseCount", parseCount],
  ] as const) {
    it(`${name} returns a non-negative safe integer or throws ERR_BAD_OPTION, for any string`, () => {
      fc.assert(
        fc.property(anyText, (text) => {
          const value = typed(() => parse(text));
          if (value !== undefined) {
            expect(Number.isSafeInteger(value)).toBe(true);
            expect(value).toBeGreaterThanOrEqual(0);
          }
        }),
        { numRuns: 3000 },
      );
    });
  }

  it("sizes and durations scale by their unit", () => {
    fc.assert(
      fc.property(fc.nat(1_000_000), (n) => {
        expect(parseSize(`${n}k`)).toBe(n * 1024);
        expect(parseSize(`${n}m`)).toBe(n * 1024 * 1024);
        expect(parseSize(String(n))).toBe(n);
        expect(parseDuration(`${n}ms`)).toBe(n);
        expect(parseDuration(`${n}s`)).toBe(n * 1000);
        expect(parseDuration(String(n))).toBe(n * 1000);
        expect(parseCount(String(n))).toBe(n);
      }),
    );
  });
});
