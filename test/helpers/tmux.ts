// A real terminal for the interactive client: tmux gives it a pseudo-terminal; keys
// are sent with send-keys and the screen is read with capture-pane. One tmux server
// per terminal (its own socket name), apart from anyone else's.
import { execFileSync } from "node:child_process";

export interface TmuxTerminal {
  tmux(...args: string[]): string;
  /** The screen's lines, trailing spaces and the blank lines after the last text dropped. */
  screen(): string[];
  /** Polls the screen until `predicate` holds (20 s: a node process starts slowly on a loaded machine). */
  waitForScreen(predicate: (lines: string[]) => boolean, what: string, timeoutMs?: number): Promise<string[]>;
  /** Waits for the client to exit and returns its exit status, which the wrapper shell prints. */
  exitStatus(): Promise<string>;
  /** Runs `command` in a new session; `client exited: N` is printed when it exits. */
  start(command: string, width?: number): void;
  kill(): void;
}

export function tmuxTerminal(socket: string, session: string): TmuxTerminal {
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  const screen = () =>
    tmux("capture-pane", "-p", "-t", session)
      .split("\n")
      .map((l) => l.trimEnd())
      .filter((l, i, all) => l !== "" || all.slice(i).some((x) => x.trim() !== ""));
  const waitForScreen = async (predicate: (lines: string[]) => boolean, what: string, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = screen();
      if (predicate(lines)) return lines;
      if (Date.now() > deadline) throw new Error(`screen never showed ${what}:\n${lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    tmux,
    screen,
    waitForScreen,
    async exitStatus() {
      const exited = /client exited: (\d+)$/;
      const lines = await waitForScreen((l) => l.some((x) => exited.test(x)), "the client exiting");
      return exited.exec(lines.find((x) => exited.test(x))!)![1]!;
    },
    start(command, width = 100) {
      const wrapped = `${command}; echo "client exited: $?"; sleep 60`;
      tmux("new-session", "-d", "-s", session, "-x", String(width), "-y", "20", `sh -c '${wrapped}'`);
    },
    kill() {
      try {
        tmux("kill-server");
      } catch {
        // already gone
      }
    },
  };
}

/** A screen predicate: the last lines are exactly `want`. */
export function tail(want: string[]): (lines: string[]) => boolean {
  return (lines) => JSON.stringify(lines.slice(-want.length)) === JSON.stringify(want);
}
