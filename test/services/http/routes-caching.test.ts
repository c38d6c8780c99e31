// /cache, /cache/N, /etag/{etag}, /gzip, /deflate, /brotli: go-httpbin's TestCache,
// TestCacheControl, TestETag, TestGzip and TestDeflate cases, and curl --compressed.
import { createHash } from "node:crypto";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { curl, fetchRoute, rawGet, startRoutes } from "../../helpers/routes.js";

describe("caching routes", () => {
  it("/cache: Last-Modified and an ETag that is its SHA-1; any conditional header is a 304", async () => {
    const { base } = await startRoutes();
    const r = await fetchRoute(`${base}/cache`);
    expect(r.status).toBe(200);
    const lastModified = r.headers.get("last-modified");
    expect(lastModified).not.toBeNull();
    expect(r.headers.get("etag")).toBe(createHash("sha1").update(lastModified!).digest("hex"));
    expect((JSON.parse(r.text) as { url: string }).url).toBe(`${base}/cache`);
    for (const [name, value] of [
      ["if-none-match", "my-custom-etag"],
      ["if-modified-since", "my-custom-date"],
    ] as const) {
      const c = await fetchRoute(`${base}/cache`, { headers: { [name]: value } });
      expect(c.status, name).toBe(304);
      expect(c.body.length).toBe(0);
    }
  });

  it("/cache/N sets Cache-Control; bad N is 400, extra segments 404", async () => {
    const { base } = await startRoutes();
    const r = await fetchRoute(`${base}/cache/60`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(r.headers.get("cache-control")).toBe("public, max-age=60");
    expect((await fetchRoute(`${base}/cache/60/foo`)).status).toBe(404);
    expect((await fetchRoute(`${base}/cache/foo`)).status).toBe(400);
    expect((await fetchRoute(`${base}/cache/3.14`)).status).toBe(400);
  });

  it("/etag: 304 when If-None-Match names it, 412 when If-Match does not", async () => {
    const { base } = await startRoutes();
    const plain = await fetchRoute(`${base}/etag/abc`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get("etag")).toBe('"abc"');
    const cases = [
      ["abc", "if-none-match", '"abc"', 304],
      ["abc", "if-none-match", '"123", "abc"', 304],
      ["abc", "if-none-match", "*", 304],
      ["c3piozzzz", "if-none-match", 'W/"xyzzy", W/"r2d2xxxx", W/"c3piozzzz"', 304],
      ["abc", "if-none-match", '"123"', 200],
      ["abc", "if-match", '"abc"', 200],
      ["abc", "if-match", '"123", "abc"', 200],
      ["abc", "if-match", "*", 200],
      ["abc", "if-match", '"xxxxxx"', 412],
    ] as const;
    for (const [tag, name, value, status] of cases) {
      expect(
        (await fetchRoute(`${base}/etag/${tag}`, { headers: { [name]: value } })).status,
        `${name}: ${value}`,
      ).toBe(status);
    }
    expect((await fetchRoute(`${base}/etag/foo/bar`)).status).toBe(404);
  });

  it("/gzip, /deflate, /brotli send the request as JSON in that encoding, flagged in the body", async () => {
    const { base } = await startRoutes();
    const cases = [
      ["/gzip", "gzip", gunzipSync, "gzipped"],
      ["/deflate", "deflate", inflateSync, "deflated"],
      ["/brotli", "br", brotliDecompressSync, "brotli"],
    ] as const;
    for (const [path, encoding, unpack, flag] of cases) {
      const raw = await rawGet(`${base}${path}`);
      expect(raw.headers["content-encoding"], path).toBe(encoding);
      expect(Number(raw.headers["content-length"]), path).toBe(raw.body.length);
      const body = JSON.parse(unpack(raw.body).toString()) as Record<string, unknown>;
      expect(body[flag], path).toBe(true);
      expect(body.method, path).toBe("GET");
      // curl decodes each of them itself.
      const viaCurl = JSON.parse((await curl(["-s", "--compressed", `${base}${path}`])).toString()) as Record<
        string,
        unknown
      >;
      expect(viaCurl[flag], path).toBe(true);
    }
  });
});
