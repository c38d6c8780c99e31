// One IRC line into its command and parameters (RFC 1459 §2.3.1, IRCv3 message tags
// skipped): pure, no state. The client's own prefix, if it sends one, is ignored.

export interface IrcMessage {
  /** Upper-cased: `PRIVMSG`. */
  readonly command: string;
  /** Middle parameters, then the trailing one (after ` :`) if any. */
  readonly params: readonly string[];
}

/** Parses one line (without its line ending); undefined for a line with no command. */
export function parseIrcLine(line: string): IrcMessage | undefined {
  let rest = line;
  if (rest.startsWith("@")) rest = afterWord(rest);
  if (rest.startsWith(":")) rest = afterWord(rest);
  const params: string[] = [];
  let command = "";
  // At most 15 parameters (RFC 2812): the loop is bounded by the line anyway.
  while (rest !== "" && params.length < 16) {
    if (rest.startsWith(":") && command !== "") {
      params.push(rest.slice(1));
      break;
    }
    const space = rest.indexOf(" ");
    const word = space < 0 ? rest : rest.slice(0, space);
    if (command === "") command = word.toUpperCase();
    else params.push(word);
    rest = space < 0 ? "" : rest.slice(space + 1).replace(/^ +/, "");
  }
  return command === "" ? undefined : { command, params };
}

function afterWord(text: string): string {
  const space = text.indexOf(" ");
  return space < 0 ? "" : text.slice(space + 1).replace(/^ +/, "");
}
