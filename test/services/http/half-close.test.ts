// A client that half-closes (sends its requests, then its FIN) while its answers are
// still owed: every request received whole before the FIN is answered, in order and each
// after its delay, then the server closes. First `echoplex http` with nc -N and a node
// TLS client as users run it, then the library for shutdown and the keep-alive timeout.
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHttpResponder,
  type HttpResponder,
  type HttpResponderOptions,
} from "../../../src/services/http/index.js";
import { type RunningCli, startCli } from "../../helpers/cli.js";

/** The status codes of the answers in `text`, in order. */
const statuses = (text: string): number[] =>
  [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** Three requests whose answers are ready out of order (the first waits longest). */
const THREE = [get("/delay/0.5?status=201"), get("/status/202"), get("/delay/0.1?status=203")].join("");

interface Got {
  out: string;
  ms: number;
  /** The client gave up (guard timer): the server never closed. */
  timedOut: boolean;
}

/**
 * `printf INPUT | nc -N 127.0.0.1 PORT`: nc sends INPUT, shuts down its write side at
 * its EOF and exits once the server closes; bounded.
 */
function ncHalfClose(port: number, input: string): Promise<Got> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const proc = spawn("nc", ["-N", "127.0.0.1", String(port)]);
    let out = "";
    let timedOut = false;
    proc.stdout.setEncoding("latin1").on("data", (d: string) => {
      out += d;
    });
    proc.on("error", reject);
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill();
    }, 20_000);
    proc.on("close", () => {
      clearTimeout(timer);
      resolve({ out, ms: Date.now() - started, timedOut });
    });
    // A child that exits before reading all its input must not fail the run (EPIPE).
    proc.stdin.on("error", () => {});
    proc.stdin.end(input);
  });
}

/** A node TLS client that writes `input` with end() (close_notify, then FIN) and reads until the server closes. */
function tlsHalfClose(port: number, input: string): Promise<Got> {
  const started = Date.now();
  return new Promise((resolve) => {
    let out = "";
    let timedOut = false;
    const socket = tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () =>
      socket.end(input),
    );
    const guard = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, 20_000);
    socket.setEncoding("latin1").on("data", (d: string) => {
      out += d;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(guard);
      resolve({ out, ms: Date.now() - started, timedOut });
    });
  });
}

describe("echoplex http: a client that half-closes after its requests (nc -N)", () => {
  let cli: RunningCli | undefined;
  afterEach(async () => {
    await cli?.stop("SIGKILL");
    cli = undefined;
  });

  async function http(...args: string[]): Promise<number> {
    cli = await startCli(["http", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug", ...args]);
    return cli.port;
  }

  /** How the server's lingering close ended ("peer closed": it had read the client's FIN). */
  async function lingerEnded(): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const how = /"how":"([^"]+)","msg":"lingering close/.exec(cli!.stderr())?.[1];
      if (how !== undefined) return how;
      if (Date.now() > deadline) throw new Error(`no lingering close logged:\n${cli!.stderr()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it("one request with --delay 300ms: the 200 arrives after its delay, then the server closes", async () => {
    const port = await http("--delay", "300ms");
    const got = await ncHalfClose(port, get("/"));
    expect(got.timedOut).toBe(false);
    expect(statuses(got.out)).toEqual([200]);
    // The client said it sends nothing more: the answer says the connection ends with it.
    expect(got.out).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Connection: close\r\n\r\nHello World!$/);
    expect(got.ms).toBeGreaterThanOrEqual(290);
    expect(await lingerEnded()).toBe("peer closed");
    expect(cli!.stderr()).not.toContain("client went away");
  });

  it("three pipelined requests, then the FIN: three answers in order, then the close", async () => {
    const port = await http("--delay", "300ms");
    const got = await ncHalfClose(port, THREE);
    expect(got.timedOut).toBe(false);
    expect(statuses(got.out)).toEqual([201, 202, 203]);
    expect(got.ms).toBeGreaterThanOrEqual(490);
    // Only the last answer announces the close: those before it are answers like any other.
    expect(got.out.match(/Connection: close/g)).toHaveLength(1);
    expect(got.out).toMatch(/Connection: close\r\n\r\nHello World!$/);
    expect(await lingerEnded()).toBe("peer closed");
  });

  it("with --delay 0: one request, and three pipelined, each answered, then the close", async () => {
    const port = await http("--delay", "0");
    const one = await ncHalfClose(port, get("/"));
    expect(one.timedOut).toBe(false);
    expect(statuses(one.out)).toEqual([200]);
    expect(one.out).toMatch(/Hello World!$/);
    const three = await ncHalfClose(port, THREE);
    expect(three.timedOut).toBe(false);
    expect(statuses(three.out)).toEqual([201, 202, 203]);
  });

  it("more requests than --max-pipeline, then the FIN: all answered in order, then the close", async () => {
    const port = await http("--delay", "100ms", "--max-pipeline", "2");
    const paths = ["/status/201", "/delay/0.3?status=202", "/status/203", "/healthz", "/status/205", "/echo"];
    const got = await ncHalfClose(port, paths.map(get).join(""));
    expect(got.timedOut).toBe(false);
    expect(statuses(got.out)).toEqual([201, 202, 203, 200, 205, 200]);
    expect(got.out).toMatch(/"url": "\/echo"[\s\S]*\}\n$/);
  });

  it("a request cut short by the FIN gets 400 incomplete request, after the whole ones before it", async () => {
    const port = await http("--delay", "300ms");
    const answer400 = /HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close\r\n\r\n/;
    const message = "incomplete request: the client ended its side mid-request (HPE_INVALID_EOF_STATE)\n";

    const headers = await ncHalfClose(port, "GET / HTTP/1.1\r\nHost: x\r\n");
    expect(statuses(headers.out)).toEqual([400]);
    expect(headers.out).toMatch(answer400);
    expect(headers.out.endsWith(message)).toBe(true);

    const body = await ncHalfClose(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    expect(statuses(body.out)).toEqual([400]);
    expect(body.out.endsWith(message)).toBe(true);

    const after = await ncHalfClose(port, `${get("/status/201")}GET / HTTP/1.1\r\nHo`);
    expect(after.timedOut).toBe(false);
    expect(statuses(after.out)).toEqual([201, 400]);
    expect(after.out.endsWith(message)).toBe(true);
    expect(after.ms).toBeGreaterThanOrEqual(290);
    expect(cli!.stderr()).toMatch(
      /"code":"HPE_INVALID_EOF_STATE","status":400,"after":1,"msg":"client error, closing"/,
    );
  });
});

describe("echoplex http --tls-self-signed: a TLS client that ends after writing", () => {
  let cli: RunningCli | undefined;
  afterEach(async () => {
    await cli?.stop("SIGKILL");
    cli = undefined;
  });

  it("its pipelined requests are answered in order after their delays, then the close", async () => {
    cli = await startCli(["http", "127.0.0.1:0", "--delay", "300ms", "--tls-self-signed"]);
    // close_notify and the FIN often arrive with the requests: several rounds, each must hold.
    for (let i = 0; i < 4; i++) {
      const got = await tlsHalfClose(cli.port, THREE);
      expect(got.timedOut).toBe(false);
      expect(statuses(got.out)).toEqual([201, 202, 203]);
      expect(got.out).toMatch(/Connection: close\r\n\r\nHello World!$/);
    }
  });

  it("a malformed request after valid ones: they are answered first, then the 400", async () => {
    cli = await startCli(["http", "127.0.0.1:0", "--delay", "300ms", "--tls-self-signed"]);
    for (let i = 0; i < 4; i++) {
      const got = await tlsHalfClose(cli.port, `${get("/")}${get("/status/201")}NOT HTTP\r\n\r\n`);
      expect(got.timedOut).toBe(false);
      expect(statuses(got.out)).toEqual([200, 201, 400]);
      expect(got.out).toMatch(/malformed request \(HPE_INVALID_METHOD\)\n$/);
    }
  });
});

describe("http responder: half-closed clients, shutdown and the keep-alive timeout", () => {
  let servers: HttpResponder[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
    servers = [];
  });

  async function start(options: HttpResponderOptions): Promise<{ server: HttpResponder; port: number }> {
    const server = createHttpResponder(options);
    servers.push(server);
    return { server, port: (await server.listen("127.0.0.1:0")).port };
  }

  /** A raw socket that writes `input`, half-closes, and resolves with all it got once the server closes. */
  function halfClose(port: number, input: string): Promise<string> {
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const done = new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const guard = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no close within 15 s; got ${JSON.stringify(Buffer.concat(chunks).toString())}`));
      }, 15_000);
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(guard);
        resolve(Buffer.concat(chunks).toString("latin1"));
      });
    });
    socket.end(input);
    return done;
  }

  async function until(what: string, cond: () => boolean): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("shutdown while a half-closed client waits: its answers still leave, in order, then it closes", async () => {
    const { server, port } = await start({ delayMs: 600 });
    const client = halfClose(
      port,
      [get("/delay/0.1?status=201"), get("/status/202"), get("/delay/0.8?status=203")].join(""),
    );
    await until("three requests in flight", () => server.inflight === 3);
    const stopped = server.shutdown({ drainTimeoutMs: 10_000 });
    expect(statuses(await client)).toEqual([201, 202, 203]);
    await stopped;
    expect(server.connections.size).toBe(0);
  });

  // node's idle sweep (server.close(), closeIdleConnections()) counts a connection idle once
  // its current answer is written, with pipelined answers written ahead of their turn still
  // queued behind it: destroying it then lost them.
  for (const halfClosed of [true, false]) {
    it(`shutdown with pipelined answers ready out of order${halfClosed ? " (half-closed)" : ""}: all leave, in order`, async () => {
      const { server, port } = await start({ delayMs: 600 });
      const input = [get("/delay/0.8?status=201"), get("/status/202"), get("/delay/0.1?status=203")].join("");
      let got: Promise<string>;
      if (halfClosed) {
        got = halfClose(port, input);
      } else {
        const socket = connect({ port, host: "127.0.0.1" });
        let out = "";
        socket.setEncoding("latin1").on("data", (d: string) => {
          out += d;
        });
        socket.on("error", () => {});
        got = new Promise((resolve) => socket.on("close", () => resolve(out)));
        socket.write(input);
      }
      await until("three requests in flight", () => server.inflight === 3);
      const stopped = server.shutdown({ drainTimeoutMs: 10_000 });
      expect(statuses(await got)).toEqual([201, 202, 203]);
      await stopped;
    });
  }

  it("an answer delayed past the keep-alive timeout still reaches a half-closed client", async () => {
    const { port } = await start({ delayMs: 0, keepAliveTimeoutMs: 100 });
    const got = await halfClose(port, `${get("/status/201")}${get("/delay/0.6?status=202")}`);
    expect(statuses(got)).toEqual([201, 202]);
  });
});
