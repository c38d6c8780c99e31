// The HTTP responder on a Unix socket, through the CLI, with curl --unix-socket.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { adminJson } from "../../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../../helpers/cli.js";

const clis: RunningCli[] = [];
let dir = "";
afterEach(async () => {
  await Promise.all(clis.splice(0).map((c) => c.stop("SIGKILL")));
  if (dir !== "") await rm(dir, { recursive: true, force: true });
});

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile("curl", ["-s", ...args], { timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

describe("echoplex http unix:/path", () => {
  it("answers curl --unix-socket, lists the peer as unix, and removes the socket at shutdown", async () => {
    dir = await mkdtemp(join(tmpdir(), "echoplex-http-unix-"));
    const sock = join(dir, "http.sock");
    const cli = await startCli(
      [
        "http",
        `unix:${sock}`,
        "--delay",
        "0",
        "--unix-mode",
        "0600",
        "--admin",
        "127.0.0.1:0",
        "--log-level",
        "warn",
      ],
      { count: 1 },
    );
    clis.push(cli);
    expect(cli.stdout()).toContain(`listening on unix:${sock}`);
    expect((await stat(sock)).mode & 0o777).toBe(0o600);
    expect(await curl(["--unix-socket", sock, "http://localhost/"])).toBe("Hello World!");
    expect(
      await curl([
        "--unix-socket",
        sock,
        "http://localhost/status/418",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
      ]),
    ).toBe("418");
    // A client that stays: /api/peers shows it with its transport.
    const slow = curl(["--unix-socket", sock, "http://localhost/delay/1"]);
    const admin = cli.ports.admin!;
    let transports: string[] = [];
    for (let i = 0; i < 200 && transports.length === 0; i++) {
      transports = (await adminJson<{ peers: Array<{ transport: string }> }>(admin, "/api/peers")).peers.map(
        (p) => p.transport,
      );
      if (transports.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(transports).toEqual(["unix"]);
    expect(await slow).toBe("Hello World!");
    expect(await cli.stop("SIGTERM")).toBe(0);
    await expect(stat(sock)).rejects.toThrow();
  });

  it("refuses a UDP or WebSocket address with one line", async () => {
    const r = await runCli(["http", "udp://127.0.0.1:0", "--log-level", "silent"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("it listens on TCP or a Unix socket");
  });
});
