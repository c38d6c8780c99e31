// /openapi.json: an OpenAPI 3 document made from the route table itself, so it lists
// exactly the routes the responder answers.
import type { Route } from "./types.js";
import { JSON_TYPE, json } from "./types.js";

export function openApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route);
    const parameters = (route.params ?? []).map((p) => ({
      name: p.name,
      in: p.in,
      required: p.in === "path",
      description: p.description,
      schema: { type: "string" },
    }));
    if (path !== route.path) {
      parameters.push({
        name: "rest",
        in: "path",
        required: true,
        description: "any rest of the path",
        schema: { type: "string" },
      });
    }
    const ops: Record<string, unknown> = {};
    for (const method of route.methods) {
      ops[method.toLowerCase()] = {
        summary: route.description,
        ...(parameters.length > 0 ? { parameters } : {}),
        responses: { default: { description: "see docs/http-routes.md" } },
      };
    }
    paths[path] = ops;
    // A trailing wildcard also matches nothing: /anything as well as /anything/{rest}.
    if (path !== route.path) paths[path.slice(0, path.lastIndexOf("/"))] = ops;
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "echoplex http",
      version: "1",
      description: "the HTTP responder's routes (docs/http-routes.md)",
    },
    paths,
  };
}

/** The route's path as OpenAPI writes it: `/anything/{rest*}` → `/anything/{rest}`. */
export function openApiPath(route: Route): string {
  return route.path.replace(/\{(\w+)\*\}$/, "{$1}");
}

export function openApiRoute(table: readonly Route[]): Route {
  return {
    path: "/openapi.json",
    methods: ["GET"],
    description: "this document: every route of the table",
    example: "/openapi.json",
    // Read at request time: the table includes this route itself.
    handle: (r) => r.send(200, { "content-type": JSON_TYPE }, json(openApiDocument(table))),
  };
}
