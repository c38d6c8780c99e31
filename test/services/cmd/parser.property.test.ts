// Properties of the cmd request parser: any bytes parse without throwing, into a
// result that agrees with the protocol's rules; built requests parse back to their parts.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES } from "../../../src/services/cmd/commands.js";
import { newScan, parseRequest, scanRequest } from "../../../src/services/cmd/parser.js";

const blank = fc.constantFrom(" ", "\t");
const blanks = (min: number) => fc.array(blank, { minLength: min, maxLength: 4 }).map((a) => a.join(""));
/** A command name in random letter case. */
const casedName = fc
  .tuple(fc.constantFrom(...COMMAND_NAMES), fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }))
  .map(([name, lower]) => [...name].map((c, i) => (lower[i] ? c.toLowerCase() : c)).join(""));
/** Bytes that look like requests: command words, blanks, anything. */
const requestish = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc
    .array(
      fc.oneof(
        casedName,
        blanks(1),
        fc.string({ maxLength: 6 }),
        fc.string({ unit: "binary", maxLength: 4 }),
      ),
      {
        maxLength: 5,
      },
    )
    .map((parts) => Buffer.from(parts.join(""))),
);

const isBlank = (b: number) => b === 0x20 || b === 0x09;

describe("cmd parser (properties)", () => {
  it("never throws; empty exactly when the line is blanks; the word has no blanks", () => {
    fc.assert(
      fc.property(requestish, (line) => {
        const r = parseRequest(line);
        expect(r.kind === "empty").toBe(line.every(isBlank));
        if (r.kind === "unknown") {
          expect(r.word.length).toBeGreaterThan(0);
          expect(r.word.some(isBlank)).toBe(false);
          expect(COMMAND_NAMES as readonly string[]).not.toContain(r.word.toString("latin1").toUpperCase());
        }
        if (r.kind === "command") {
          // The text is the tail of the line: it never starts with a blank.
          expect(line.subarray(line.length - r.text.length).equals(r.text)).toBe(true);
          if (r.text.length > 0) expect(isBlank(r.text[0]!)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("round trip: blanks, a command in any case, blanks, text -> that command and that text, byte for byte", () => {
    fc.assert(
      fc.property(
        blanks(0),
        casedName,
        blanks(1),
        fc.string({ maxLength: 30 }).filter((t) => !/^[ \t]/.test(t)),
        (pre, name, sep, text) => {
          const r = parseRequest(Buffer.from(`${pre}${name}${sep}${text}`));
          expect(r).toEqual({ kind: "command", name: name.toUpperCase(), text: Buffer.from(text) });
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("one reused scan gives the same answers as fresh parses, whatever came before", () => {
    fc.assert(
      fc.property(fc.array(requestish, { maxLength: 20 }), (lines) => {
        const scan = newScan();
        for (const line of lines) {
          scanRequest(line, scan);
          const fresh = parseRequest(line);
          expect(scan.kind).toBe(fresh.kind);
          if (fresh.kind === "command") {
            expect(scan.name).toBe(fresh.name);
            expect(line.subarray(scan.textStart).equals(fresh.text)).toBe(true);
          }
          if (fresh.kind === "unknown")
            expect(line.subarray(scan.wordStart, scan.wordEnd).equals(fresh.word)).toBe(true);
        }
      }),
    );
  });
});
