// Chat through Redis, 3 servers and 30 rooms: how many event messages each server
// receives from Redis with a channel per room (what the chat does) versus one
// channel for every event (the layout before it: every server received every
// server's events, i.e. the sum of what all of them published). A count, not a
// speed. Servers are `echoplex chat` child processes (built dist/), users raw
// sockets in this process; counts come from each server's admin /metrics.
//
//   npx tsx benchmarks/chat-redis-rooms.ts [--messages 100]
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { metric, scrape } from "../test/helpers/admin.js";
import { type RunningCli, startCli } from "../test/helpers/cli.js";
import { startRedis } from "../test/helpers/redis.js";

const { values } = parseArgs({ options: { messages: { type: "string", default: "100" } } });
const MESSAGES = Number(values.messages);
const ROOMS = 30;
const SERVERS = 3;

interface User {
  socket: Socket;
  lines: string[];
}

async function join(port: number, room: string): Promise<User> {
  const socket = connect({ port, host: "127.0.0.1" });
  const u: User = { socket, lines: [] };
  let rest = "";
  socket.setEncoding("utf8").on("data", (d: string) => {
    const parts = (rest + d).split("\n");
    rest = parts.pop()!;
    u.lines.push(...parts);
  });
  socket.write(`/join ${room}\n`);
  await until(() => u.lines.some((l) => l.endsWith(` joined ${room}`)), `join ${room}`);
  return u;
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function counts(servers: RunningCli[], name: string): Promise<number[]> {
  return Promise.all(
    servers.map(async (s) => metric(await scrape(s.ports.admin!), `echoplex_chat_redis_${name}`) ?? 0),
  );
}

/** `homes(room)`: the servers with members in the room (the first one's member talks). */
async function scenario(title: string, homes: (room: number) => number[]): Promise<void> {
  const redis = await startRedis();
  const servers: RunningCli[] = [];
  const users: User[] = [];
  try {
    for (let i = 0; i < SERVERS; i++) {
      servers.push(
        await startCli(
          [
            "chat",
            "127.0.0.1:0",
            "--redis",
            redis.url,
            "--flood-rate",
            "0",
            "--history",
            "0",
            "--admin",
            "0",
          ],
          { count: 2 },
        ),
      );
    }
    const talkers: User[] = [];
    const listeners: Array<{ user: User; room: string }> = [];
    for (let r = 0; r < ROOMS; r++) {
      const room = `#r${r}`;
      const [home, ...others] = homes(r);
      const talker = await join(servers[home!]!.ports.chat!, room);
      talkers.push(talker);
      users.push(talker);
      for (const o of others) {
        const l = await join(servers[o]!.ports.chat!, room);
        listeners.push({ user: l, room });
        users.push(l);
      }
    }
    const receivedBefore = await counts(servers, "events_received_total");
    const publishedBefore = await counts(servers, "events_published_total");
    for (let m = 0; m < MESSAGES; m++) for (const t of talkers) t.socket.write(`m${m}\n`);
    const last = `m${MESSAGES - 1}`;
    for (const { user } of listeners)
      await until(() => user.lines.some((l) => l.endsWith(`> ${last}`)), "delivery");
    // Every publish confirmed: the counters are final.
    const want = ROOMS * MESSAGES;
    let published = publishedBefore;
    for (let tries = 0; tries < 600; tries++) {
      published = await counts(servers, "events_published_total");
      const sent = published.reduce((a, b) => a + b, 0) - publishedBefore.reduce((a, b) => a + b, 0);
      if (sent >= want) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const received = (await counts(servers, "events_received_total")).map((n, i) => n - receivedBefore[i]!);
    const total = published.reduce((a, b, i) => a + b - publishedBefore[i]!, 0);
    const rooms = await counts(servers, "room_channels");
    console.log(`\n${title}: ${ROOMS} rooms, ${MESSAGES} messages each (${total} events published)`);
    console.log(
      "| server | rooms with members | received, a channel per room | received, one channel | ratio |",
    );
    console.log("| --- | --- | --- | --- | --- |");
    received.forEach((n, i) => {
      console.log(`| ${i} | ${rooms[i]} | ${n} | ${total} | ${(n / total).toFixed(2)} |`);
    });
  } finally {
    for (const u of users) u.socket.destroy();
    await Promise.all(servers.map((s) => s.stop("SIGKILL")));
    await redis.stop("SIGKILL");
  }
}

await scenario("each room on one server (10 rooms per server)", (r) => [Math.floor(r / 10)]);
await scenario("each room on two servers (20 rooms per server)", (r) => [r % SERVERS, (r + 1) % SERVERS]);
