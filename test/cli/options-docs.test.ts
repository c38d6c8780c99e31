// The docs' flag tables against the option declarations: every declared flag is in its
// page's table with its default, and every flag a table lists is declared. A flag added,
// renamed or given another default without its docs fails here.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { chatService } from "../../src/cli/commands/chat.js";
import { echoService } from "../../src/cli/commands/echo.js";
import { httpService } from "../../src/cli/commands/http.js";
import { sinkService } from "../../src/cli/commands/sink.js";
import { LINE_SERVICE_OPTIONS, TLS_OPTIONS } from "../../src/options/shared.js";
import type { OptionSpec } from "../../src/options/spec.js";
import { CHAT_OPTIONS } from "../../src/services/chat/options.js";
import { ECHO_OPTIONS } from "../../src/services/echo/options.js";
import { SINK_OPTIONS } from "../../src/services/sink/options.js";

interface Row {
  flags: string[];
  /** The default column's cell, when the table has one. */
  defaultCell: string | undefined;
  line: string;
}

/** The rows of every table whose first column is `flag`, with the flags each names. */
function flagRows(page: string): Row[] {
  const rows: Row[] = [];
  let defaultColumn: number | undefined;
  let inTable = false;
  for (const line of readFileSync(new URL(`../../docs/${page}`, import.meta.url), "utf8").split("\n")) {
    if (!line.startsWith("|")) {
      inTable = false;
      continue;
    }
    // Cells split on pipes that are not escaped (`lines\|length`).
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    if (!inTable) {
      inTable = cells[0] === "flag";
      defaultColumn = inTable ? cells.indexOf("default") : undefined;
      continue;
    }
    if (/^-+$/.test(cells[0] ?? "")) continue;
    const flags = [...(cells[0] ?? "").matchAll(/--[a-z][a-z-]*(\*)?/g)].map((m) => m[0]);
    const defaultCell = defaultColumn === undefined || defaultColumn < 0 ? undefined : cells[defaultColumn];
    rows.push({ flags, defaultCell, line });
  }
  return rows;
}

/** How a default is written in a table: `64k`, off for a boolean. */
function documentedDefault(spec: OptionSpec): string | undefined {
  if (spec.kind === "boolean") return "off";
  if (spec.default === undefined) return undefined;
  const text = spec.defaultText ?? String(spec.default);
  return text.includes(" ") || text === "none" ? text : `\`${text}\``;
}

const covers = (documented: string, flag: string) =>
  documented === flag || (documented.endsWith("*") && flag.startsWith(documented.slice(0, -1)));

/** Each page, the options it documents (its table rows), and which of them it must list. */
const PAGES: Array<{ page: string; declared: readonly OptionSpec[]; required: readonly OptionSpec[] }> = [
  { page: "flags.md", declared: LINE_SERVICE_OPTIONS, required: LINE_SERVICE_OPTIONS },
  { page: "tls.md", declared: TLS_OPTIONS, required: TLS_OPTIONS },
  { page: "echo.md", declared: echoService.options, required: ECHO_OPTIONS },
  {
    page: "chat.md",
    declared: chatService.options,
    // Besides its own: the shared flags whose default chat changes.
    required: [
      ...CHAT_OPTIONS,
      ...chatService.options.filter((s) => ["maxPending", "idleTimeout"].includes(s.name)),
    ],
  },
  { page: "sink.md", declared: sinkService.options, required: SINK_OPTIONS },
  { page: "http.md", declared: httpService.options, required: httpService.options },
];

describe("docs flag tables match the option declarations", () => {
  for (const { page, declared, required } of PAGES) {
    const rows = flagRows(page);

    it(`docs/${page} lists each of its declared flags with its default`, () => {
      const problems: string[] = [];
      for (const spec of required) {
        const row = rows.find((r) => r.flags.some((f) => covers(f, spec.flag)));
        if (row === undefined) {
          problems.push(`${spec.flag}: not in a flag table`);
          continue;
        }
        // A row naming several flags (`--tls-*`, the TLS summary) states no one default.
        const expected = documentedDefault(spec);
        if (row.flags.length !== 1 || row.flags[0] !== spec.flag || row.defaultCell === undefined) continue;
        if (expected !== undefined && !row.defaultCell.includes(expected))
          problems.push(`${spec.flag}: default documented as ${row.defaultCell}, declared ${expected}`);
      }
      expect(problems).toEqual([]);
    });

    it(`docs/${page} lists no flag that is not declared`, () => {
      const flags = new Set(declared.map((s) => s.flag));
      const unknown = rows
        .flatMap((r) => r.flags)
        .filter((f) => ![...flags].some((declaredFlag) => covers(f, declaredFlag)));
      expect(unknown).toEqual([]);
    });
  }
});
