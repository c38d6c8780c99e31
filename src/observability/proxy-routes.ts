// POST /api/proxies creates a proxy at run time, GET/DELETE /api/proxies/NAME shows or
// removes one (toxiproxy's /proxies). A removed proxy drains as at shutdown: what is in
// flight is delivered, then its listener and connections close.
import { z } from "zod";
import { parseAddress } from "../core/address.js";
import type { Logger } from "../core/logger.js";
import type { Service } from "../core/service.js";
import { EchoplexError } from "../errors.js";
import { type FaultSpec, parseFault } from "../faults/parse.js";
import {
  describeProxy,
  error,
  type FaultTargets,
  methodError,
  PROXIES_PATH,
  type RouteRequest,
  readJson,
  withRegistry,
} from "./fault-routes.js";

type Reply = (status: number, value: unknown) => void;

const ONE_PROXY = /^\/api\/proxies\/([^/]+)$/;

const CreateBody = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
      "letters, digits, _ . - (at most 64, a letter or digit first)",
    ),
  listen: z.string().min(1),
  upstream: z.string().min(1),
  upstreamTls: z.boolean().default(false),
  upstreamInsecure: z.boolean().default(false),
  faults: z.array(z.string()).max(64).default([]),
});

const EXPECTED =
  'expected a JSON object such as {"name":"redis","listen":"127.0.0.1:0","upstream":"127.0.0.1:6379"}';

/** True for the requests this module answers (the rest of /api/proxies is the fault routes'). */
export function isProxyRoute(req: RouteRequest, path: string): boolean {
  return (path === PROXIES_PATH && req.method === "POST") || ONE_PROXY.test(path);
}

/** True for the requests that create or delete a proxy (not its faults). */
export function changesFleet(method: string, path: string): boolean {
  return (path === PROXIES_PATH && method === "POST") || (ONE_PROXY.test(path) && method === "DELETE");
}

/** The answer where proxies cannot be created or deleted. */
export const NO_FLEET = error(
  "ERR_BAD_OPTION",
  "proxies cannot be created or deleted here (not a proxy command, or under --workers, where each worker would need its own); their faults can be changed",
);

export async function proxyRoute(
  req: RouteRequest,
  path: string,
  targets: FaultTargets | undefined,
  reply: Reply,
  logger?: Logger,
): Promise<void> {
  const fleet = targets?.proxies;
  if (targets === undefined || (fleet === undefined && req.method !== "GET" && req.method !== "HEAD")) {
    return reply(501, NO_FLEET);
  }
  if (path === PROXIES_PATH) {
    // A refused proxy is logged with its reason: whoever scripted the call may not read the answer.
    return create(req, targets, (status, value) => {
      if (status >= 400) logger?.warn({ status, ...(value as object) }, "proxy not created");
      reply(status, value);
    });
  }
  const name = decodeURIComponent(ONE_PROXY.exec(path)![1]!);
  const found = withRegistry(targets.services).find(
    ([s, registry]) => s.service === name && registry.replyDirection !== "any",
  );
  if (found === undefined) return reply(404, error("ERR_BAD_OPTION", `no proxy ${JSON.stringify(name)}`));
  const [service, registry] = found;
  switch (req.method) {
    case "GET":
    case "HEAD":
      return reply(200, describeProxy(service, registry));
    case "DELETE":
      if (fleet === undefined) return reply(501, NO_FLEET);
      await service.shutdown();
      fleet.removed(service);
      return reply(204, undefined);
    default:
      return reply(405, methodError("GET, DELETE"));
  }
}

/** Names being created: a second POST with the same name before the first listens is a conflict too. */
const pending = new Set<string>();

async function create(req: RouteRequest, targets: FaultTargets, reply: Reply): Promise<void> {
  const fleet = targets.proxies!;
  const body = await readJson(req);
  if (body instanceof EchoplexError) {
    const unreadable = body.code === "ERR_FAULT_SYNTAX";
    return reply(400, error("ERR_BAD_OPTION", unreadable ? EXPECTED : body.message));
  }
  const parsed = CreateBody.safeParse(body);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message))
      .join("; ");
    return reply(400, error("ERR_BAD_OPTION", reason));
  }
  const spec = parsed.data;
  if (pending.has(spec.name) || targets.services.some((s) => s.service === spec.name)) {
    return reply(409, error("ERR_BAD_OPTION", `a service named ${JSON.stringify(spec.name)} exists`));
  }
  let faults: FaultSpec[];
  let upstream: ReturnType<typeof parseAddress>;
  try {
    faults = spec.faults.map((text) => parseFault(text, { directions: true }));
    upstream = parseAddress(spec.upstream);
    if (upstream.port === undefined) {
      throw new EchoplexError("ERR_BAD_ADDRESS", `upstream "${spec.upstream}" needs a port`);
    }
  } catch (err) {
    if (!EchoplexError.is(err)) throw err;
    return reply(400, error(err.code, err.message));
  }
  pending.add(spec.name);
  let service: Service | undefined;
  try {
    service = fleet.launch({
      name: spec.name,
      upstream: { host: upstream.host, port: upstream.port },
      upstreamTls: spec.upstreamTls,
      upstreamInsecure: spec.upstreamInsecure,
      faults,
    });
    await service.listen(spec.listen);
  } catch (err) {
    await service?.shutdown({ drainTimeoutMs: 0 });
    if (!EchoplexError.is(err)) throw err;
    return reply(400, error(err.code, err.message));
  } finally {
    pending.delete(spec.name);
  }
  fleet.added(service);
  return reply(201, describeProxy(service, service.faults!));
}
