// Chat over a Unix socket and WebSocket at once: one room, one line per WebSocket
// message (no newline inside), and a UDP address refused at listen().
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type ChatServer, createChatServer } from "../../../src/services/chat/index.js";
import { TestClient } from "../../helpers/net.js";
import { until } from "../../helpers/until.js";

const servers: ChatServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.shutdown({ drainTimeoutMs: 1000 })));
});

describe("chat on several doors", () => {
  it("puts a Unix-socket user and a WebSocket user in one room, a line per WebSocket message", async () => {
    const path = `/tmp/echoplex-chat-doors-${process.pid}.sock`;
    const server = createChatServer();
    servers.push(server);
    await server.listen(`unix:${path}`, "ws://127.0.0.1:0/chat");
    const ws = server.server.addresses[1]!;
    const socket = connect({ path });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const local = new TestClient(socket);
    await local.waitFor((d) => d.toString().includes("* guest-1 joined #lobby\n"));

    const browser = new WebSocket(`ws://127.0.0.1:${ws.port}/chat`);
    const got: string[] = [];
    browser.on("message", (m) => got.push(String(m)));
    await new Promise<void>((resolve) => browser.once("open", () => resolve()));
    browser.send("/nick web");
    await until(() => got.includes("* guest-2 is now known as web"), "the rename");
    browser.send("hello from the web");
    local.send("hi from unix");
    await local.waitFor((d) => d.toString().includes("<web> hello from the web\n"));
    await until(() => got.includes("<guest-1> hi from unix"), "the unix user's line");
    expect(got[0]).toBe("* Welcome to echoplex chat, guest-2! You are in #lobby. Type /help for commands.");
    expect(got.every((m) => !m.includes("\n"))).toBe(true);
    expect(server.peers().map((p) => p.transport)).toEqual(["unix", "ws"]);
    browser.close();
    local.destroy();
  });

  it("refuses a udp:// address with a clear error", async () => {
    const server = createChatServer();
    servers.push(server);
    await expect(server.listen("udp://127.0.0.1:0")).rejects.toThrow(
      /chat cannot listen on udp:\/\/127\.0\.0\.1:0/,
    );
  });
});
