// The attack cases against `echoplex chat`: hostile payloads, a user who never reads
// the room (cut off at --max-pending), and a flooder (its own flood control).
import { describe, expect, it } from "vitest";
import { sleep } from "../helpers/net.js";
import { ControlClient, connectFrom, memoryOf, startService, until, verdict } from "./harness.js";
import { CHAT_DIALOGUE, hugeLine, type LineTarget, randomBinary } from "./services.js";

const BOUND_MIB = 150;
const chat = (args: string[] = []): LineTarget => ({
  name: "chat",
  start: () => startService("chat", ["--echo-self", ...args]),
  dialogue: CHAT_DIALOGUE,
});

describe("attack: chat", () => {
  it("a 100 MiB line", () => hugeLine(chat(), BOUND_MIB));

  it("100 MiB of random binary: the flood control cuts the sender off", async () => {
    const got = Buffer.concat(await randomBinary(chat(), BOUND_MIB)).toString("latin1");
    expect(got).toContain("! flooding: disconnecting");
  });

  it("a user who never reads a busy room is cut off at --max-pending; memory bounded", async () => {
    const cli = await startService("chat", ["--echo-self", "--flood-rate", "0", "--max-message", "8k"]);
    const control = await ControlClient.start(cli.port, { dialogue: CHAT_DIALOGUE });
    const reader = await connectFrom(cli.port); // stays in #lobby, never reads
    reader.socket.pause();
    reader.socket.removeAllListeners("data");
    const talker = await connectFrom(cli.port);
    talker.socket.removeAllListeners("data");
    talker.socket.on("data", () => {}); // reads (and drops) its own echoes
    const line = `${"t".repeat(8000)}\n`;
    const started = Date.now();
    let sent = 0;
    // A paused socket does not see the reset: the server's log says when it cut the reader off.
    const cutOff = () => /slow consumer/.test(cli.stdout() + cli.stderr());
    while (!cutOff() && Date.now() - started < 15_000) {
      talker.write(line.repeat(50));
      sent += 50;
      await sleep(20);
    }
    expect(cutOff()).toBe(true);
    reader.socket.resume();
    await until(() => reader.closed, 10_000);
    expect(reader.closed).toBe(true);
    await verdict(
      "chat: a user who never reads",
      cli,
      control,
      BOUND_MIB,
      `cut off after ${sent} messages of 8000 bytes to the room, ${Date.now() - started} ms; RSS then ${memoryOf(cli).rssMiB.toFixed(1)} MiB`,
    );
    talker.destroy();
    expect(await cli.stop()).toBe(0);
  });

  it("a flood: the user is warned, then disconnected; others are served", async () => {
    const cli = await startService("chat", ["--echo-self"]);
    const control = await ControlClient.start(cli.port, { dialogue: CHAT_DIALOGUE });
    const flooder = await connectFrom(cli.port);
    const started = Date.now();
    while (!flooder.closed && Date.now() - started < 15_000) {
      flooder.write("spam\n".repeat(200));
      await sleep(50);
    }
    const all = await flooder.readToEnd(10_000);
    expect(all).toContain("! flood control: slow down");
    expect(all.trimEnd().endsWith("! flooding: disconnecting")).toBe(true);
    await verdict(
      "chat: flood",
      cli,
      control,
      BOUND_MIB,
      `flooder disconnected after ${Date.now() - started} ms`,
    );
    expect(await cli.stop()).toBe(0);
  });
});
