// `--proxy-protocol` end to end: the real CLI behind a real HAProxy (send-proxy / send-proxy-v2),
// and direct clients that send a header by hand, a bad one, or none.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeProxyHeaderV1 } from "../../src/core/proxy-protocol.js";
import { jsonLogs, type RunningCli, startCli } from "../helpers/cli.js";
import { type RunningHaproxy, startHaproxy } from "../helpers/haproxy.js";
import { connectClient, sleep, TestClient } from "../helpers/net.js";

/** Connects from a chosen loopback source address (127.0.0.0/8 is all ours on Linux). */
async function connectFrom(port: number, localAddress: string): Promise<TestClient> {
  const socket = connect({ port, host: "127.0.0.1", localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return new TestClient(socket);
}

describe("echoplex echo --proxy-protocol behind HAProxy", () => {
  let echo: RunningCli;
  let haproxy: RunningHaproxy;
  let v1Port: number;
  let v2Port: number;

  beforeAll(async () => {
    echo = await startCli([
      "echo",
      "127.0.0.1:0",
      "--proxy-protocol",
      "--max-conns-per-ip",
      "1",
      "--log-format",
      "json",
    ]);
    haproxy = await startHaproxy(echo.port, ["send-proxy", "send-proxy-v2"]);
    [v1Port, v2Port] = haproxy.ports as [number, number];
    await sleep(200); // the probes' disconnects reach echoplex
  });

  afterAll(async () => {
    haproxy?.stop();
    await echo?.stop();
  });

  it("sees the real client address through v1 and v2, and logs it with the proxy's address", async () => {
    for (const [port, from] of [
      [v1Port, "127.0.0.2"],
      [v2Port, "127.0.0.3"],
    ] as const) {
      const client = await connectFrom(port, from);
      client.send(`hello from ${from}`);
      expect(await client.readLine()).toBe(`ECHO: hello from ${from}`);
      client.end();
      await client.readToEnd();
    }
    // The log lines reach this process through a pipe, maybe after the replies.
    await expect
      .poll(
        () =>
          jsonLogs(echo)
            .filter((l) => l.msg === "connect" && l.remote !== "127.0.0.1")
            .map((l) => [l.remote, l.via]),
        { timeout: 10_000 },
      )
      .toEqual(
        expect.arrayContaining([
          ["127.0.0.2", "127.0.0.1"],
          ["127.0.0.3", "127.0.0.1"],
        ]),
      );
  });

  it("applies --max-conns-per-ip to the real client address, not to the proxy's", async () => {
    const first = await connectFrom(v2Port, "127.0.0.4");
    first.send("one");
    expect(await first.readLine()).toBe("ECHO: one");
    // Same client again: over its limit of 1, although every connection comes from HAProxy.
    const second = await connectFrom(v2Port, "127.0.0.4");
    expect(await second.readToEnd()).toBe("ERROR: too many connections from 127.0.0.4 (limit 1)\n");
    // Another client through the same proxy is served.
    const other = await connectFrom(v1Port, "127.0.0.5");
    other.send("two");
    expect(await other.readLine()).toBe("ECHO: two");
    first.destroy();
    other.destroy();
  });
});

describe("echoplex echo --proxy-protocol, direct clients", () => {
  let echo: RunningCli;
  beforeAll(async () => {
    echo = await startCli(["echo", "127.0.0.1:0", "--proxy-protocol", "--proxy-timeout", "500ms"]);
  });
  afterAll(async () => {
    expect(await echo.stop()).toBe(0);
  });

  it("accepts a v1 header with data in the same packet", async () => {
    const client = await connectClient(echo.port);
    const header = encodeProxyHeaderV1(
      { address: "192.0.2.1", port: 1234 },
      { address: "127.0.0.1", port: 1 },
    );
    client.write(Buffer.concat([header, Buffer.from("a\nb\n")]));
    expect(await client.readLines(2)).toEqual(["ECHO: a", "ECHO: b"]);
    client.destroy();
  });

  it("refuses a connection that does not start with a header, with an error line and a log line", async () => {
    const client = await connectClient(echo.port);
    client.send("hello");
    expect(await client.readToEnd()).toBe(
      "ERROR: bad PROXY protocol header: the connection did not start with a PROXY v1 or v2 header\n",
    );
    await expect.poll(() => echo.stderr(), { timeout: 10_000 }).toMatch(/proxy_protocol/);
  });

  it("refuses a connection that sends no header in time", async () => {
    const client = await connectClient(echo.port);
    const started = Date.now();
    expect(await client.readToEnd(15_000)).toBe("ERROR: no PROXY protocol header within 500 ms, closing\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("refuses a header cut short by the end of the stream", async () => {
    const client = await connectClient(echo.port);
    client.write("PROXY TCP4 1.2.3.4");
    client.end();
    expect(await client.readToEnd()).toBe("ERROR: connection ended before a complete PROXY header\n");
  });
});

describe("echoplex echo --proxy-protocol: connections still sending their header", () => {
  it("count against --max-connections, and a shutdown closes them at once", async () => {
    // A header timeout far above the bound below, so the bound can be generous on a loaded machine.
    const echo = await startCli([
      "echo",
      "127.0.0.1:0",
      "--proxy-protocol",
      "--max-connections",
      "2",
      "--proxy-timeout",
      "30s",
    ]);
    const waiting = [await connectClient(echo.port), await connectClient(echo.port)];
    await sleep(100);
    const third = await connectClient(echo.port);
    expect(await third.readToEnd()).toBe("ERROR: too many connections (limit 2)\n");
    const signalled = Date.now();
    expect(await echo.stop()).toBe(0);
    for (const c of waiting) await c.readToEnd(15_000);
    // Well before the 30 s header timeout: shutdown does not wait for headers.
    expect(Date.now() - signalled).toBeLessThan(15_000);
  });
});
