// An interactive `nc` user (the real netcat) for chat tests: type lines, wait for output.
import { type ChildProcess, spawn } from "node:child_process";

export interface NcUser {
  type(line: string): void;
  output(): string;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

/** Starts `nc 127.0.0.1 PORT`; the process is pushed to `procs` for the test to kill. */
export function ncUser(port: number, procs: ChildProcess[], waitMs = 10_000): NcUser {
  const proc = spawn("nc", ["127.0.0.1", String(port)], { stdio: ["pipe", "pipe", "inherit"] });
  procs.push(proc);
  let out = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  return {
    type: (line: string) => proc.stdin!.write(`${line}\n`),
    output: () => out,
    async waitFor(text: string, timeoutMs = waitMs) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (Date.now() > deadline)
          throw new Error(`nc did not print ${JSON.stringify(text)}; got ${JSON.stringify(out)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
