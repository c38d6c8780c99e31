// /api/faults on the admin endpoint: list the faults of every service, add one (to all
// services or to one by name), remove one by id or all; /api/proxies the same per proxy,
// toxiproxy-style. JSON in and out; the endpoint's token check runs before these routes.
// The admin endpoint itself is never faulted.
import type { Service } from "../core/service.js";
import { EchoplexError } from "../errors.js";
import { parseFault } from "../faults/parse.js";
import type { FaultRegistry } from "../faults/registry.js";
import type { ProxyLauncher } from "./launcher.js";

/** A request body larger than this is refused: a fault is a few words. */
const MAX_BODY_BYTES = 4096;

export const FAULTS_PATH = "/api/faults";
export const PROXIES_PATH = "/api/proxies";

/** What the fault routes change: the services that take faults. */
export interface FaultTargets {
  services: readonly Service[];
  /** Creates and removes proxies at run time (POST /api/proxies, DELETE /api/proxies/NAME). */
  proxies?: ProxyFleet;
}

/** The admin endpoint's live list of services, which proxies join and leave. */
export interface ProxyFleet {
  launch: ProxyLauncher;
  /** Called once a new proxy listens: it joins /api/peers, /api/stats and the metrics. */
  added(s: Service): void;
  /** Called once a proxy has shut down. */
  removed(s: Service): void;
}

type Reply = (status: number, value: unknown) => void;

/** What the routes read of a request: its method and body (an HTTP request, or one relayed to a worker). */
export type RouteRequest = AsyncIterable<Buffer> & { readonly method?: string | undefined };

export function isFaultPath(path: string): boolean {
  return (
    path === FAULTS_PATH ||
    path.startsWith(`${FAULTS_PATH}/`) ||
    path === PROXIES_PATH ||
    path.startsWith(`${PROXIES_PATH}/`)
  );
}

/** Lists every service's faults, share and the count of faults applied. */
export function listFaults(services: readonly Service[]): unknown {
  return {
    services: withRegistry(services).map(([service, registry]) => ({
      service: service.service,
      share: registry.share,
      faults: registry.faults.map(({ id, kind, text }) => ({ id, kind, fault: text })),
      applied: Object.fromEntries(registry.applied),
    })),
  };
}

export async function faultRoute(
  req: RouteRequest,
  path: string,
  targets: FaultTargets | undefined,
  reply: Reply,
): Promise<void> {
  if (targets === undefined) {
    return reply(501, error("ERR_BAD_OPTION", "faults cannot be changed here (under --workers)"));
  }
  const all = withRegistry(targets.services);
  if (path === PROXIES_PATH) {
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, methodError("GET"));
    return reply(200, listProxies(all));
  }
  const proxy = /^\/api\/proxies\/([^/]+)\/faults(?:\/([^/]+))?$/.exec(path);
  if (proxy !== null) {
    const name = decodeURIComponent(proxy[1]!);
    const chosen = all.filter(([s, registry]) => s.service === name && registry.replyDirection !== "any");
    if (chosen.length === 0) return reply(404, error("ERR_BAD_OPTION", `no proxy ${JSON.stringify(name)}`));
    return changeFaults(req, chosen, proxy[2], reply);
  }
  if (path === FAULTS_PATH || /^\/api\/faults\/[^/]+$/.test(path)) {
    const id = path === FAULTS_PATH ? undefined : path.slice(FAULTS_PATH.length + 1);
    if ((req.method === "GET" || req.method === "HEAD") && id === undefined) {
      return reply(200, listFaults(targets.services));
    }
    return changeFaults(req, all, id, reply);
  }
  return reply(404, error("ERR_BAD_OPTION", "not found: /api/faults[/ID], /api/proxies[/NAME/faults[/ID]]"));
}

/** The proxies (services whose faults have directions), toxiproxy-style. */
function listProxies(all: ReadonlyArray<[Service, FaultRegistry]>): unknown {
  return {
    proxies: all
      .filter(([, registry]) => registry.replyDirection !== "any")
      .map(([s, registry]) => describeProxy(s, registry)),
  };
}

/** A proxy as /api/proxies shows it. */
export function describeProxy(s: Service, registry: FaultRegistry): unknown {
  return {
    name: s.service,
    listen: s.address?.display,
    summary: s.describe().summary,
    faults: registry.faults.map(({ id, kind, direction, text }) => ({
      id,
      kind,
      direction: direction ?? "both",
      fault: text,
    })),
  };
}

/** POST adds a fault to `chosen` (or to the one `"service"` names), DELETE removes one by id or all. */
async function changeFaults(
  req: RouteRequest,
  chosen: ReadonlyArray<[Service, FaultRegistry]>,
  id: string | undefined,
  reply: Reply,
): Promise<void> {
  switch (req.method) {
    case "POST": {
      if (id !== undefined) return reply(405, methodError("GET, DELETE"));
      const body = await readJson(req);
      if (body instanceof EchoplexError) return reply(400, error(body.code, body.message));
      const { fault, service } = body as { fault?: unknown; service?: unknown };
      if (typeof fault !== "string")
        return reply(400, error("ERR_FAULT_SYNTAX", 'expected {"fault": "kind=value"}'));
      const named = chosen.filter(([s]) => service === undefined || s.service === service);
      if (named.length === 0)
        return reply(404, error("ERR_BAD_OPTION", `no service ${JSON.stringify(service)} takes faults`));
      let spec: ReturnType<typeof parseFault>;
      try {
        // up:/down: only where there are directions (a proxy).
        const directions = named.every(([, registry]) => registry.replyDirection !== "any");
        spec = parseFault(fault, { directions });
      } catch (err) {
        if (!EchoplexError.is(err)) throw err;
        return reply(400, error(err.code, err.message));
      }
      const added = named.map(([s, registry]) => {
        const { id: faultId, text } = registry.add(spec);
        return { service: s.service, id: faultId, fault: text };
      });
      return reply(201, { added });
    }
    case "DELETE": {
      const registries = chosen.map(([, registry]) => registry);
      if (id === undefined) {
        let removed = 0;
        for (const registry of registries) removed += registry.clear();
        return reply(200, { removed });
      }
      const wanted = Number(id);
      const removed = Number.isInteger(wanted) ? registries.filter((r) => r.remove(wanted)).length : 0;
      return removed > 0 ? reply(200, { removed }) : reply(404, error("ERR_BAD_OPTION", `no fault ${id}`));
    }
    default:
      return reply(405, methodError("GET, POST, DELETE"));
  }
}

export function withRegistry(services: readonly Service[]): Array<[Service, FaultRegistry]> {
  const out: Array<[Service, FaultRegistry]> = [];
  for (const s of services) if (s.faults !== undefined) out.push([s, s.faults]);
  return out;
}

export function error(code: string, message: string): unknown {
  return { error: { code, message } };
}

export function methodError(allowed: string): unknown {
  return error("ERR_BAD_OPTION", `method not allowed here (allowed: ${allowed})`);
}

/** The body as text, or an error past MAX_BODY_BYTES. */
export async function readBody(req: AsyncIterable<Buffer>): Promise<string | EchoplexError> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      return new EchoplexError("ERR_BAD_OPTION", `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function readJson(req: AsyncIterable<Buffer>): Promise<unknown> {
  const body = await readBody(req);
  if (body instanceof EchoplexError) return body;
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value === "object" && value !== null) return value;
  } catch {
    // answered below
  }
  return new EchoplexError("ERR_FAULT_SYNTAX", 'expected a JSON object such as {"fault": "latency=200ms"}');
}
