// /openapi.json is made from the route table: every route is in it, every path it lists
// answers (no 404, 405 or 5xx), and its methods are the ones the route takes.
import { describe, expect, it } from "vitest";
import { openApiPath } from "../../../src/services/http/routes/openapi.js";
import { ROUTES } from "../../../src/services/http/routes/table.js";
import { fetchJson, fetchRoute, startRoutes } from "../../helpers/routes.js";

interface OpenApi {
  openapi: string;
  paths: Record<
    string,
    Record<string, { summary: string; parameters?: Array<{ name: string; in: string }> }>
  >;
}

describe("/openapi.json", () => {
  it("lists every route of the table with its methods and path parameters", async () => {
    const { base } = await startRoutes();
    const { status, json } = await fetchJson<OpenApi>(`${base}/openapi.json`);
    expect(status).toBe(200);
    expect(json.openapi).toMatch(/^3\./);
    expect(ROUTES.length).toBeGreaterThanOrEqual(30);
    for (const route of ROUTES) {
      const path = openApiPath(route);
      const ops = json.paths[path];
      expect(ops, path).toBeDefined();
      expect(Object.keys(ops!).sort(), path).toEqual(route.methods.map((m) => m.toLowerCase()).sort());
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        const params = Object.values(ops!)[0]!.parameters ?? [];
        expect(
          params.some((p) => `{${p.name}}` === name && p.in === "path"),
          `${path} ${name}`,
        ).toBe(true);
      }
    }
    for (const issueRoute of [
      "/anything/{rest}",
      "/headers",
      "/ip",
      "/user-agent",
      "/uuid",
      "/bytes/{n}",
      "/stream/{n}",
      "/stream-bytes/{n}",
      "/drip",
      "/sse",
      "/redirect/{n}",
      "/relative-redirect/{n}",
      "/redirect-to",
      "/response-headers",
      "/gzip",
      "/deflate",
      "/brotli",
      "/cache",
      "/etag/{etag}",
      "/range/{n}",
      "/basic-auth/{user}/{password}",
      "/bearer",
      "/cookies",
      "/ws",
      "/openapi.json",
      "/delay/{delay}",
      "/status/{codes}",
      "/echo",
      "/healthz",
    ]) {
      expect(json.paths[issueRoute], issueRoute).toBeDefined();
    }
  });

  it("every route's example answers with each of its methods, HEAD and OPTIONS", async () => {
    const { base } = await startRoutes({ body: "configured" });
    for (const route of ROUTES) {
      for (const method of [
        ...route.methods,
        ...(route.methods.includes("GET") ? ["HEAD"] : []),
        "OPTIONS",
      ]) {
        const r = await fetchRoute(`${base}${route.example}`, { method });
        expect(
          [404, 405].includes(r.status) || r.status >= 500,
          `${method} ${route.example}: ${r.status}`,
        ).toBe(false);
        // The responder's configured answer would mean the route was never dispatched.
        if (route.handle !== undefined && method !== "OPTIONS" && method !== "HEAD") {
          expect(r.text, `${method} ${route.example}`).not.toBe("configured");
        }
      }
    }
  });
});
