import { describe, expect, it } from "vitest";
import { parseRequest } from "../../../src/services/cmd/parser.js";

function parse(line: string) {
  const r = parseRequest(Buffer.from(line));
  if (r.kind === "command") return { kind: r.kind, name: r.name, text: r.text.toString() };
  if (r.kind === "unknown") return { kind: r.kind, word: r.word.toString() };
  return r;
}

describe("command parser", () => {
  it("matches the command word without regard to ASCII case and keeps the text byte for byte", () => {
    expect(parse("eCHo  a  b ")).toEqual({ kind: "command", name: "ECHO", text: "a  b " });
    expect(parse("\tREVERSE\tx")).toEqual({ kind: "command", name: "REVERSE", text: "x" });
    expect(parse("PING")).toEqual({ kind: "command", name: "PING", text: "" });
  });

  it("treats blank lines as empty and other words as unknown", () => {
    expect(parse("")).toEqual({ kind: "empty" });
    expect(parse(" \t ")).toEqual({ kind: "empty" });
    expect(parse("ECHOX a")).toEqual({ kind: "unknown", word: "ECHOX" });
    expect(parse("PIN")).toEqual({ kind: "unknown", word: "PIN" });
    expect(parse("ÉCHO a")).toEqual({ kind: "unknown", word: "ÉCHO" });
  });
});
