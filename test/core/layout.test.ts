// The layout as issue 14 set it: parts small enough to read, no import cycles anywhere
// in src/ (type-only imports included: they tie modules as tightly when read), and the
// engine's slots on a Connection out of services' reach.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const src = join(root, "src");
const core = join(src, "core");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** The src/ files `file` imports (static, re-exported or dynamic), as paths relative to src/. */
function localImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.\.?\/[\w./-]+)\.js"/g)]
    .map((m) => relative(src, join(dirname(file), `${m[1]}.ts`)))
    .filter((path) => !path.startsWith(".."));
}

/** Every import cycle of `graph`, one line per module in a cycle: the strongly connected components (Tarjan). */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[] = [];
  const connect = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    for (const from of component) {
      for (const to of graph.get(from) ?? []) {
        if (component.includes(to)) cycles.push(`${from} -> ${to}`);
      }
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) connect(node);
  return cycles.sort();
}

describe("src layout", () => {
  it("src/core's server.ts stays under 400 lines and every file in src/ under 450", () => {
    for (const file of sources(src)) {
      const lines = readFileSync(file, "utf8").split("\n").length;
      const limit = file.startsWith(core) && file.endsWith("server.ts") ? 400 : 450;
      expect(lines, relative(root, file)).toBeLessThanOrEqual(limit);
    }
  });

  it("has no import cycles anywhere in src/", () => {
    const graph = new Map(sources(src).map((f) => [relative(src, f), localImports(f)]));
    expect(graph.size).toBeGreaterThan(100); // the whole tree was read
    expect(graph.get("client/session.ts")).toContain("client/pipe-session.ts"); // edges were found
    expect(importCycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const graph = new Map([
      ["a.ts", ["b.ts"]],
      ["b.ts", ["c.ts"]],
      ["c.ts", ["a.ts", "d.ts"]],
      ["d.ts", []],
    ]);
    expect(importCycles(graph)).toEqual(["a.ts -> b.ts", "b.ts -> c.ts", "c.ts -> a.ts"]);
  });

  it("only src/core imports the engine's slots", () => {
    const outside = sources(join(root, "src"))
      .filter((f) => !f.startsWith(core))
      .filter((f) => /core\/slots\.js"/.test(readFileSync(f, "utf8")));
    expect(outside.map((f) => relative(root, f))).toEqual([]);
  });
});
