// The responder's own routes (answered by plan.ts), declared here only so that the route
// table and /openapi.json list them with the rest.
import type { Route } from "./types.js";

export const BUILTIN_ROUTES: readonly Route[] = [
  {
    path: "/healthz",
    methods: ["GET"],
    description: '"ok" at once, never delayed',
    example: "/healthz",
  },
  {
    path: "/echo",
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    description: "the request (method, path, query, headers, body) as JSON, after the delay",
    params: [
      { name: "delay", in: "query", description: "answer after this long (≤ --max-delay)" },
      { name: "status", in: "query", description: "answer with this status" },
    ],
    example: "/echo?delay=0",
  },
  {
    path: "/delay/{delay}",
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    description: "the configured answer after this delay (seconds, or 250ms, 2s; ≤ --max-delay)",
    params: [{ name: "delay", in: "path", description: "the delay" }],
    example: "/delay/0",
  },
  {
    path: "/status/{codes}",
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    description: "the configured answer with this status; weighted choice: /status/200:9,503:1",
    params: [
      {
        name: "codes",
        in: "path",
        description: "a code (200 to 599), or code:weight,… (a weight defaults to 1)",
      },
      { name: "delay", in: "query", description: "answer after this long" },
    ],
    example: "/status/201?delay=0",
  },
];
