// The transport seam: two chat servers (as two processes would) share one transport
// that answers every call asynchronously, in order, as a Redis connection would.
// Users on either server see one chat, and each user's lines keep their order.
import { afterEach, describe, expect, it } from "vitest";
import { type ChatServer, createChatServer, MemoryTransport } from "../../../src/index.js";
import type { ChatTransport } from "../../../src/services/chat/transport.js";
import { connectClient } from "../../helpers/net.js";
import type { ChatUser } from "./chat-user.js";
import { joinChat } from "./chat-user.js";

/** Wraps a transport so that every call answers later, in call order (like one pipelined connection). */
function asyncTransport(inner: MemoryTransport): ChatTransport {
  const later = <T>(fn: () => T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(fn()), 3));
  return {
    subscribe: (sink) => later(() => inner.subscribe(sink)),
    claimNick: (id, nick) => later(() => inner.claimNick(id, nick)),
    releaseNick: (id) => later(() => inner.releaseNick(id)),
    findNick: (nick) => later(() => inner.findNick(nick)),
    nextGuestNumber: () => later(() => inner.nextGuestNumber()),
    enterRoom: (room, user) => later(() => inner.enterRoom(room, user)),
    leaveRoom: (room, id) => later(() => inner.leaveRoom(room, id)),
    rooms: () => later(() => inner.rooms()),
    who: (room) => later(() => inner.who(room)),
    history: (room) => later(() => inner.history(room)),
    publish: (event) => later(() => inner.publish(event)),
    close: () => undefined, // shared: the test closes the inner transport
  };
}

const servers: ChatServer[] = [];
const users: ChatUser[] = [];
afterEach(async () => {
  for (const u of users.splice(0)) u.close();
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 1000 })));
});

async function twoServers(): Promise<[number, number]> {
  const shared = new MemoryTransport({ historySize: 5 });
  const ports: number[] = [];
  for (let i = 0; i < 2; i++) {
    const server = createChatServer({ transport: asyncTransport(shared), flood: { rate: 0 } });
    servers.push(server);
    ports.push((await server.listen("127.0.0.1:0")).port);
  }
  return [ports[0]!, ports[1]!];
}

async function user(port: number, nick: string): Promise<ChatUser> {
  const u = await joinChat(port, nick);
  users.push(u);
  return u;
}

describe("chat over a shared asynchronous transport", () => {
  it("joins, renames, messages, private messages and listings span both servers", async () => {
    const [p1, p2] = await twoServers();
    const alice = await user(p1, "alice");
    const bob = await user(p2, "bob");
    await alice.until("* guest-2 is now known as bob"); // guest numbers are shared too

    alice.say("hello from server 1");
    expect(await bob.until(/^</)).toEqual({ before: [], line: "<alice> hello from server 1" });
    bob.say("/msg alice hi from server 2");
    expect((await alice.until(/^\*bob\*/)).line).toBe("*bob* hi from server 2");
    // A nick held on the other server is taken here too.
    const carol = await user(p1, "carol");
    carol.say("/nick BOB");
    expect((await carol.until(/^! /)).line).toBe("! nick BOB is already taken");
    carol.say("/who");
    expect((await carol.until(/^\* 3 in/)).line).toMatch(
      /^\* 3 in #lobby: alice \(idle \d+s\), bob \(idle \d+s\), carol/,
    );
    // History written through one server is replayed by the other.
    const late = await connectClient(p2);
    const lines = await late.readLines(4);
    late.destroy();
    expect(lines.slice(1)).toEqual([
      "* last 1 message in #lobby:",
      "<alice> hello from server 1",
      "* end of history",
    ]);
  });

  it("keeps each user's lines in order while commands wait for the transport", async () => {
    const [p1, p2] = await twoServers();
    const watcher = await user(p2, "watcher");
    const fast = await user(p1, "fast");
    await watcher.until("* guest-2 is now known as fast");
    // Sent in one packet: each line's transport calls must finish before the next line runs.
    fast.client.write("/nick quick\nfirst\n/join #b\nsecond\n/join #lobby\nthird\n");
    const seen = await watcher.until("<quick> third");
    expect(seen.before).toEqual([
      "* fast is now known as quick",
      "<quick> first",
      "* quick left #lobby (moved to #b)",
      "* quick joined #lobby",
    ]);
  });
});
