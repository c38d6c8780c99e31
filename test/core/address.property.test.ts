import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatAddress, parseAddress } from "../../src/core/address.js";
import { EchoplexError } from "../../src/errors.js";

/** Calls f; returns its result, or undefined when it threw an EchoplexError with `code` (anything else fails). */
function typed<T>(code: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (err) {
    expect(EchoplexError.is(err)).toBe(true);
    expect((err as EchoplexError).code).toBe(code);
    return undefined;
  }
}

/** Strings made mostly of the characters addresses are built from, so that near-misses are common. */
const addressish = fc
  .array(fc.oneof(fc.constantFrom(..."0123456789:.[]abcdef-x%* "), fc.string({ maxLength: 1 })), {
    maxLength: 40,
  })
  .map((a) => a.join(""));

describe("parseAddress (properties)", () => {
  it("throws nothing but ERR_BAD_ADDRESS for any string and any default port", () => {
    fc.assert(
      fc.property(
        fc.oneof(addressish, fc.string(), fc.string({ unit: "binary" })),
        fc.option(fc.nat(65535)),
        (s, d) => {
          const addr = typed("ERR_BAD_ADDRESS", () => parseAddress(s, d ?? undefined));
          if (addr !== undefined) {
            expect(Number.isInteger(addr.port)).toBe(true);
            expect(addr.port).toBeGreaterThanOrEqual(0);
            expect(addr.port).toBeLessThanOrEqual(65535);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("accepts exactly the ports 0..65535 in every form", () => {
    fc.assert(
      fc.property(
        fc.nat(200_000),
        fc.constantFrom("", ":", "127.0.0.1:", "[::1]:", "localhost:"),
        (port, form) => {
          const addr = typed("ERR_BAD_ADDRESS", () => parseAddress(`${form}${port}`));
          expect(addr?.port).toBe(port <= 65535 ? port : undefined);
        },
      ),
    );
  });

  it("formatAddress output parses back to the same address (IPv4, IPv6, names, all interfaces)", () => {
    const host = fc.oneof(
      fc.ipV4(),
      fc.ipV6(),
      fc.domain().filter((d) => d.length <= 253),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(host, fc.nat(65535), (h, port) => {
        const text = formatAddress(h, port);
        const back = parseAddress(text.startsWith("*") ? text.slice(1) : text);
        expect(back.port).toBe(port);
        // "::" and "0.0.0.0" are written as "*": all interfaces.
        expect(back.host).toBe(h === "::" || h === "0.0.0.0" ? undefined : h);
      }),
      { numRuns: 2000 },
    );
  });
});
