import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { bench } from "./helpers.js";
import { chatServer, lineServer, listen } from "./servers.js";

describe("bench chat", () => {
  it("counts every fan-out delivery to every receiver, through nick prefixes", async () => {
    const srv = await listen(chatServer());
    try {
      const { code, result } = await bench([
        "chat",
        `127.0.0.1:${srv.port}`,
        "--conns",
        "20",
        "--senders",
        "2",
        "--hello",
        "/nick u%d",
        "--pipeline",
        "4",
        "--requests",
        "400",
      ]);
      expect(code).toBe(0);
      expect(result.sent).toBe(400);
      expect(result.chat).toMatchObject({
        receivers: 20,
        senders: 2,
        receiversSynced: 20,
        expectedDeliveries: 8000,
        delivered: 8000,
        missing: 0,
        duplicateOrReordered: 0,
      });
      expect(result.latencyUs.count).toBe(8000);
      expect(result.msgsPerSec).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  });

  it("reports deliveries a server drops as missing", async () => {
    // Receiver 3 never gets marked lines whose sequence number ends in 7.
    const srv = await listen(chatServer((to, line) => !(to === 3 && /^BXM \S+ \d+ \d*7 /.test(line))));
    try {
      const { code, result } = await bench([
        "chat",
        `127.0.0.1:${srv.port}`,
        "--conns",
        "5",
        "--rate",
        "2000",
        "--requests",
        "100",
        "--timeout",
        "1s",
      ]);
      expect(code).toBe(1);
      expect(result.chat?.expectedDeliveries).toBe(500);
      expect(result.chat?.missing).toBe(10);
      expect(result.lost).toBe(10);
    } finally {
      await srv.close();
    }
  });
});

describe("bench chat against a server that does not broadcast", () => {
  it("says so in one line instead of timing nothing", async () => {
    const srv = await listen(lineServer((socket, line) => socket.write(`ECHO: ${line}\n`)));
    try {
      const out = await runCli(
        ["bench", "chat", `127.0.0.1:${srv.port}`, "--conns", "3", "--requests", "10"],
        {
          timeoutMs: 30_000,
        },
      );
      expect(out.code).toBe(1);
      expect(out.stderr).toMatch(
        /no receiver got the barrier line .* a broadcast server\? \(ERR_BAD_REPLY\)/,
      );
    } finally {
      await srv.close();
    }
  });
});
