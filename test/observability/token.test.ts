// --admin-token: a bearer token (or the page's cookie) on everything but /healthz;
// and the admin flags' errors.
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { adminGet } from "../helpers/admin.js";
import { type RunningCli, runCli, startCli } from "../helpers/cli.js";

let cli: RunningCli | undefined;

afterEach(async () => {
  await cli?.stop("SIGKILL");
  cli = undefined;
});

const PATHS = ["/", "/metrics", "/readyz", "/api/peers", "/api/stats"];

describe("echoplex echo --admin-token", () => {
  it("requires the token everywhere but /healthz", async () => {
    cli = await startCli(
      ["echo", "127.0.0.1:0", "--admin", "0", "--admin-token", "s3cret", "--log-level", "warn"],
      { count: 2 },
    );
    const admin = cli.ports.admin!;
    expect(cli.stdout()).toContain("token required");
    expect((await adminGet(admin, "/healthz")).status).toBe(200);
    for (const path of PATHS) {
      const none = await adminGet(admin, path);
      expect(none.status, path).toBe(401);
      expect(none.headers.get("www-authenticate")).toContain("Bearer");
      expect(none.body).not.toContain("echoplex_");
      expect((await adminGet(admin, path, { authorization: "Bearer wrong" })).status, path).toBe(401);
      expect((await adminGet(admin, path, { authorization: "Bearer s3cret" })).status, path).toBe(200);
    }
    expect(cli.stderr()).toContain("admin request without a valid token");

    // The page: /?token=… stores the token in a cookie and redirects to /.
    expect((await adminGet(admin, "/?token=wrong")).status).toBe(401);
    const redirect = await adminGet(admin, "/?token=s3cret");
    expect(redirect.status).toBe(303);
    expect(redirect.headers.get("location")).toBe("/");
    const setCookie = redirect.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/HttpOnly/);
    const cookie = setCookie.split(";")[0]!;
    const page = await adminGet(admin, "/", { cookie });
    expect(page.status).toBe(200);
    expect(page.body).toContain("<title>echoplex status</title>");
    expect((await adminGet(admin, "/api/stats", { cookie })).status).toBe(200);
    expect((await adminGet(admin, "/api/stats", { cookie: "echoplex_admin_token=nope" })).status).toBe(401);
  });

  it("takes the token from ECHOPLEX_ADMIN_TOKEN", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], {
      count: 2,
      env: { ECHOPLEX_ADMIN_TOKEN: "from-env" },
    });
    const admin = cli.ports.admin!;
    expect((await adminGet(admin, "/metrics")).status).toBe(401);
    expect((await adminGet(admin, "/metrics", { authorization: "Bearer from-env" })).status).toBe(200);
  });

  it("without a token, serves everything openly on loopback", async () => {
    cli = await startCli(["echo", "127.0.0.1:0", "--admin", "0", "--log-level", "warn"], { count: 2 });
    expect(cli.stdout()).toMatch(/echoplex admin listening on 127\.0\.0\.1:\d+ /);
    for (const path of PATHS) expect((await adminGet(cli.ports.admin!, path)).status, path).toBe(200);
  });
});

describe("echoplex echo --admin errors", () => {
  it("rejects a bad address with one line and exit 2", async () => {
    const r = await runCli(["echo", "127.0.0.1:0", "--admin", "nope:x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^echoplex: error: bad address "nope:x".*\(ERR_BAD_ADDRESS\)\n$/);
  });

  it("reports an admin port in use with one line and exit 1", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(["echo", "127.0.0.1:0", "--admin", String(port), "--log-level", "warn"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`address 127.0.0.1:${port} (admin) is already in use (ERR_ADDRESS_IN_USE)`);
      expect(r.stdout).not.toContain("listening");
    } finally {
      blocker.close();
    }
  });
});
