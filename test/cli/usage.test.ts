// Usage errors through the real CLI: every kind commander detects is one line in the
// documented `echoplex: error: … (CODE)` form (plus at most a "did you mean" line),
// exit 2; help still goes to stdout with exit 0.
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const COMMANDS = ["echo", "cmd", "chat", "sink", "http", "proxy", "serve", "client", "bench"];

/** The lines of an output (without the empty string after the last newline). */
function lines(text: string): string[] {
  return text.split("\n").slice(0, -1);
}

describe("echoplex usage errors", () => {
  it.each([
    ["an unknown option", ["echo", "--nosuch"], "echoplex: error: unknown option '--nosuch' (ERR_USAGE)"],
    [
      "an unknown option of the program",
      ["--nosuch"],
      "echoplex: error: unknown option '--nosuch' (ERR_USAGE)",
    ],
    [
      "a value outside the choices",
      ["echo", "--framing", "foo"],
      "echoplex: error: option '--framing <framing>' argument 'foo' is invalid. Allowed choices are lines, length (ERR_BAD_OPTION)",
    ],
    [
      "too many arguments",
      ["client", "127.0.0.1:9000", "extra"],
      "echoplex: error: too many arguments for 'client': expected <address>, got 127.0.0.1:9000 extra (ERR_USAGE)",
    ],
    ["an unknown command", ["nonsense"], "echoplex: error: unknown command 'nonsense' (ERR_USAGE)"],
    ["a missing argument", ["client"], "echoplex: error: missing required argument 'address' (ERR_USAGE)"],
    [
      "an option without its value",
      ["echo", "--prefix"],
      "echoplex: error: option '--prefix <text>' argument missing (ERR_USAGE)",
    ],
    [
      "help for an unknown command",
      ["help", "nosuch"],
      "echoplex: error: unknown command 'nosuch' (ERR_USAGE)",
    ],
  ])("reports %s as one line and exit 2", async (_what, args, line) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([line]);
    expect(r.stdout).toBe("");
  });

  it.each([
    [["ech"], "unknown command 'ech'", "(Did you mean echo?)"],
    [["help", "ech"], "unknown command 'ech'", "(Did you mean echo?)"],
    [["echo", "--prefx", "x"], "unknown option '--prefx'", "(Did you mean --prefix?)"],
    // --raw takes no value: what follows it is a second address.
    [
      ["echo", "127.0.0.1:9000", "--raw", "7"],
      "unexpected argument '7' after --raw",
      "(--raw takes no value)",
    ],
  ])("reports echoplex %j as one line and a hint, exit 2", async (args, message, hint) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`echoplex: error: ${message} (ERR_USAGE)`, hint]);
  });

  it("prints a short usage for echoplex alone: the commands, one line each, and where help is", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    const out = lines(r.stderr);
    expect(out[0]).toBe("usage: echoplex COMMAND [ARGS] [OPTIONS]");
    expect(out.length).toBeLessThanOrEqual(COMMANDS.length + 5);
    for (const name of COMMANDS) {
      expect(out.filter((l) => new RegExp(`^  ${name} +\\S`).test(l))).toHaveLength(1);
    }
    expect(out.at(-1)).toMatch(/run `echoplex help COMMAND`/);
    for (const l of out) expect(l.length).toBeLessThanOrEqual(80);
    expect(r.stderr).not.toMatch(/Options:/);
    // Options but no command: the same.
    const dashes = await runCli(["--"]);
    expect(dashes.code).toBe(2);
    expect(dashes.stderr).toBe(r.stderr);
  });

  it("still prints help on stdout with exit 0", async () => {
    const top = await runCli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stderr).toBe("");
    expect(top.stdout).toMatch(/^Usage: echoplex /);
    for (const name of COMMANDS) expect(top.stdout).toMatch(new RegExp(`\\n  ${name} `));

    for (const args of [
      ["echo", "--help"],
      ["help", "echo"],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^Usage: echoplex echo /);
      expect(r.stdout).toContain("--prefix <text>");
    }
    const help = await runCli(["help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(top.stdout);
  });
});
