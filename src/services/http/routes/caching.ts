// Conditional requests and compression: /cache, /cache/N, /etag/{etag} (304, 412),
// /gzip, /deflate, /brotli (node:zlib).
import { createHash } from "node:crypto";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { described } from "./inspection.js";
import type { Route, RouteRequest } from "./types.js";
import { fail, JSON_TYPE, json, wholeNumber } from "./types.js";

function cache(r: RouteRequest): void {
  const h = r.req.headers;
  if (h["if-none-match"] !== undefined || h["if-modified-since"] !== undefined) {
    r.send(304, {}, "");
    return;
  }
  const lastModified = new Date().toUTCString();
  const etag = createHash("sha1").update(lastModified).digest("hex");
  r.send(200, { "content-type": JSON_TYPE, "last-modified": lastModified, etag }, json(described(r)));
}

function cacheFor(r: RouteRequest): void {
  const n = wholeNumber(r.params.n);
  if (n === undefined) {
    fail(r, 400, `bad max-age "${r.params.n}": use whole seconds`);
    return;
  }
  r.send(200, { "content-type": JSON_TYPE, "cache-control": `public, max-age=${n}` }, json(described(r)));
}

/** Whether an If-Match / If-None-Match list names `etag` (weak or strong, or `*`). */
export function etagListHas(list: string, etag: string): boolean {
  return list.split(",").some((item) => {
    const t = item.trim();
    return t === "*" || t.replace(/^W\//, "") === `"${etag}"`;
  });
}

function etag(r: RouteRequest): void {
  const tag = r.params.etag!;
  const headers = { etag: `"${tag}"`, "content-type": JSON_TYPE };
  const noneMatch = r.req.headers["if-none-match"];
  const match = r.req.headers["if-match"];
  if (noneMatch !== undefined && etagListHas(noneMatch, tag)) {
    r.send(304, { etag: `"${tag}"` }, "");
    return;
  }
  if (match !== undefined && !etagListHas(match, tag)) {
    fail(r, 412, `If-Match does not name "${tag}"`);
    return;
  }
  r.send(200, headers, json(described(r)));
}

function compressed(name: "gzip" | "deflate" | "br", flag: string, pack: (b: Buffer) => Buffer) {
  return (r: RouteRequest) => {
    const body = pack(Buffer.from(json({ ...described(r), [flag]: true })));
    r.send(200, { "content-type": JSON_TYPE, "content-encoding": name }, body);
  };
}

export const CACHING_ROUTES: readonly Route[] = [
  {
    path: "/cache",
    methods: ["GET"],
    description:
      "304 if If-Modified-Since or If-None-Match is sent; else the request with Last-Modified and ETag",
    params: [
      { name: "If-None-Match", in: "header", description: "any value: 304" },
      { name: "If-Modified-Since", in: "header", description: "any value: 304" },
    ],
    example: "/cache",
    handle: cache,
  },
  {
    path: "/cache/{n}",
    methods: ["GET"],
    description: "the request with Cache-Control: public, max-age=n",
    params: [{ name: "n", in: "path", description: "max-age in seconds" }],
    example: "/cache/60",
    handle: cacheFor,
  },
  {
    path: "/etag/{etag}",
    methods: ["GET"],
    description: 'ETag: "etag"; 304 when If-None-Match names it, 412 when If-Match does not',
    params: [
      { name: "etag", in: "path", description: "the entity tag" },
      { name: "If-None-Match", in: "header", description: "a list of tags (or *)" },
      { name: "If-Match", in: "header", description: "a list of tags (or *)" },
    ],
    example: "/etag/abc",
    handle: etag,
  },
  {
    path: "/gzip",
    methods: ["GET"],
    description: "the request as JSON, gzip-encoded",
    example: "/gzip",
    handle: compressed("gzip", "gzipped", gzipSync),
  },
  {
    path: "/deflate",
    methods: ["GET"],
    description: "the request as JSON, deflate-encoded",
    example: "/deflate",
    handle: compressed("deflate", "deflated", deflateSync),
  },
  {
    path: "/brotli",
    methods: ["GET"],
    description: "the request as JSON, brotli-encoded",
    example: "/brotli",
    handle: compressed("br", "brotli", brotliCompressSync),
  },
];
