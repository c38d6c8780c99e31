// Parses one (already sanitised) chat line into a command. Pure: no state, no I/O.

export type ChatCommand =
  | { readonly name: "say"; readonly text: string }
  | { readonly name: "nick"; readonly nick: string }
  | { readonly name: "join"; readonly room: string }
  | { readonly name: "rooms" }
  | { readonly name: "who" }
  | { readonly name: "msg"; readonly to: string; readonly text: string }
  | { readonly name: "me"; readonly text: string }
  | { readonly name: "quit"; readonly reason: string }
  | { readonly name: "help" }
  /** `count` undefined: everything the room keeps (`--history`). */
  | { readonly name: "history"; readonly count: number | undefined }
  | { readonly name: "replay"; readonly onJoin: boolean }
  | { readonly name: "pass"; readonly secret: string }
  | { readonly name: "error"; readonly message: string };

export const HELP_LINES: readonly string[] = [
  "* commands:",
  "*   /nick NAME        change your nick (1-32 letters, digits, _ or -)",
  "*   /join #room       move to another room (created on first join)",
  "*   /rooms            list rooms and how many are in each",
  "*   /who              list the people in your room and how long they have been idle",
  "*   /msg NAME text    send a private message",
  "*   /me action        say what you do: * nick action",
  "*   /history [N]      the last N messages of your room (default: all it keeps)",
  "*   /history off|on   stop (or restart) the history shown when you join a room",
  "*   /quit [reason]    leave",
  "*   /help             this list",
  "* anything else is said to your room; start a line with // to say something that begins with /",
];

export function parseCommand(line: string): ChatCommand {
  if (!line.startsWith("/")) return { name: "say", text: line };
  if (line.startsWith("//")) return { name: "say", text: line.slice(1) };
  const space = line.indexOf(" ");
  const word = (space < 0 ? line.slice(1) : line.slice(1, space)).toLowerCase();
  const rest = space < 0 ? "" : line.slice(space + 1).trim();
  switch (word) {
    case "nick":
      return rest === "" || rest.includes(" ")
        ? { name: "error", message: "usage: /nick NAME" }
        : { name: "nick", nick: rest };
    case "join":
      return rest === "" || rest.includes(" ")
        ? { name: "error", message: "usage: /join #room" }
        : { name: "join", room: rest };
    case "rooms":
    case "list":
      return { name: "rooms" };
    case "who":
    case "names":
      return { name: "who" };
    case "msg": {
      const gap = rest.indexOf(" ");
      const text = gap < 0 ? "" : rest.slice(gap + 1).trim();
      if (gap < 0 || text === "") return { name: "error", message: "usage: /msg NAME text" };
      return { name: "msg", to: rest.slice(0, gap), text };
    }
    case "me":
      return rest === "" ? { name: "error", message: "usage: /me action" } : { name: "me", text: rest };
    case "quit":
      return { name: "quit", reason: rest };
    case "help":
      return { name: "help" };
    case "history":
      return parseHistory(rest);
    case "pass":
      return { name: "pass", secret: rest };
    default:
      return { name: "error", message: `unknown command /${word} (try /help)` };
  }
}

const HISTORY_USAGE = "usage: /history [N], /history off, /history on";

function parseHistory(rest: string): ChatCommand {
  const arg = rest.toLowerCase();
  if (arg === "") return { name: "history", count: undefined };
  if (arg === "off" || arg === "on") return { name: "replay", onJoin: arg === "on" };
  // Digits only: "2.5", "-1", "0x10" and "1e3" are not what a user means by N.
  if (!/^[0-9]+$/.test(arg)) return { name: "error", message: HISTORY_USAGE };
  const count = Number(arg);
  if (count < 1) return { name: "error", message: HISTORY_USAGE };
  // Larger than any room keeps: the handler caps it at what is stored.
  return { name: "history", count: Math.min(count, Number.MAX_SAFE_INTEGER) };
}
