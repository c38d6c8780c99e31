// Nick claims against a real redis-server: after an outage in which two nodes gave the
// same nick to two users, the claims made again settle on the same winner whichever
// node comes back first, and a node whose user is displaced is told on the nicks channel.
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { NickClaims } from "../../../src/services/chat/nick-claims.js";
import { CLAIM_NICK, nickValue, RedisKeys } from "../../../src/services/chat/redis-wire.js";
import { type RunningRedis, startRedis } from "../../helpers/redis.js";

const keys = new RedisKeys("test:");
let redis: RunningRedis;
let cmd: Redis;
let sub: Redis;
/** Messages on the nicks channel, in order. */
const told: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  cmd = new Redis(redis.url);
  sub = new Redis(redis.url);
  await sub.subscribe(keys.nickChannel);
  sub.on("message", (_channel: string, message: string) => told.push(message));
});
afterAll(async () => {
  cmd.disconnect();
  sub.disconnect();
  await redis.stop("SIGKILL");
});
beforeEach(async () => {
  await cmd.flushall();
  told.length = 0;
});

/** A node's claims, recording which of its users lost their nick. */
function node(): { claims: NickClaims; lost: string[] } {
  const lost: string[] = [];
  return { claims: new NickClaims(keys, 60_000, (id, nick) => lost.push(`${id} ${nick}`)), lost };
}

async function refresh(claims: NickClaims, recovering: boolean): Promise<void> {
  const p = cmd.pipeline();
  const settle = claims.refresh(p, recovering);
  settle((await p.exec()) as Array<[Error | null, unknown]>);
}

/** Until `check` holds (pub/sub delivery is asynchronous), bounded. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

async function laterMs(): Promise<void> {
  const t = Date.now();
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

describe("nick claims after a Redis outage", () => {
  it("the earlier claim wins when its node comes back first; the later one is refused at once", async () => {
    const [a, b] = [node(), node()];
    a.claims.claimLocally("a:1", "carol");
    await laterMs();
    b.claims.claimLocally("b:1", "Carol");
    await refresh(a.claims, true);
    await refresh(b.claims, true);
    expect(a.lost).toEqual([]);
    expect(b.lost).toEqual(["b:1 Carol"]);
    expect(b.claims.nick("b:1")).toBeUndefined();
    expect(await cmd.get(keys.nick("carol"))).toMatch(/^a:1\t\d+\ncarol$/);
    expect(told).toEqual([]);
  });

  it("the earlier claim wins when its node comes back last: it takes the nick over and tells the other node", async () => {
    const [a, b] = [node(), node()];
    a.claims.claimLocally("a:1", "carol");
    await laterMs();
    b.claims.claimLocally("b:1", "carol");
    await refresh(b.claims, true);
    expect(b.lost).toEqual([]);
    await refresh(a.claims, true);
    expect(await cmd.get(keys.nick("carol"))).toMatch(/^a:1\t\d+\ncarol$/);
    await until(() => told.length === 1);
    expect(told).toEqual(["b:1\ncarol"]);
    b.claims.taken(told[0]!);
    expect(b.lost).toEqual(["b:1 carol"]);
    // A message that does not match a current claim changes nothing.
    a.claims.taken("b:1\ncarol");
    a.claims.taken("a:1\nsomeone-else");
    a.claims.taken("garbage");
    expect(a.lost).toEqual([]);
    // Without the message, the next plain refresh finds out too.
    const c = node();
    c.claims.claimLocally("c:1", "dave");
    await cmd.set(keys.nick("dave"), nickValue("z:9", "dave", 1), "PX", 60_000);
    await refresh(c.claims, false);
    expect(c.lost).toEqual(["c:1 dave"]);
  });

  it("breaks a tie of claim times by the smaller user id, in either order", async () => {
    const since = "1700000000000";
    const claim = (id: string) =>
      cmd.eval(
        CLAIM_NICK,
        2,
        keys.nick("carol"),
        keys.nick("carol"),
        id,
        nickValue(id, "carol", Number(since)),
        "60000",
        since,
        keys.nickChannel,
        "carol",
      );
    expect(await claim("b:1")).toBe(1);
    expect(await claim("a:1")).toBe(2);
    expect(await claim("b:1")).toBe(0);
    await cmd.flushall();
    expect(await claim("a:1")).toBe(1);
    expect(await claim("b:1")).toBe(0);
  });

  it("a plain claim (a /nick while Redis is up) never takes a held nick, however old its own time", async () => {
    await cmd.set(keys.nick("carol"), nickValue("b:1", "carol", Date.now()), "PX", 60_000);
    const a = node();
    expect(await a.claims.claim(cmd, "a:1", "carol")).toBe(false);
    // A holder written without a claim time (an older version) counts as the earliest.
    await cmd.set(keys.nick("erin"), "b:2\nerin", "PX", 60_000);
    a.claims.claimLocally("a:2", "erin");
    await refresh(a.claims, true);
    expect(a.lost).toEqual(["a:2 erin"]);
  });

  it("releases on recovery the nicks given up during the outage, unless taken back", async () => {
    const a = node();
    expect(await a.claims.claim(cmd, "a:1", "alice")).toBe(true);
    expect(await a.claims.claim(cmd, "a:2", "amy")).toBe(true);
    // The outage: alice becomes carol, amy leaves and comes back as amy.
    a.claims.claimLocally("a:1", "carol");
    a.claims.releaseLater("a:2", a.claims.forget("a:2")!);
    a.claims.claimLocally("a:2", "amy");
    await refresh(a.claims, true);
    expect(await cmd.get(keys.nick("alice"))).toBeNull();
    expect(await cmd.get(keys.nick("carol"))).toMatch(/^a:1\t/);
    expect(await cmd.get(keys.nick("amy"))).toMatch(/^a:2\t/);
    expect(a.lost).toEqual([]);
  });
});
