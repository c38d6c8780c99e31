// /redirect/N, /relative-redirect/N, /absolute-redirect/N and /redirect-to: go-httpbin's
// TestRedirects and TestRedirectTo (its allow-list is "this host" here, or any host with
// --allow-open-redirect), curl -L following a chain, and the flag through the CLI.
import { describe, expect, it } from "vitest";
import { startCli } from "../../helpers/cli.js";
import { curl, fetchRoute, startRoutes } from "../../helpers/routes.js";

describe("redirect chains", () => {
  it("302 with the Location go-httpbin gives, relative or absolute", async () => {
    const { base } = await startRoutes();
    const host = base.slice("http://".length);
    const cases = [
      ["/redirect/1", "/get"],
      ["/redirect/2", "/relative-redirect/1"],
      ["/redirect/100", "/relative-redirect/99"],
      ["/redirect/1?absolute=true", `http://${host}/get`],
      ["/redirect/2?absolute=TRUE", `http://${host}/absolute-redirect/1`],
      ["/redirect/100?absolute=True", `http://${host}/absolute-redirect/99`],
      ["/redirect/100?absolute=t", "/relative-redirect/99"],
      ["/redirect/100?absolute=1", "/relative-redirect/99"],
      ["/redirect/100?absolute=yes", "/relative-redirect/99"],
      ["/relative-redirect/1", "/get"],
      ["/relative-redirect/2", "/relative-redirect/1"],
      ["/relative-redirect/100", "/relative-redirect/99"],
      ["/absolute-redirect/1", `http://${host}/get`],
      ["/absolute-redirect/2", `http://${host}/absolute-redirect/1`],
      ["/absolute-redirect/100", `http://${host}/absolute-redirect/99`],
    ] as const;
    for (const [path, location] of cases) {
      const r = await fetchRoute(`${base}${path}`);
      expect(r.status, path).toBe(302);
      expect(r.headers.get("location"), path).toBe(location);
    }
  });

  it("bad counts are 400, shapes no route has are 404", async () => {
    const { base } = await startRoutes();
    for (const kind of ["redirect", "relative-redirect", "absolute-redirect"]) {
      for (const tail of ["", "/"]) expect((await fetchRoute(`${base}/${kind}${tail}`)).status).toBe(404);
      expect((await fetchRoute(`${base}/${kind}/10/foo`)).status).toBe(404);
      for (const n of ["-1", "3.14", "foo", "0"])
        expect((await fetchRoute(`${base}/${kind}/${n}`)).status).toBe(400);
    }
  });

  it("curl -L follows /redirect/5 to /get", async () => {
    const { base } = await startRoutes();
    const out = (
      await curl(["-s", "-L", "-w", "\n%{num_redirects} %{url_effective}", `${base}/redirect/5`])
    ).toString();
    const [body, last] = [out.slice(0, out.lastIndexOf("\n")), out.slice(out.lastIndexOf("\n") + 1)];
    expect(last).toBe(`5 ${base}/get`);
    expect((JSON.parse(body) as { url: string }).url).toBe(`${base}/get`);
  });
});

describe("/redirect-to", () => {
  it("redirects to a path or this host, with the asked 3xx", async () => {
    const { base } = await startRoutes();
    const cases = [
      ["/redirect-to?url=/get", "/get", 302],
      ["/redirect-to?url=/get&status_code=307", "/get", 307],
      [`/redirect-to?url=${encodeURIComponent(`${base}/anything`)}`, `${base}/anything`, 302],
      [`/redirect-to?url=${encodeURIComponent(`${base}/x`)}&status_code=308`, `${base}/x`, 308],
    ] as const;
    for (const [path, location, status] of cases) {
      const r = await fetchRoute(`${base}${path}`);
      expect(r.status, path).toBe(status);
      expect(r.headers.get("location"), path).toBe(location);
    }
    const post = await fetchRoute(`${base}/redirect-to?url=/get&status_code=307`, {
      method: "POST",
      body: "x",
    });
    expect(post.status).toBe(307);
  });

  it("a missing url or a status that is no redirect is 400; another host is 403, however it is disguised", async () => {
    const { base } = await startRoutes();
    const bad = [
      "/redirect-to",
      "/redirect-to?status_code=302",
      "/redirect-to?url=/get&status_code=201",
      "/redirect-to?url=/get&status_code=418",
      "/redirect-to?url=/get&status_code=/get",
      "/redirect-to?url=http%3A%2F%2Ffoo%25%25bar&status_code=418",
    ];
    for (const path of bad) expect((await fetchRoute(`${base}${path}`)).status, path).toBe(400);
    const forbidden = [
      "/redirect-to?url=foo",
      "/redirect-to?url=http://httpbingo.org",
      "/redirect-to?url=https://evil.com",
      "/redirect-to?url=//evil.com",
      "/redirect-to?url=/%5Cevil.com",
      "/redirect-to?url=http%3A%2F%2Fevil.com",
      "/redirect-to?url=http%253A%252F%252Fevil.com",
      "/redirect-to?url=http%253A//%255B%253A%253Affff%253A169.254.169.254%255D/latest/meta-data/",
      "/redirect-to?url=http%253A%252F%252Flocalhost%253A8080%252Factuator%252Fenv&status_code=302",
      "/redirect-to?url=javascript:alert(1)",
    ];
    for (const path of forbidden) {
      const r = await fetchRoute(`${base}${path}`);
      expect(r.status, path).toBe(403);
      expect(r.headers.get("location"), path).toBeNull();
      expect(r.text, path).toContain("--allow-open-redirect");
    }
  });

  it("with --allow-open-redirect (the CLI flag) any http(s) host is allowed", async () => {
    const cli = await startCli([
      "http",
      "127.0.0.1:0",
      "--delay",
      "0",
      "--allow-open-redirect",
      "--max-bytes",
      "2k",
    ]);
    try {
      const base = `http://127.0.0.1:${cli.port}`;
      const r = await fetchRoute(`${base}/redirect-to?url=https://example.org/foo/bar`);
      expect(r.status).toBe(302);
      expect(r.headers.get("location")).toBe("https://example.org/foo/bar");
      expect((await fetchRoute(`${base}/redirect-to?url=foo`)).status).toBe(403);
      // --max-bytes given on the command line bounds the generated bodies.
      expect((await fetchRoute(`${base}/bytes/2048`)).status).toBe(200);
      const over = await fetchRoute(`${base}/bytes/2049`);
      expect(over.status).toBe(400);
      expect(over.text).toContain("--max-bytes");
    } finally {
      await cli.stop();
    }
  });
});
