// /basic-auth, /bearer and /cookies: go-httpbin's TestBasicAuth, TestBearer and
// TestCookies cases, and curl's -u, -b and -c.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { curl, fetchJson, fetchRoute, startRoutes } from "../../helpers/routes.js";

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("/basic-auth", () => {
  it("200 with the right credentials for every method; 401 with WWW-Authenticate otherwise", async () => {
    const { base } = await startRoutes();
    for (const method of ["GET", "POST", "PUT", "DELETE", "PATCH"]) {
      const ok = await fetchJson(`${base}/basic-auth/user/pass`, {
        method,
        headers: { authorization: basic("user", "pass") },
      });
      expect(ok.status, method).toBe(200);
      expect(ok.json).toEqual({ authenticated: true, authorized: true, user: "user" });
      const none = await fetchJson(`${base}/basic-auth/user/pass`, { method });
      expect(none.status, method).toBe(401);
      expect(none.headers.get("www-authenticate")).toBe('Basic realm="Fake Realm"');
      expect(none.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(none.json).toEqual({ authenticated: false, authorized: false, user: "" });
      const bad = await fetchJson(`${base}/basic-auth/user/pass`, {
        method,
        headers: { authorization: basic("bad", "auth") },
      });
      expect(bad.status, method).toBe(401);
      expect(bad.json).toEqual({ authenticated: false, authorized: false, user: "bad" });
    }
    for (const path of ["/basic-auth", "/basic-auth/user", "/basic-auth/user/pass/extra"]) {
      expect(
        (await fetchRoute(`${base}${path}`, { headers: { authorization: basic("foo", "bar") } })).status,
        path,
      ).toBe(404);
    }
  });

  it("curl -u passes and a wrong password does not", async () => {
    const { base } = await startRoutes();
    const ok = (
      await curl(["-s", "-w", "\n%{http_code}", "-u", "alice:s3cret", `${base}/basic-auth/alice/s3cret`])
    ).toString();
    expect(ok.endsWith("\n200")).toBe(true);
    const wrong = (
      await curl([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-u",
        "alice:nope",
        `${base}/basic-auth/alice/s3cret`,
      ])
    ).toString();
    expect(wrong).toBe("401");
  });
});

describe("/bearer", () => {
  it("echoes a token; a missing or malformed Authorization is a 401 with WWW-Authenticate: Bearer", async () => {
    const { base } = await startRoutes();
    const ok = await fetchJson(`${base}/bearer`, { headers: { authorization: "Bearer abc123" } });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ authenticated: true, token: "abc123" });
    for (const header of ["", "Bearer", "Bearer x y", "bearer x", "Bearer1 x", "xBearer x"]) {
      const r = await fetchRoute(
        `${base}/bearer`,
        header === "" ? {} : { headers: { authorization: header } },
      );
      expect(r.status, header).toBe(401);
      expect(r.headers.get("www-authenticate"), header).toBe("Bearer");
    }
  });
});

/** The Set-Cookie lines of an answer, parsed: name, value and attributes (lower-case keys). */
function setCookies(
  headers: Headers,
): Array<{ name: string; value: string; attrs: Record<string, string | true> }> {
  return headers.getSetCookie().map((line) => {
    const [pair, ...rest] = line.split(";").map((s) => s.trim());
    const eq = pair!.indexOf("=");
    const attrs: Record<string, string | true> = {};
    for (const a of rest) {
      const i = a.indexOf("=");
      if (i < 0) attrs[a.toLowerCase()] = true;
      else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
    }
    return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attrs };
  });
}

describe("/cookies", () => {
  it("lists the cookies sent", async () => {
    const { base } = await startRoutes();
    expect((await fetchJson(`${base}/cookies`)).json).toEqual({ cookies: {} });
    expect((await fetchJson(`${base}/cookies`, { headers: { cookie: "k1=v1" } })).json).toEqual({
      cookies: { k1: "v1" },
    });
    expect((await fetchJson(`${base}/cookies`, { headers: { cookie: "k1=v1; k2=v2; k3=v3" } })).json).toEqual(
      {
        cookies: { k1: "v1", k2: "v2", k3: "v3" },
      },
    );
  });

  it("/cookies/set sets each and redirects to /cookies, with go-httpbin's attribute defaults and attr[…]", async () => {
    const { base } = await startRoutes();
    const cases: Array<[string, Record<string, string>, Record<string, string | true | undefined>]> = [
      [
        "k1=v1&k2=v2",
        {},
        { path: "/", httponly: true, secure: undefined, samesite: undefined, domain: undefined },
      ],
      ["k=v", { "x-forwarded-proto": "https" }, { secure: true }],
      ["k=v", { "x-forwarded-ssl": "on" }, { secure: true }],
      ["k=v", { "x-forwarded-protocol": "https" }, { secure: true }],
      ["k=v&attr[Secure]=true", {}, { secure: true }],
      ["k=v&attr[Secure]=1", {}, { secure: true }],
      ["k=v&attr[Secure]=false", { "x-forwarded-proto": "https" }, { secure: undefined }],
      ["k=v&attr[Secure]=bananas", {}, { secure: undefined }],
      ["k=v&attr[HttpOnly]=false", {}, { httponly: undefined, path: "/" }],
      ["k=v&attr[HttpOnly]=0", {}, { httponly: undefined }],
      ["k=v&attr[Path]=/custom", {}, { path: "/custom", httponly: true }],
      ["k=v&attr[Domain]=example.com", {}, { domain: "example.com" }],
      ["k=v&attr[SameSite]=strict", {}, { samesite: "Strict" }],
      ["k=v&attr[SameSite]=lax", {}, { samesite: "Lax" }],
      ["k=v&attr[SameSite]=none", {}, { samesite: "None" }],
      ["k=v&attr[SameSite]=bogus", {}, { samesite: undefined }],
      [
        "k=v&attr[secure]=true&attr[httponly]=false&attr[path]=/x&attr[DOMAIN]=a.com&attr[SameSite]=Lax",
        {},
        { secure: true, httponly: undefined, path: "/x", domain: "a.com", samesite: "Lax" },
      ],
    ];
    for (const [query, headers, want] of cases) {
      const r = await fetchRoute(`${base}/cookies/set?${query}`, { headers });
      expect(r.status, query).toBe(302);
      expect(r.headers.get("location"), query).toBe("/cookies");
      const cookies = setCookies(r.headers);
      expect(cookies.length, query).toBeGreaterThan(0);
      for (const c of cookies) {
        expect(c.name.startsWith("attr["), query).toBe(false);
        for (const [k, v] of Object.entries(want)) expect(c.attrs[k], `${query} ${k}`).toBe(v);
      }
    }
    const two = setCookies((await fetchRoute(`${base}/cookies/set?k1=v1&k2=v2`)).headers);
    expect(two.map((c) => [c.name, c.value])).toEqual([
      ["k1", "v1"],
      ["k2", "v2"],
    ]);
  });

  it("/cookies/delete expires the named cookie with the same attributes", async () => {
    const { base } = await startRoutes();
    const r = await fetchRoute(`${base}/cookies/delete?k2&attr[Path]=/custom&attr[Domain]=example.com`, {
      headers: { cookie: "k1=v1; k2=v2" },
    });
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe("/cookies");
    const [c] = setCookies(r.headers);
    expect(c!.name).toBe("k2");
    expect(Date.parse(c!.attrs.expires as string)).toBeLessThan(Date.now() - 364 * 24 * 3600 * 1000);
    expect(c!.attrs.path).toBe("/custom");
    expect(c!.attrs.domain).toBe("example.com");
    expect(c!.attrs.httponly).toBe(true);
  });

  it("curl's cookie jar (-c, -b, -L) keeps what /cookies/set sets and drops what /cookies/delete deletes", async () => {
    const { base } = await startRoutes();
    const dir = mkdtempSync(join(tmpdir(), "echoplex-cookies-"));
    const jar = join(dir, "jar.txt");
    try {
      const set = JSON.parse(
        (
          await curl(["-s", "-g", "-L", "-c", jar, "-b", jar, `${base}/cookies/set?flavour=oat&size=2`])
        ).toString(),
      );
      expect(set).toEqual({ cookies: { flavour: "oat", size: "2" } });
      expect(readFileSync(jar, "utf8")).toContain("flavour");
      const after = JSON.parse(
        (await curl(["-s", "-g", "-L", "-c", jar, "-b", jar, `${base}/cookies/delete?flavour`])).toString(),
      );
      expect(after).toEqual({ cookies: { size: "2" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
