// /anything, /get, /headers, /ip, /user-agent, /uuid, /response-headers, CORS, HEAD,
// OPTIONS, 404/405 and weighted /status: go-httpbin's handler cases (TestAnything,
// TestCORS, TestHead, TestStatus "multiple choice", TestResponseHeaders…) over real sockets.
import { describe, expect, it } from "vitest";
import { curl, fetchJson, fetchRoute, startRoutes } from "../../helpers/routes.js";

interface Described {
  args: Record<string, string[]>;
  headers: Record<string, string[]>;
  method: string;
  origin: string;
  url: string;
  data?: string;
  form?: Record<string, string[]>;
  files?: Record<string, string[]>;
  json?: unknown;
}

describe("inspection routes", () => {
  it("/anything shows method, url, args (repeated keys kept), headers and origin, for every method", async () => {
    const { base } = await startRoutes();
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
      const { status, json } = await fetchJson<Described>(`${base}/anything/a/b?foo=1&foo=2&bar=x`, {
        method,
        headers: { "X-Custom": "yes" },
      });
      expect(status).toBe(200);
      expect(json.method).toBe(method);
      expect(json.url).toBe(`${base}/anything/a/b?foo=1&foo=2&bar=x`);
      expect(json.args).toEqual({ foo: ["1", "2"], bar: ["x"] });
      expect(json.headers["X-Custom"]).toEqual(["yes"]);
      expect(json.origin).toBe("127.0.0.1");
    }
    const bare = await fetchJson<Described>(`${base}/anything`);
    expect(bare.json.url).toBe(`${base}/anything`);
  });

  it("/anything decodes a form, JSON and a multipart upload, and keeps the raw data", async () => {
    const { base } = await startRoutes();
    const form = await fetchJson<Described>(`${base}/anything`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&a=2&b=three",
    });
    expect(form.json.form).toEqual({ a: ["1", "2"], b: ["three"] });
    expect(form.json.data).toBe("a=1&a=2&b=three");
    const json = await fetchJson<Described>(`${base}/anything`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"k":[1,2]}',
    });
    expect(json.json.json).toEqual({ k: [1, 2] });
    expect(json.json.data).toBe('{"k":[1,2]}');
    // curl -F: a real multipart encoder.
    const out = (
      await curl(
        ["-s", "-F", "field=value", "-F", "upload=@-;filename=x.txt", `${base}/anything`],
        "file contents",
      )
    ).toString();
    const parsed = JSON.parse(out) as Described;
    expect(parsed.form).toEqual({ field: ["value"] });
    expect(parsed.files).toEqual({ upload: ["file contents"] });
  });

  it("/headers, /ip, /user-agent, /uuid, /get", async () => {
    const { base } = await startRoutes();
    const h = await fetchJson<{ headers: Record<string, string[]> }>(`${base}/headers`, {
      headers: { "X-Foo": "bar" },
    });
    expect(h.json.headers["X-Foo"]).toEqual(["bar"]);
    expect((await fetchJson(`${base}/ip`)).json).toEqual({ origin: "127.0.0.1" });
    const ua = (await curl(["-s", "-A", "test-agent/1.0", `${base}/user-agent`])).toString();
    expect(JSON.parse(ua)).toEqual({ "user-agent": "test-agent/1.0" });
    const a = (await fetchJson<{ uuid: string }>(`${base}/uuid`)).json.uuid;
    const b = (await fetchJson<{ uuid: string }>(`${base}/uuid`)).json.uuid;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    const get = await fetchJson<Described>(`${base}/get?x=1`);
    expect(get.json.args).toEqual({ x: ["1"] });
    expect((await fetchRoute(`${base}/get`, { method: "POST", body: "x" })).status).toBe(405);
  });

  it("/response-headers sends back the query as headers (repeated values twice) and lists them", async () => {
    const { base } = await startRoutes();
    const out = (
      await curl(["-s", "-i", `${base}/response-headers?X-Test=a&X-Test=b&Content-Type=text/x-test`])
    ).toString();
    expect(out).toMatch(/\r\nx-test: a\r\n/i);
    expect(out).toMatch(/\r\nx-test: b\r\n/i);
    expect(out).toMatch(/\r\ncontent-type: text\/x-test\r\n/i);
    const body = JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4)) as Record<string, string[]>;
    expect(body["X-Test"]).toEqual(["a", "b"]);
    // A name no header can carry is listed in the body only.
    const odd = await fetchRoute(`${base}/response-headers?bad%20name=1`);
    expect(odd.status).toBe(200);
    expect(JSON.parse(odd.text)["bad name"]).toEqual(["1"]);
  });

  it("/response-headers escapes its body for a content type a browser would run (go-httpbin's cases)", async () => {
    const { base } = await startRoutes();
    const xss = "<img/src/onerror=alert('xss')>";
    const escaped = "&#60;img/src/onerror=alert(&#39;xss&#39;)&#62;";
    const cases = [
      ["application/json; charset=utf8", false],
      ["text/plain", false],
      ["application/octet-string", false],
      ["", false],
      ["application/xml", true],
      ["image/png", true],
      ["text/html; charset=utf8", true],
      ["text/html", true],
    ] as const;
    for (const [type, escaping] of cases) {
      const q = new URLSearchParams();
      if (type !== "") q.set("Content-Type", type);
      q.set("xss", xss);
      q.set(xss, "xss");
      const r = await fetchRoute(`${base}/response-headers?${q}`);
      expect(r.status, type).toBe(200);
      expect(r.headers.get("content-type"), type).toBe(
        type === "" ? "application/json; charset=utf-8" : type,
      );
      expect(r.headers.get("xss"), type).toBe(xss);
      const body = JSON.parse(r.text) as Record<string, string[]>;
      expect(body.xss, type).toEqual([escaping ? escaped : xss]);
      expect(body[escaping ? escaped : xss], type).toEqual(["xss"]);
    }
  });

  it("control characters asked for in a header never reach node's header check (no crash, no 5xx)", async () => {
    const { base } = await startRoutes();
    const values = await fetchRoute(`${base}/response-headers?X-Ctl=%01&X-Nl=a%0d%0ab&X-Ok=1`);
    expect(values.status).toBe(200);
    expect(values.headers.get("x-ctl")).toBeNull();
    expect(values.headers.get("x-nl")).toBeNull();
    expect(values.headers.get("x-ok")).toBe("1");
    const location = await fetchRoute(`${base}/redirect-to?url=/a%01b%0d%0a`);
    expect(location.status).toBe(302);
    // The URL parser drops trailing control characters and encodes the rest.
    expect(location.headers.get("location")).toBe("/a%01b");
    const cookie = await fetchRoute(`${base}/cookies/set?k=v&attr[Path]=/%01`);
    expect(cookie.headers.getSetCookie()).toEqual(["k=v; Path=/; HttpOnly"]);
    expect((await fetchRoute(`${base}/healthz`)).text).toBe("ok\n");
  });

  it("origin is the first X-Forwarded-For address when there is one (go-httpbin's TestIP)", async () => {
    const { base } = await startRoutes();
    const cases = [
      [undefined, "127.0.0.1"],
      ["", "127.0.0.1"],
      ["10.1.1.1, 10.2.2.2, 10.3.3.3", "10.1.1.1"],
      ["10.1.1.1", "10.1.1.1"],
    ] as const;
    for (const [xff, origin] of cases) {
      const headers: Record<string, string> = xff === undefined ? {} : { "x-forwarded-for": xff };
      expect((await fetchJson(`${base}/ip`, { headers })).json, String(xff)).toEqual({ origin });
      expect((await fetchJson<Described>(`${base}/anything`, { headers })).json.origin).toBe(origin);
    }
  });

  it("CORS: Allow-Origin is * without Origin and mirrors Origin; a preflight on any path is answered", async () => {
    const { base } = await startRoutes();
    expect((await fetchRoute(`${base}/get`)).headers.get("access-control-allow-origin")).toBe("*");
    const withOrigin = await fetchRoute(`${base}/get`, { headers: { origin: "http://app.example" } });
    expect(withOrigin.headers.get("access-control-allow-origin")).toBe("http://app.example");
    for (const path of ["/get", "/", "/delay/30"]) {
      const pre = await fetchRoute(`${base}${path}`, { method: "OPTIONS" });
      expect(pre.status).toBe(200);
      expect(pre.ms).toBeLessThan(5000);
      expect(pre.headers.get("access-control-allow-origin")).toBe("*");
      expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
      expect(pre.headers.get("access-control-allow-methods")).toBe(
        "GET, POST, HEAD, PUT, DELETE, PATCH, OPTIONS",
      );
      expect(pre.headers.get("access-control-max-age")).toBe("3600");
      expect(pre.headers.get("access-control-allow-headers")).toBe("");
    }
    const allow = await fetchRoute(`${base}/get`, {
      method: "OPTIONS",
      headers: { "access-control-request-headers": "X-Test-Header" },
    });
    expect(allow.headers.get("access-control-allow-headers")).toBe("X-Test-Header");
  });

  it("HEAD answers like GET without a body; a method a route does not take gets 405 with Allow", async () => {
    const { base } = await startRoutes();
    for (const path of ["/get", "/anything", "/headers", "/bytes/100", "/range/26", "/uuid"]) {
      const head = await fetchRoute(`${base}${path}`, { method: "HEAD" });
      expect(head.status, path).toBe(200);
      expect(head.body.length, path).toBe(0);
    }
    const curlHead = (await curl(["-s", "-I", `${base}/bytes/100`])).toString();
    expect(curlHead).toMatch(/content-length: 100\r\n/i);
    const wrong = await fetchRoute(`${base}/uuid`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("a path under a route's family that matches no route is a 404 naming it; other paths keep the configured answer", async () => {
    const { base } = await startRoutes({ body: "configured" });
    for (const path of [
      "/bytes",
      "/bytes/",
      "/bytes/16/foo",
      "/basic-auth/user",
      "/redirect/10/foo",
      "/etag/foo/bar",
    ]) {
      const r = await fetchRoute(`${base}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.text).toContain("no route for");
    }
    const other = await fetchRoute(`${base}/some/other/path`);
    expect(other.status).toBe(200);
    expect(other.text).toBe("configured");
  });

  it("weighted /status picks only listed codes, in proportion; a bad weight or code is a 400", async () => {
    const { base } = await startRoutes();
    const seen = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const { status } = await fetchRoute(`${base}/status/200:0.7,429:0.2,503:0.1`);
      seen.set(status, (seen.get(status) ?? 0) + 1);
    }
    expect([...seen.keys()].every((s) => [200, 429, 503].includes(s))).toBe(true);
    // 140 expected out of 200: far outside this band only if the weights were ignored.
    expect(seen.get(200) ?? 0).toBeGreaterThan(100);
    expect(seen.get(200) ?? 0).toBeLessThan(180);
    expect((await fetchRoute(`${base}/status/200:0,500:1`)).status).toBe(500);
    for (const bad of [
      "/status/200:foo,500:1",
      "/status/200:1,foo:1",
      "/status/3.14",
      "/status/foo",
      "/status/600",
    ]) {
      const r = await fetchRoute(`${base}${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.text).toContain("bad status");
    }
  });
});
