// Strips what could act on another user's terminal from text a user sends: C0/C1
// control characters, ANSI/VT escape sequences (CSI, OSC, DCS, SOS, PM, APC, and
// two-character escapes), and Unicode bidirectional overrides. Tabs become spaces.

const ESC = 0x1b;
const BEL = 0x07;

/** Sequences that run until a String Terminator (ESC \ or, for OSC, BEL too). */
function isStringIntroducer(ch: number): boolean {
  // After ESC: P (DCS), X (SOS), ] (OSC), ^ (PM), _ (APC).
  return ch === 0x50 || ch === 0x58 || ch === 0x5d || ch === 0x5e || ch === 0x5f;
}

/** C1 string introducers as single code points: DCS, SOS, OSC, PM, APC. */
function isC1StringIntroducer(cp: number): boolean {
  return cp === 0x90 || cp === 0x98 || cp === 0x9d || cp === 0x9e || cp === 0x9f;
}

function isBidiControl(cp: number): boolean {
  // LRE..RLO, LRI..PDI, LRM, RLM, ALM: they reorder how the rest of the line is shown.
  return (
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x61c
  );
}

/** Skips a CSI body (parameters and intermediates) and its final byte; returns the next index. */
function skipCsi(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i++);
    if (c >= 0x40 && c <= 0x7e) return i; // final byte
    if (c < 0x20 || c > 0x3f) {
      // Not a parameter or intermediate byte: a malformed sequence ends here.
      if (c >= 0x20 && c <= 0x2f) continue;
      return i - 1;
    }
  }
  return i;
}

/** Skips a control string up to and including its terminator (ST or BEL); an unterminated one runs to the end. */
function skipControlString(text: string, i: number): number {
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === BEL || c === 0x9c) return i + 1;
    if (c === ESC && text.charCodeAt(i + 1) === 0x5c) return i + 2;
    i++;
  }
  return i;
}

function isClean(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x61c && isBidiControl(c))) return false;
  }
  return true;
}

/** Removes control characters and escape sequences; returns the input itself when it is clean. */
export function sanitize(text: string): string {
  if (isClean(text)) return text;
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === ESC) {
      const next = text.charCodeAt(i + 1);
      if (next === 0x5b) i = skipCsi(text, i + 2);
      else if (isStringIntroducer(next)) i = skipControlString(text, i + 2);
      else if (Number.isNaN(next)) i += 1;
      else {
        // nF escapes: intermediates 0x20-0x2f, then one final character.
        i += 1;
        while (i < text.length && text.charCodeAt(i) >= 0x20 && text.charCodeAt(i) <= 0x2f) i++;
        i += 1;
      }
      continue;
    }
    if (c === 0x9b) {
      i = skipCsi(text, i + 1);
      continue;
    }
    if (isC1StringIntroducer(c)) {
      i = skipControlString(text, i + 1);
      continue;
    }
    if (c === 0x09) out += " ";
    else if (!(c < 0x20 || (c >= 0x7f && c <= 0x9f) || isBidiControl(c))) out += text[i];
    i++;
  }
  return out;
}
