// The client in pipe mode, run as a child process against the real services (also child processes).
import { execFile } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame } from "../../src/codecs/length-prefixed.js";
import { CLI, type RunningCli, runCli, startCli } from "../helpers/cli.js";
import { freePort } from "../helpers/net.js";

const running: RunningCli[] = [];
const servers: Server[] = [];

async function service(...args: string[]): Promise<number> {
  const cli = await startCli([...args, "127.0.0.1:0", "--log-level", "warn"]);
  running.push(cli);
  return cli.port;
}

async function netServer(onSocket: (s: Socket) => void): Promise<number> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on (bound, then released). */
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop("SIGKILL")));
  for (const s of servers.splice(0)) s.close();
});

describe("echoplex client in a pipe", () => {
  it("prints exactly the reply lines of the cmd service and exits 0", async () => {
    const port = await service("cmd");
    const r = await runCli(["client", `127.0.0.1:${port}`], { input: "ECHO a\nUPPER b\n" });
    expect(r.stdout).toBe("ECHO: a\nB\n");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  it("handles Unicode, errors, a last line without newline, and QUIT against cmd", async () => {
    const port = await service("cmd");
    const r = await runCli(["client", `localhost:${port}`], {
      input: "REVERSE héllo 👩‍👩‍👧\nNOPE\n\nlower ÉTÉ",
    });
    expect(r.stdout).toBe('👩‍👩‍👧 olléh\nERROR: Unknown command "NOPE"\nété\n');
    expect(r.code).toBe(0);
    const q = await runCli(["client", `127.0.0.1:${port}`], { input: "PING\nQUIT\n" });
    expect(q.stdout).toBe("PONG\nBYE\n");
    expect(q.code).toBe(0);
  });

  it("works against the echo service, and with --framing length against echo --framing length", async () => {
    const lines = await service("echo");
    const r = await runCli(["client", `127.0.0.1:${lines}`], { input: "one\ntwo\n" });
    expect(r.stdout).toBe("ECHO: one\nECHO: two\n");
    expect(r.code).toBe(0);

    const framed = await service("echo", "--framing", "length");
    const f = await runCli(["client", `127.0.0.1:${framed}`, "--framing", "length"], {
      input: "alpha\nbeta\n",
    });
    expect(f.stdout).toBe("ECHO: alpha\nECHO: beta\n");
    expect(f.code).toBe(0);
  });

  it("sends a thousand lines and gets a thousand replies in order", async () => {
    const port = await service("cmd");
    const input = Array.from({ length: 1000 }, (_, i) => `ECHO ${i}\n`).join("");
    const r = await runCli(["client", `127.0.0.1:${port}`], { input });
    expect(r.stdout).toBe(Array.from({ length: 1000 }, (_, i) => `ECHO: ${i}\n`).join(""));
    expect(r.code).toBe(0);
  });

  it("after the input ends, waits for late replies, bounded by --wait", async () => {
    // A server that answers 300 ms after the input ends, and one that never closes.
    const slow = await netServer((s) => {
      s.on("data", () => {});
      s.on("end", () => setTimeout(() => s.end("late reply\n"), 300));
    });
    const r = await runCli(["client", `127.0.0.1:${slow}`], { input: "hi\n" });
    expect(r.stdout).toBe("late reply\n");
    expect(r.code).toBe(0);

    const silent = await netServer((s) => {
      s.on("data", () => {});
      s.on("error", () => {});
    });
    const started = Date.now();
    const w = await runCli(["client", `127.0.0.1:${silent}`, "--wait", "500ms"], { input: "hi\n" });
    expect(w.code).toBe(0);
    expect(w.stdout).toBe("");
    expect(w.stderr).toMatch(/no close from .* within 500 ms/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("prints replies of length-prefixed frames that arrive split into pieces", async () => {
    const port = await netServer((s) => {
      s.once("data", () => {
        const frames = Buffer.concat([encodeFrame("first"), encodeFrame("second")]);
        s.write(frames.subarray(0, 3));
        setTimeout(() => s.end(frames.subarray(3)), 100);
      });
    });
    const r = await runCli(["client", `127.0.0.1:${port}`, "--framing", "length"], { input: "go\n" });
    expect(r.stdout).toBe("first\nsecond\n");
    expect(r.code).toBe(0);
  });
});

describe("echoplex client limits", () => {
  it("a reply over --max-line is one error line and exit 1", async () => {
    const port = await service("echo");
    const r = await runCli(["client", `127.0.0.1:${port}`, "--max-line", "16"], {
      // The second request fits the limit; its reply, with the "ECHO: " prefix, does not.
      input: `${"x".repeat(10)}\n${"y".repeat(14)}\n`,
    });
    expect(r.stdout).toBe(`ECHO: ${"x".repeat(10)}\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `echoplex: error: reply from 127.0.0.1:${port}: line exceeds 16 bytes (raise it with --max-line) (ERR_LINE_TOO_LONG)\n`,
    );
    const input = await runCli(["client", `127.0.0.1:${port}`, "--max-line", "16"], {
      input: `${"z".repeat(17)}\n`,
    });
    expect(input.code).toBe(1);
    expect(input.stderr).toMatch(/error: input: line exceeds 16 bytes/);
  });

  it("stops quietly when nobody reads its output any more (| head -1)", async () => {
    const port = await service("cmd");
    const script = `seq 1 100000 | sed 's/^/ECHO /' | "${process.execPath}" "${CLI}" client 127.0.0.1:${port} | head -1; echo "status \${PIPESTATUS[2]}"`;
    const r = await new Promise<{ out: string; err: string }>((resolve) => {
      execFile("bash", ["-c", script], { timeout: 20_000 }, (_e, out, err) => resolve({ out, err }));
    });
    expect(r.out).toBe("ECHO: 1\nstatus 0\n");
    expect(r.err).toBe("");
  });
});

describe("echoplex client network errors: one line, distinct exit codes", () => {
  it("refused: exit 3", async () => {
    const port = await freePort();
    const r = await runCli(["client", `127.0.0.1:${port}`], { input: "PING\n" });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      `echoplex: error: connection to 127.0.0.1:${port} refused (ERR_CONNECTION_REFUSED)\n`,
    );
    expect(r.stdout).toBe("");
  });

  it("unknown host: exit 4", async () => {
    const r = await runCli(["client", "no-such-host.invalid:8082"], { input: "PING\n" });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^echoplex: error: .*no-such-host\.invalid:8082.*\(ERR_HOST_UNREACHABLE\)\n$/);
  });

  it("reset by the server mid-session: exit 5", async () => {
    const port = await netServer((s) => {
      s.once("data", () => {
        s.write("first\n", () => setTimeout(() => s.resetAndDestroy(), 50));
      });
    });
    // Input that does not end, so the reset arrives while the session is open.
    const r = await runCli(["client", `127.0.0.1:${port}`], {
      input: "a\nb\n",
      timeoutMs: 15_000,
    });
    expect(r.stdout).toBe("first\n");
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(
      `echoplex: error: connection to 127.0.0.1:${port} reset by the server (ERR_CONNECTION_RESET)\n`,
    );
  });

  it("connect timeout (a TLS server that never answers the handshake): exit 6", async () => {
    const port = await netServer((s) => {
      s.on("data", () => {});
      s.on("error", () => {});
    });
    const started = Date.now();
    const r = await runCli(["client", `127.0.0.1:${port}`, "--tls", "--timeout", "500ms"], { input: "" });
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(
      `echoplex: error: connection to 127.0.0.1:${port} timed out after 500 ms (ERR_TIMEOUT)\n`,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("bad address: exit 2", async () => {
    const r = await runCli(["client", "localhost"], { input: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing port \(ERR_BAD_ADDRESS\)/);
  });

  it("--reconnect retries with backoff until the server comes up", async () => {
    const port = await freePort();
    let refusedOnce = () => {};
    const refused = new Promise<void>((r) => {
      refusedOnce = r;
    });
    const client = runCli(["client", `127.0.0.1:${port}`, "--reconnect"], {
      input: "PING\n",
      timeoutMs: 25_000,
      onStderr: (soFar) => {
        if (soFar.includes("refused; retrying")) refusedOnce();
      },
    });
    // The server comes up only after a refused attempt (not after a guessed 800 ms: the
    // client may still be starting on a loaded machine).
    await Promise.race([refused, client]);
    const cli = await startCli(["cmd", `127.0.0.1:${port}`, "--log-level", "warn"]);
    running.push(cli);
    const r = await client;
    expect(r.stdout).toBe("PONG\n");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/refused; retrying in \d+ ms \(attempt 1\)/);
  });

  it("--reconnect gives up after --retries attempts with the last error", async () => {
    const port = await freePort();
    const r = await runCli(["client", `127.0.0.1:${port}`, "--reconnect", "--retries", "2"], {
      input: "PING\n",
    });
    expect(r.code).toBe(3);
    expect(r.stderr.match(/retrying in/g)).toHaveLength(2);
    expect(r.stderr).toMatch(/error: connection to .* refused \(ERR_CONNECTION_REFUSED\)\n$/);
  });
});
