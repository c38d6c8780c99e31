// docs/errors.md is the one table of error codes users read: it must list exactly the
// codes src/errors.ts can raise, so a new code cannot ship undocumented.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "../src/errors.js";

const doc = readFileSync(new URL("../docs/errors.md", import.meta.url), "utf8");
const documented = [...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]);

describe("docs/errors.md", () => {
  it("lists every code of ERROR_CODES once, and no other", () => {
    expect(new Set(documented).size).toBe(documented.length);
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
