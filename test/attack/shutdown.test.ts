// SIGTERM under load: every request that reached the server before the signal is
// answered, each peer gets the shutdown notice, and the process exits 0.
import { describe, expect, it } from "vitest";
import { sleep } from "../helpers/net.js";
import { connectFrom, memoryOf, startTarget } from "./harness.js";

describe("attack: SIGTERM under load", () => {
  it("answers every request sent before the signal, then the notice, then exits 0", async () => {
    const cli = await startTarget();
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectFrom(cli.port)));
    let stopped = false;
    /** Per client: requests whose bytes the kernel had taken before the signal was sent. */
    const acked = clients.map(() => 0);
    const sent = clients.map(() => 0);
    const loops = clients.map(async (c, i) => {
      while (!stopped) {
        let burst = "";
        const first = sent[i]!;
        for (let k = 0; k < 50; k++) burst += `c${i}-${first + k}\n`;
        sent[i] = first + 50;
        await new Promise<void>((resolve) =>
          c.socket.write(burst, () => {
            if (!stopped) acked[i] = first + 50;
            resolve();
          }),
        );
        await sleep(20);
      }
    });
    await sleep(1000);
    stopped = true;
    const peak = memoryOf(cli).peakMiB;
    const signalled = Date.now();
    const exit = cli.stop("SIGTERM");
    await Promise.all(loops);
    const replies = await Promise.all(clients.map((c) => c.readToEnd(15_000)));
    let answered = 0;
    let acknowledged = 0;
    replies.forEach((text, i) => {
      const lines = text.split("\n");
      expect(lines.pop()).toBe(""); // ends in a newline
      expect(lines.pop()).toBe("NOTICE: server shutting down");
      // Replies are in order, with no gaps: exactly requests 0 .. n-1.
      for (const [n, line] of lines.entries()) expect(line).toBe(`ECHO: c${i}-${n}`);
      expect(lines.length).toBeGreaterThanOrEqual(acked[i]!);
      answered += lines.length;
      acknowledged += acked[i]!;
    });
    expect(await exit).toBe(0);
    console.log(
      `[attack] SIGTERM under load: server peak RSS ${peak.toFixed(1)} MiB; 20 clients, ` +
        `${acknowledged} requests sent before the signal, ${answered} answered (all of them), ` +
        `notice to every client, exit 0 after ${Date.now() - signalled} ms`,
    );
  });
});
