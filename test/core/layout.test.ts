// The engine's layout as issue 14 set it: parts small enough to read, no import
// cycles inside src/core, and the engine's slots on a Connection out of services' reach.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const core = join(root, "src/core");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** The src/core files `file` imports, as paths relative to src/core. */
function localImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/from "(\.\.?\/[\w./-]+)\.js"/g)]
    .map((m) => relative(core, join(dirname(file), `${m[1]}.ts`)))
    .filter((path) => !path.startsWith(".."));
}

describe("src/core layout", () => {
  it("server.ts stays under 400 lines and every file under 450", () => {
    for (const file of sources(core)) {
      const lines = readFileSync(file, "utf8").split("\n").length;
      expect(lines, relative(root, file)).toBeLessThanOrEqual(file.endsWith("server.ts") ? 400 : 450);
    }
  });

  it("has no import cycles", () => {
    const graph = new Map(sources(core).map((f) => [relative(core, f), localImports(f)]));
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      for (const next of graph.get(node) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(" -> "));
        else if (path.length < graph.size) visit(next, [...path, next]);
      }
    };
    for (const file of graph.keys()) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it("only src/core imports the engine's slots", () => {
    const outside = sources(join(root, "src"))
      .filter((f) => !f.startsWith(core))
      .filter((f) => /core\/slots\.js"/.test(readFileSync(f, "utf8")));
    expect(outside.map((f) => relative(root, f))).toEqual([]);
  });
});
