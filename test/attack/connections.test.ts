// Attacks on the connection table: a flood past --max-connections, and one address
// opening more than --max-conns-per-ip. The server must refuse the extras with an error
// line and keep answering a well-behaved client.
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { sleep } from "../helpers/net.js";
import { ControlClient, connectFrom, startTarget, until, verdict } from "./harness.js";

/** How many connections the flood opens at once (the test process holds one fd each). */
const FLOOD = Number(process.env.ECHOPLEX_ATTACK_CONNECTIONS ?? 3000);
const LIMIT = FLOOD - 500;

interface Peer {
  socket: Socket;
  data: string;
  closed: boolean;
}

function open(port: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const peer: Peer = { socket: connect({ port, host: "127.0.0.1" }), data: "", closed: false };
    peer.socket.setEncoding("utf8");
    peer.socket.on("data", (d: string) => {
      peer.data += d;
    });
    peer.socket.on("close", () => {
      peer.closed = true;
    });
    peer.socket.once("connect", () => resolve(peer));
    peer.socket.once("error", (err) => (peer.socket.connecting ? reject(err) : undefined));
  });
}

describe("attack: connection floods", () => {
  it(`${FLOOD} connections at once against --max-connections ${LIMIT}: the extras get the error line`, async () => {
    const cli = await startTarget(["--max-connections", String(LIMIT)]);
    const control = await ControlClient.start(cli.port);
    const started = Date.now();
    const peers = await Promise.all(Array.from({ length: FLOOD }, () => open(cli.port)));
    // Every refused peer gets the error line and a close; the others stay open and silent.
    const refusedLine = `ERROR: too many connections (limit ${LIMIT})\n`;
    const expectedRefused = FLOOD - (LIMIT - 1); // the control client holds one slot
    await until(() => peers.filter((p) => p.closed).length >= expectedRefused, 20_000);
    await sleep(200); // a refusal beyond the expected count would show up here
    const refused = peers.filter((p) => p.closed);
    const held = peers.filter((p) => !p.closed);
    expect(refused.length).toBe(expectedRefused);
    expect(refused.every((p) => p.data === refusedLine)).toBe(true);
    expect(held.every((p) => p.data === "")).toBe(true);
    // The held connections are real: each one is answered.
    const sample = held.filter((_, i) => i % 50 === 0);
    for (const p of sample) p.socket.write("still here\n");
    await until(() => sample.every((p) => p.data === "ECHO: still here\n"));
    expect(sample.every((p) => p.data === "ECHO: still here\n")).toBe(true);
    const took = Date.now() - started;
    await verdict(
      "connection flood",
      cli,
      control,
      256,
      `${held.length} held, ${refused.length} refused with the error line in ${took} ms`,
    );
    for (const p of peers) p.socket.destroy();
    expect(await cli.stop()).toBe(0);
  });

  it("--max-conns-per-ip: one address is capped, other addresses are served", async () => {
    const cli = await startTarget(["--max-conns-per-ip", "3"]);
    const control = await ControlClient.start(cli.port);
    const attacker = await Promise.all(Array.from({ length: 200 }, () => connectFrom(cli.port, "127.0.0.2")));
    await until(() => attacker.filter((c) => c.closed).length >= 197);
    await sleep(200);
    const refused = attacker.filter((c) => c.closed || c.received.length > 0);
    expect(refused.length).toBe(197);
    for (const c of refused) {
      await c.closedPromise;
      expect(c.received.toString()).toBe("ERROR: too many connections from 127.0.0.2 (limit 3)\n");
    }
    const kept = attacker.filter((c) => !c.closed);
    expect(kept.length).toBe(3);
    for (const c of kept) {
      c.send("mine");
      expect(await c.readLine()).toBe("ECHO: mine");
    }
    // A neighbour on another address is not affected by the attacker's cap.
    const neighbours = await Promise.all([1, 2, 3].map(() => connectFrom(cli.port, "127.0.0.3")));
    for (const c of neighbours) {
      c.send("neighbour");
      expect(await c.readLine()).toBe("ECHO: neighbour");
    }
    await verdict("per-IP cap", cli, control, 160, "197 of 200 from 127.0.0.2 refused, 127.0.0.3 served");
    for (const c of [...attacker, ...neighbours]) c.destroy();
    expect(await cli.stop()).toBe(0);
  });
});
