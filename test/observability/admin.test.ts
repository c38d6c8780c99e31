// The admin endpoint as a library: several services in one endpoint (as `serve`
// runs them), service-contributed metrics and peer details, and the latency of
// replies that a promise produces later.
import { afterEach, describe, expect, it } from "vitest";
import { lines } from "../../src/codecs/lines.js";
import type { Connection } from "../../src/core/connection.js";
import { createServer, type EchoplexServer } from "../../src/core/server.js";
import { counter, gauge } from "../../src/core/stats.js";
import { type AdminServer, startAdmin } from "../../src/observability/admin.js";
import type { PeersSnapshot, StatsSnapshot } from "../../src/observability/snapshot.js";
import { createEchoServer } from "../../src/services/echo/index.js";
import { adminJson, eventually, metric, scrape } from "../helpers/admin.js";
import { connectClient, sleep, type TestClient } from "../helpers/net.js";

const servers: EchoplexServer<unknown>[] = [];
const clients: TestClient[] = [];
let admin: AdminServer | undefined;

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await admin?.close();
  admin = undefined;
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 0 })));
});

/** A toy service: "NICK x" names the peer; "SLOW" answers after 40 ms; it counts words per nick. */
function nickService(): EchoplexServer<{ nick: string }> {
  const words = new Map<string, number>();
  let users = 0;
  return createServer<{ nick: string }>({
    service: "nicks",
    framing: lines(),
    handler: {
      createState: () => ({ nick: "anonymous" }),
      onConnect: () => {
        users++;
      },
      onClose: () => {
        users--;
      },
      async onMessage(conn: Connection<{ nick: string }>, payload) {
        const text = payload.toString();
        if (text.startsWith("NICK ")) {
          conn.state.nick = text.slice(5);
          conn.send(`OK ${conn.state.nick}`);
        } else if (text === "SLOW") {
          await sleep(40);
          conn.send("SLOW DONE");
        } else {
          words.set(conn.state.nick, (words.get(conn.state.nick) ?? 0) + 1);
          conn.send("OK");
        }
      },
      describe: (conn) => ({ nick: conn.state.nick }),
      metrics: [
        gauge("nicks_users", "Peers of the nick service", () => users),
        counter(
          "nicks_words_total",
          "Words said, by nick",
          () => [...words].map(([nick, value]) => ({ labels: { nick }, value })),
          ["nick"],
        ),
        gauge("nicks_broken", "A metric whose reader fails", () => {
          throw new Error("broken reader");
        }),
      ],
    },
  });
}

describe("startAdmin", () => {
  it("serves several services with their own metrics and peer details", async () => {
    const nicks = nickService();
    const echo = createEchoServer();
    servers.push(nicks as EchoplexServer<unknown>, echo as EchoplexServer<unknown>);
    const nicksPort = (await nicks.listen("127.0.0.1:0")).port;
    const echoPort = (await echo.listen("127.0.0.1:0")).port;
    admin = await startAdmin([nicks, echo], { address: 0, latencySampleEvery: 1, processMetrics: false });
    expect(admin.address.host).toBe("127.0.0.1"); // a bare port binds loopback
    const port = admin.address.port;

    const ann = await connectClient(nicksPort);
    const bob = await connectClient(nicksPort);
    const e = await connectClient(echoPort);
    clients.push(ann, bob, e);
    ann.send("NICK ann");
    bob.send("NICK bob");
    expect(await ann.readLine()).toBe("OK ann");
    expect(await bob.readLine()).toBe("OK bob");
    for (const w of ["a", "b", "c"]) ann.send(w);
    bob.send("d");
    expect(await ann.readLines(3)).toEqual(["OK", "OK", "OK"]);
    expect(await bob.readLine()).toBe("OK");
    e.send("x");
    expect(await e.readLine()).toBe("ECHO: x");
    ann.send("SLOW");
    expect(await ann.readLine()).toBe("SLOW DONE");

    const s = await scrape(port);
    expect(metric(s, "echoplex_nicks_users", { service: "nicks" })).toBe(2);
    expect(metric(s, "echoplex_nicks_words_total", { service: "nicks", nick: "ann" })).toBe(3);
    expect(metric(s, "echoplex_nicks_words_total", { service: "nicks", nick: "bob" })).toBe(1);
    expect(metric(s, "echoplex_nicks_broken", { service: "nicks" })).toBeUndefined();
    expect(metric(s, "echoplex_connections_active", { service: "nicks" })).toBe(2);
    expect(metric(s, "echoplex_connections_active", { service: "echo" })).toBe(1);
    expect(metric(s, "echoplex_messages_received_total", { service: "nicks" })).toBe(7);
    expect(metric(s, "echoplex_messages_received_total", { service: "echo" })).toBe(1);
    expect(metric(s, "process_resident_memory_bytes")).toBeUndefined();
    // Every read was timed; the SLOW reply (a promise) took at least 40 ms.
    expect(metric(s, "echoplex_reply_latency_seconds_count", { service: "echo" })).toBe(1);
    const slowBuckets = metric(s, "echoplex_reply_latency_seconds_bucket", {
      service: "nicks",
      le: "0.025",
    })!;
    const allNicks = metric(s, "echoplex_reply_latency_seconds_count", { service: "nicks" })!;
    expect(allNicks).toBeGreaterThanOrEqual(4);
    expect(allNicks - slowBuckets).toBeGreaterThanOrEqual(1); // the SLOW one is above 25 ms
    expect(metric(s, "echoplex_reply_latency_seconds_sum", { service: "nicks" })).toBeGreaterThanOrEqual(
      0.04,
    );

    const peers = await adminJson<PeersSnapshot>(port, "/api/peers");
    expect(peers.total).toBe(3);
    const nicksSeen = peers.peers.filter((p) => p.service === "nicks").map((p) => p.details?.nick);
    expect(nicksSeen.sort()).toEqual(["ann", "bob"]);
    expect(peers.peers.find((p) => p.service === "echo")?.details).toBeUndefined();

    const stats = await adminJson<StatsSnapshot>(port, "/api/stats");
    expect(stats.services.map((x) => x.service)).toEqual(["nicks", "echo"]);
    expect(stats.services[0]!.extra).toMatchObject({
      nicks_users: 2,
      'nicks_words_total{nick="ann"}': 3,
    });
    expect(stats.totals.connectionsActive).toBe(3);

    bob.destroy();
    await eventually(
      async () => metric(await scrape(port), "echoplex_nicks_users", { service: "nicks" }) === 1,
      "bob to leave",
    );
  });
});
