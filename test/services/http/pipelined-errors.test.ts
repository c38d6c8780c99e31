// A bad request pipelined behind good ones (RFC 9112 §9.3.2): every request received
// whole before it is answered, in order and after its delay, then the error answer
// (400, 431, 408), then the close. First `echoplex http` with nc as a user runs it, then
// the library for the cases where the bad request itself is left half-received.
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import {
  createHttpResponder,
  type HttpResponder,
  type HttpResponderOptions,
} from "../../../src/services/http/index.js";
import { makeTestCerts } from "../../helpers/certs.js";
import { type RunningCli, startCli } from "../../helpers/cli.js";

/** The status codes of the answers in `text`, in order. */
const statuses = (text: string): number[] =>
  [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

describe("echoplex http: a malformed request pipelined after valid ones (nc)", () => {
  let cli: RunningCli | undefined;
  afterEach(async () => {
    await cli?.stop("SIGKILL");
    cli = undefined;
  });

  async function http(...args: string[]): Promise<number> {
    cli = await startCli(["http", "127.0.0.1:0", "--log-format", "json", ...args]);
    return cli.port;
  }

  /**
   * The server logs how its lingering close ended: "peer closed" when it read the
   * client's close, "time" when it never did (it stopped reading and cut the client off).
   */
  async function lingerEnded(): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const how = /"how":"([^"]+)","msg":"lingering close/.exec(cli!.stderr())?.[1];
      if (how !== undefined) return how;
      if (Date.now() > deadline) throw new Error(`no lingering close logged:\n${cli!.stderr()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** `printf INPUT | nc ARGS 127.0.0.1 PORT`: nc's output and how long it ran; bounded. */
  function nc(args: string[], port: number, input: string): Promise<{ out: string; ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const proc = spawn("nc", [...args, "127.0.0.1", String(port)]);
      let out = "";
      proc.stdout.setEncoding("latin1").on("data", (d: string) => {
        out += d;
      });
      proc.on("error", reject);
      const timer = setTimeout(() => proc.kill(), 20_000);
      proc.on("close", () => {
        clearTimeout(timer);
        resolve({ out, ms: Date.now() - started });
      });
      // A child that exits before reading all its input must not fail the run (EPIPE).
      proc.stdin.on("error", () => {});
      proc.stdin.end(input);
    });
  }

  const VALID = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

  it("the report, nc -q2 with --delay 0: 200, then 400, then the close", async () => {
    const port = await http("--delay", "0");
    const { out } = await nc(["-q2"], port, `${VALID}NOT HTTP\r\n\r\n`);
    expect(statuses(out)).toEqual([200, 400]);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nHello World!HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).toMatch(/Connection: close\r\n\r\nmalformed request \(HPE_INVALID_METHOD\)\n$/);
    expect(cli!.stderr()).toMatch(
      /"code":"HPE_INVALID_METHOD","status":400,"after":1,"msg":"client error, closing"/,
    );
  });

  it("with --delay 300ms the 200 still comes first, after its delay", async () => {
    const port = await http("--delay", "300ms", "--log-level", "debug");
    // -N: half-close after the input, and leave as soon as the server closes.
    const { out, ms } = await nc(["-N"], port, `${VALID}NOT HTTP\r\n\r\n`);
    expect(statuses(out)).toEqual([200, 400]);
    expect(out).toContain("Hello World!HTTP/1.1 400 Bad Request\r\n");
    expect(ms).toBeGreaterThanOrEqual(290);
    // The client's FIN, held unread while the 200 was owed, is read once the 400 is sent.
    expect(await lingerEnded()).toBe("peer closed");
  });

  it("valid, then headers over the limit: 200, then 431", async () => {
    const port = await http("--delay", "200ms");
    const huge = `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    const { out } = await nc(["-N"], port, `${VALID}${huge}`);
    expect(statuses(out)).toEqual([200, 431]);
    expect(out).toMatch(/Hello World!HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  });

  it("several valid requests, then a malformed one: each answered in order, then the 400", async () => {
    // More than --max-pipeline: reading is held for the pipeline limit and for the error at once.
    const port = await http("--delay", "0", "--max-pipeline", "2", "--log-level", "debug");
    // Answers ready out of order (the second waits longest): they still leave in request order.
    const requests = ["/status/201", "/delay/0.3?status=202", "/healthz", "/delay/0.1?status=204", "/echo"]
      .map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`)
      .join("");
    const { out } = await nc(["-N"], port, `${requests}GET / HTTP/1.1\r\nHost x\r\n\r\n`);
    expect(statuses(out)).toEqual([201, 202, 200, 204, 200, 400]);
    expect(out).toMatch(/"url": "\/echo"[\s\S]*\}\nHTTP\/1\.1 400 Bad Request\r\n[\s\S]*malformed request/);
    expect(cli!.stderr()).toMatch(/"status":400,"after":5,"msg":"client error, closing"/);
    expect(await lingerEnded()).toBe("peer closed");
  });
});

describe("http responder: the bad request itself is never answered twice nor waited for", () => {
  let servers: HttpResponder[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.shutdown({ drainTimeoutMs: 100 })));
    servers = [];
  });

  async function start(options: HttpResponderOptions): Promise<number> {
    const server = createHttpResponder(options);
    servers.push(server);
    return (await server.listen("127.0.0.1:0")).port;
  }

  /** Sends `input` over a raw socket (not half-closing) and resolves with all it got once the server closes. */
  function exchange(port: number, input: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" });
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
      socket.write(input);
    });
  }

  it("a chunked body broken mid-way: the request before it is answered, then 400", async () => {
    const port = await start({ delayMs: 300 });
    const got = await exchange(
      port,
      "GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nnot hex\r\n",
    );
    expect(statuses(got)).toEqual([200, 400]);
    expect(got).toContain("malformed request (HPE_INVALID_CHUNK_SIZE)");
  });

  it("a body that stops arriving: the request before it is answered, then 408", async () => {
    const port = await start({ delayMs: 0, requestTimeoutMs: 500, headersTimeoutMs: 500 });
    // The first answer waits past the request timeout of the second, which never completes.
    const got = await exchange(
      port,
      "GET /delay/1.5 HTTP/1.1\r\nHost: x\r\n\r\nPOST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    );
    expect(statuses(got)).toEqual([200, 408]);
  });

  it("over TLS, a client that half-closes at once still gets the 400, last", async () => {
    const certs = await makeTestCerts();
    try {
      const port = await start({
        delayMs: 300,
        tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) },
      });
      // TLS may read the client's close_notify with its data, before the answers owed have
      // left: they still leave, then the 400.
      for (let i = 0; i < 6; i++) {
        const got = await new Promise<string>((resolve, reject) => {
          const socket = tlsConnect(
            { port, host: "127.0.0.1", ca: certs.caPem, servername: "localhost" },
            () =>
              socket.end(
                "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /status/201 HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP\r\n\r\n",
              ),
          );
          let text = "";
          const guard = setTimeout(() => reject(new Error(`no close within 15 s; got ${text}`)), 15_000);
          socket.setEncoding("latin1").on("data", (d: string) => {
            text += d;
          });
          socket.on("error", () => {});
          socket.on("close", () => {
            clearTimeout(guard);
            resolve(text);
          });
        });
        expect(statuses(got)).toEqual([200, 201, 400]);
      }
    } finally {
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
