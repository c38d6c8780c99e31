// /readyz flips to 503 while the server drains (a peer that never reads keeps it
// draining until it is force-closed), while /healthz stays 200.
import { once } from "node:events";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { adminGet, eventually, metric, scrape } from "../helpers/admin.js";
import { type RunningCli, startCli } from "../helpers/cli.js";

let cli: RunningCli | undefined;

afterEach(async () => {
  await cli?.stop("SIGKILL");
  cli = undefined;
});

describe("echoplex echo --admin: /readyz", () => {
  it("is 503 during shutdown and the endpoint stays up until the drain ends", async () => {
    cli = await startCli(
      ["echo", "127.0.0.1:0", "--admin", "0", "--drain-timeout", "4s", "--log-level", "warn"],
      { count: 2 },
    );
    const admin = cli.ports.admin!;
    const ready = await adminGet(admin, "/readyz");
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, draining: [] });

    // A peer that sends 16 MiB and never reads: its replies back up and the server
    // stops reading from it, so its connection cannot drain.
    const socket = connect({ port: cli.ports.echo!, host: "127.0.0.1" });
    socket.on("error", () => {});
    await once(socket, "connect");
    socket.pause();
    socket.write(
      Buffer.alloc(16 * 1024 * 1024, "0123456789abcdef0123456789abcdef0123456789abcdef012345678901234\n"),
    );
    try {
      await eventually(
        async () =>
          (metric(await scrape(admin), "echoplex_backpressure_pauses_total", { service: "echo" }) ?? 0) >= 1,
        "the server to stop reading from the peer",
        15_000,
      );
      const signalledAt = Date.now();
      cli.proc.kill("SIGTERM");
      await eventually(
        async () => (await adminGet(admin, "/readyz")).status === 503,
        "/readyz to be 503",
        3_000,
      );
      const draining = await adminGet(admin, "/readyz");
      expect(JSON.parse(draining.body)).toEqual({ ready: false, draining: ["echo"] });
      expect((await adminGet(admin, "/healthz")).status).toBe(200);
      expect(metric(await scrape(admin), "echoplex_draining", { service: "echo" })).toBe(1);
      // The stuck peer is force-closed (after the 2 s linger of its half-close, within
      // the drain timeout); then the process exits cleanly.
      expect(await cli.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1_000);
    } finally {
      socket.destroy();
    }
  });
});
