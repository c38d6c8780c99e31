// docs/API.md against src/index.ts: every name the package exports (values and types,
// through `export *` too) is documented, and every name the page documents is exported.
// The compiler lists the exports, so a re-export added to a sub-index cannot slip by.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

function exportedNames(): string[] {
  const entry = `${root}src/index.ts`;
  // Only the module graph is needed, not type checking of bodies: no lib, no @types.
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const source = program.getSourceFile(entry);
  if (source === undefined) throw new Error(`${entry} not in the program`);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(source);
  if (module === undefined) throw new Error(`${entry} is not a module`);
  return checker.getExportsOfModule(module).map((s) => s.name);
}

/** Names written in backticks at the start of a table row or list item. */
function documentedNames(): string[] {
  const page = readFileSync(`${root}docs/API.md`, "utf8");
  const names: string[] = [];
  for (const line of page.split("\n")) {
    const m = /^(?:\|\s*|[-*]\s+)`([A-Za-z_$][\w$]*)`/.exec(line);
    if (m?.[1] !== undefined) names.push(m[1]);
  }
  return names;
}

describe("docs/API.md lists the public API", () => {
  // Building the program reads the whole src/ tree: a few seconds on a loaded machine.
  const exported = exportedNames();
  const documented = documentedNames();

  it("finds the exports (sanity: the compiler saw export * too)", () => {
    expect(exported.length).toBeGreaterThan(100);
    expect(exported).toEqual(
      expect.arrayContaining(["createServer", "Handler", "lines", "createPool", "startAdmin"]),
    );
  });

  it("documents every exported name", () => {
    const missing = exported.filter((n) => !documented.includes(n)).sort();
    expect(missing, "exported from src/index.ts but not in docs/API.md").toEqual([]);
  });

  it("documents no name that is not exported", () => {
    const extra = documented.filter((n) => !exported.includes(n)).sort();
    expect(extra, "in docs/API.md but not exported from src/index.ts").toEqual([]);
  });

  it("documents each name once", () => {
    const twice = documented.filter((n, i) => documented.indexOf(n) !== i);
    expect(twice).toEqual([]);
  });
});
