// The admin HTTP endpoint (node:http): /metrics, /healthz, /readyz, /api/peers,
// /api/stats and the live status page at /. Loopback unless told otherwise.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Registry } from "prom-client";
import { type Address, formatAddress, parseAddress } from "../core/address.js";
import { type Logger, silentLogger } from "../core/logger.js";
import type { ListenInfo } from "../core/server.js";
import type { Service } from "../core/service.js";
import { EchoplexError, listenError } from "../errors.js";
import { AdminRefusals } from "./admin-refusals.js";
import { TokenCheck, tokenCookie } from "./auth.js";
import type { RelayedAnswer, RelayedRequest } from "./fault-relay.js";
import {
  error,
  type FaultTargets,
  faultRoute,
  isFaultPath,
  PROXIES_PATH,
  type ProxyFleet,
  readBody,
} from "./fault-routes.js";
import { findLauncher, type ProxyLauncher } from "./launcher.js";
import { createMetricsRegistry, sampleLatency } from "./metrics.js";
import { isProxyRoute, proxyRoute } from "./proxy-routes.js";
import {
  type PeersSnapshot,
  peersSnapshot,
  type Readiness,
  readiness,
  type StatsSnapshot,
  statsSnapshot,
} from "./snapshot.js";
import { FAVICON_SVG, STATUS_PAGE } from "./status-page.js";

/** Where the admin endpoint listens when `--admin` names only a port. */
export const ADMIN_DEFAULT_HOST = "127.0.0.1";

export interface AdminOptions {
  /** `9090`, `:9090` (both on 127.0.0.1), `0.0.0.0:9090`, `[::1]:9090`… */
  address: string | number | Address;
  /** Require `Authorization: Bearer <token>` (or the page's cookie) everywhere but /healthz. */
  token?: string;
  logger?: Logger;
  /** Time 1 read in this many for the latency histogram; default 16. */
  latencySampleEvery?: number;
  /** Include prom-client's process metrics; default true. */
  processMetrics?: boolean;
  /** Builds proxies for POST /api/proxies when none of the services brings a launcher (a proxy started empty). */
  launcher?: ProxyLauncher;
}

export interface AdminServer extends AdminEndpoint {
  readonly registry: Registry;
}

export interface AdminEndpoint {
  readonly address: ListenInfo;
  close(): Promise<void>;
}

/** Where the endpoint's answers come from: this process's services, or (under --workers) every worker's. */
export interface AdminSource {
  metrics(): Promise<{ contentType: string; text: string }>;
  stats(): Promise<StatsSnapshot>;
  peers(limit: number): Promise<PeersSnapshot>;
  readiness(): Promise<Readiness>;
  /** What /api/faults lists and changes; undefined: not here (under --workers). */
  faults?: FaultTargets;
  /** Under --workers: answers the fault routes from every worker (see fault-relay.ts). */
  relayFaults?(request: RelayedRequest): Promise<RelayedAnswer>;
}

/** Options of the HTTP side alone (what startAdminEndpoint needs). */
type EndpointOptions = Pick<AdminOptions, "address" | "token" | "logger">;

/** Starts the admin endpoint over `servers` (they may be listening already or not yet). */
export async function startAdmin(servers: readonly Service[], options: AdminOptions): Promise<AdminServer> {
  const logger = adminLogger(options.logger);
  // Proxies created at run time join this list (and leave it): every answer and scrape reads it live.
  const live: Service[] = [...servers];
  const registry = createMetricsRegistry(live, {
    logger,
    ...(options.latencySampleEvery === undefined ? {} : { latencySampleEvery: options.latencySampleEvery }),
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });
  const startedAt = Date.now();
  const launched = new Set<Service>();
  const launch = findLauncher(servers) ?? options.launcher;
  const proxies: ProxyFleet | undefined =
    launch === undefined
      ? undefined
      : {
          launch,
          added(s) {
            live.push(s);
            launched.add(s);
            sampleLatency(registry, s, options.latencySampleEvery);
            logger.info({ proxy: s.service, address: s.address?.display }, "proxy created");
          },
          removed(s) {
            const at = live.indexOf(s);
            if (at >= 0) live.splice(at, 1);
            if (launched.delete(s)) logger.info({ proxy: s.service }, "proxy deleted");
          },
        };
  const source: AdminSource = {
    metrics: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
    stats: async () => statsSnapshot(live, startedAt),
    peers: async (limit) => peersSnapshot(live, limit),
    readiness: async () => readiness(live),
    faults: { services: live, ...(proxies === undefined ? {} : { proxies }) },
  };
  const endpoint = await startAdminEndpoint(source, { ...options, logger });
  return {
    address: endpoint.address,
    registry,
    // The proxies created here drain with the process: the command's shutdown knows only its own.
    close: async () => {
      await Promise.all([...launched].map((s) => s.shutdown()));
      await endpoint.close();
    },
  };
}

function adminLogger(logger: Logger | undefined): Logger {
  return (logger ?? silentLogger()).child({ service: "admin" });
}

/** Starts the HTTP side of the admin endpoint over any source of answers. */
export async function startAdminEndpoint(
  source: AdminSource,
  options: EndpointOptions,
): Promise<AdminEndpoint> {
  const logger = options.logger ?? adminLogger(undefined);
  const parsed = typeof options.address === "object" ? options.address : parseAddress(options.address);
  const addr: Address = { host: parsed.host ?? ADMIN_DEFAULT_HOST, port: parsed.port };
  const token =
    options.token === undefined || options.token === "" ? undefined : new TokenCheck(options.token);
  let lastAuthWarn = 0;
  const refusals = new AdminRefusals(logger);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://admin");
    const path = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD" && !isFaultPath(path)) {
      res.setHeader("Allow", "GET, HEAD");
      return send(res, 405, "text/plain", "method not allowed\n");
    }
    if (path === "/healthz") return send(res, 200, "text/plain", "ok\n");
    // Public like /healthz: a browser asks for it without the page's cookie (even on the 401 page).
    if (path === "/favicon.ico") {
      return send(res, 200, "image/svg+xml", FAVICON_SVG, { "Cache-Control": "public, max-age=86400" });
    }
    if (token !== undefined && !token.allows(req)) {
      const given = url.searchParams.get("token");
      if (path === "/" && given !== null && token.matches(given)) {
        // Store the token in a cookie and drop it from the address bar and history.
        res.setHeader("Set-Cookie", tokenCookie(given));
        res.setHeader("Location", "/");
        return send(res, 303, "text/plain", "see /\n");
      }
      // At most one line a second: a client retrying without the token must not flood the log.
      if (Date.now() - lastAuthWarn >= 1000) {
        lastAuthWarn = Date.now();
        logger.warn({ remote: req.socket.remoteAddress, path }, "admin request without a valid token");
      }
      res.setHeader("WWW-Authenticate", 'Bearer realm="echoplex"');
      return send(
        res,
        401,
        "text/plain",
        "unauthorized: send Authorization: Bearer <token>, or open /?token=<token>\n",
      );
    }
    // A refused API call is counted (and logged, unless its route logs it with more).
    const answer = (logged: boolean) => (status: number, value: unknown) => {
      refusals.note(req.method ?? "GET", path, status, value, logged);
      sendJson(res, status, value);
    };
    if (source.relayFaults !== undefined && isFaultPath(path)) {
      const body = await readBody(req);
      if (body instanceof EchoplexError) return answer(false)(400, error(body.code, body.message));
      const { status, value } = await source.relayFaults({ method: req.method ?? "GET", path, body });
      return answer(false)(status, value);
    }
    if (isProxyRoute(req, path)) {
      // "proxy not created", with the reason, is the route's own line.
      const logged = path === PROXIES_PATH && source.faults?.proxies !== undefined;
      return proxyRoute(req, path, source.faults, answer(logged), logger);
    }
    if (isFaultPath(path)) return faultRoute(req, path, source.faults, answer(false));
    switch (path) {
      case "/":
        res.setHeader(
          "Content-Security-Policy",
          "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
        );
        return send(res, 200, "text/html; charset=utf-8", STATUS_PAGE);
      case "/metrics": {
        const { contentType, text } = await source.metrics();
        return send(res, 200, contentType, text + (await refusals.registry.metrics()));
      }
      case "/readyz": {
        const ready = await source.readiness();
        return sendJson(res, ready.ready ? 200 : 503, ready);
      }
      case "/api/stats":
        return sendJson(res, 200, await source.stats());
      case "/api/peers": {
        const limitText = url.searchParams.get("limit");
        const limit = limitText === null ? Number.POSITIVE_INFINITY : Number(limitText);
        if (!Number.isInteger(limit) && limit !== Number.POSITIVE_INFINITY) {
          return send(res, 400, "text/plain", "bad limit: expected a whole number\n");
        }
        return sendJson(res, 200, await source.peers(Math.max(0, limit)));
      }
      default:
        return send(
          res,
          404,
          "text/plain",
          "not found: try /, /metrics, /healthz, /readyz, /api/peers, /api/stats, /api/faults\n",
        );
    }
  };

  const http = createHttpServer(
    { requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        logger.error({ err, path: req.url }, "admin request failed");
        if (!res.headersSent) send(res, 500, "text/plain", "internal error\n");
        else res.destroy();
      });
    },
  );
  const address = await listen(http, addr);
  logger.info({ address: address.display, token: token !== undefined }, "admin listening");
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections?.();
      }),
  };
}

function listen(http: Server, addr: Address): Promise<ListenInfo> {
  const where = formatAddress(addr.host, addr.port);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, `${where} (admin)`));
    http.once("error", onError);
    http.listen({ host: addr.host, port: addr.port }, () => {
      http.off("error", onError);
      const bound = http.address();
      if (bound === null || typeof bound === "string") {
        reject(new Error(`admin endpoint: cannot read the bound address of ${where}`));
        return;
      }
      resolve({
        host: addr.host ?? bound.address,
        port: bound.port,
        family: bound.family,
        display: formatAddress(addr.host, bound.port),
        tls: false,
        transport: "tcp",
      });
    });
  });
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (status === 204) {
    res.writeHead(204, { "Cache-Control": "no-store" });
    res.end();
    return;
  }
  send(res, status, "application/json; charset=utf-8", `${JSON.stringify(value)}\n`);
}
