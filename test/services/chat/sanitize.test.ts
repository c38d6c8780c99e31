import { describe, expect, it } from "vitest";
import { sanitize } from "../../../src/services/chat/sanitize.js";

describe("sanitize", () => {
  it("returns clean text unchanged (the same string)", () => {
    const text = "hello, wörld ✓ [brackets] #room";
    expect(sanitize(text)).toBe(text);
  });

  it.each([
    ["CSI: clear screen, cursor home, colours", "\x1b[2J\x1b[Hred \x1b[1;31mtext\x1b[0m", "red text"],
    ["CSI with private parameters and intermediates", "a\x1b[?25lb\x1b[1 qc", "abc"],
    ["OSC ended by BEL (window title)", "\x1b]0;pwned\x07ok", "ok"],
    ["OSC ended by ST (hyperlink)", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"],
    ["DCS, SOS, PM, APC", "\x1bPq#0;2;0;0;0\x1b\\a\x1bXsos\x1b\\b\x1b^pm\x1b\\c\x1b_apc\x1b\\d", "abcd"],
    ["two-character escapes (RIS, DECSC, charset)", "\x1bcx\x1b7y\x1b(0z", "xyz"],
    ["C1 CSI and OSC as code points", "a\u009b2Jb\u009d0;t\u009cc", "abc"],
    ["C0 controls and DEL", "a\x00b\x07c\x08d\re\x7ff", "abcdef"],
    ["tabs become spaces", "a\tb", "a b"],
    ["bidi overrides", "abc\u202etxt.exe\u202c", "abctxt.exe"],
    ["an unterminated OSC swallows the rest", "ok\x1b]0;no end", "ok"],
    ["a lone ESC at the end", "ok\x1b", "ok"],
  ])("strips %s", (_what, input, output) => {
    expect(sanitize(input)).toBe(output);
  });
});
