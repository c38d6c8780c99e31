// Refused requests of the admin API (/api/faults, /api/proxies): each counted in
// echoplex_admin_requests_refused_total{route,code} and logged at warn, at most once a
// second per route and code (a script retrying a bad call must not flood the log).
import { Counter, Registry } from "prom-client";
import type { Logger } from "../core/logger.js";
import { WarnThrottle } from "../core/warn-throttle.js";
import { METRIC_PREFIX } from "./metrics.js";

/** A path with its names and ids replaced, so the label's values stay few. */
export function routeOf(method: string, path: string): string {
  const shape = path
    .replace(/^\/api\/proxies\/[^/]+/, "/api/proxies/NAME")
    .replace(/\/faults\/[^/]+$/, "/faults/ID");
  return `${method} ${shape}`;
}

/** The error code of a refusal's JSON body (`{"error":{"code"}}`), or its status. */
function codeOf(status: number, value: unknown): string {
  const code = (value as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === "string" ? code : String(status);
}

export class AdminRefusals {
  /** The endpoint's own metrics: served with the services' (or the workers') on /metrics. */
  readonly registry = new Registry();
  private readonly refused: Counter<"route" | "code">;
  private readonly throttle: WarnThrottle;

  constructor(logger: Logger) {
    this.refused = new Counter({
      name: `${METRIC_PREFIX}admin_requests_refused_total`,
      help: "Admin API requests refused (answered 4xx or 5xx), by route and error code",
      labelNames: ["route", "code"],
      registers: [this.registry],
    });
    this.throttle = new WarnThrottle(logger);
  }

  /** Counts an answer of status >= 400; logs it unless the route logs its own (`logged`). */
  note(method: string, path: string, status: number, value: unknown, logged = false): void {
    if (status < 400) return;
    const route = routeOf(method, path);
    const code = codeOf(status, value);
    this.refused.inc({ route, code });
    if (logged) return;
    const message = (value as { error?: { message?: unknown } } | undefined)?.error?.message;
    this.throttle.warn(`${route} ${code}`, { route, status, code, reason: message }, "admin request refused");
  }
}
