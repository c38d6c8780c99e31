// The sink's --status-interval line runs on the shared ticker: one line per period
// however many doors the sink listens on, and none once it has shut down.
import { afterEach, describe, expect, it } from "vitest";
import { activeTickTasks } from "../../../src/core/ticker.js";
import { createSinkServer, type SinkServer } from "../../../src/services/sink/index.js";
import { captureLogs } from "../../helpers/log-capture.js";
import { sleep } from "../../helpers/net.js";

let sink: SinkServer | undefined;
afterEach(async () => {
  await sink?.shutdown({ drainTimeoutMs: 500 });
  sink = undefined;
});

describe("sink status line", () => {
  it("is one task on the shared ticker for two doors, and stops at shutdown", async () => {
    const { logger, lines } = captureLogs();
    const statusLines = () => lines.filter((l) => l.msg === "status").length;
    const before = activeTickTasks();
    sink = createSinkServer({ statusIntervalMs: 100, logger });
    await sink.listen("127.0.0.1:0");
    await sink.listen("127.0.0.1:0");
    expect(activeTickTasks()).toBe(before + 2); // the engine's sweep and the status line
    await expect.poll(statusLines, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await sink.shutdown({ drainTimeoutMs: 500 });
    sink = undefined;
    expect(activeTickTasks()).toBe(before);
    const atShutdown = statusLines();
    expect(lines.at(-1)).toMatchObject({ msg: "final status", peers: 0 });
    await sleep(500); // five periods: a timer left behind would have logged again
    expect(statusLines()).toBe(atShutdown);
  });
});
