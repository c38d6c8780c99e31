// `echoplex proxy`: a TCP proxy on the engine. Any door in (TCP, TLS, Unix, WebSocket),
// TCP or TLS out to one upstream; the bytes pass as they are (raw framing). Faults apply
// per direction: `down` through the engine's fault stage on the client connection, `up`
// through a stage on the upstream socket. Backpressure both ways: a full upstream holds
// the client's input; a client that does not read pauses the upstream.
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { raw } from "../../codecs/raw.js";
import type { Address } from "../../core/address.js";
import { formatAddress } from "../../core/address.js";
import type { Connection } from "../../core/connection.js";
import { createServer, type EchoplexServer, type Handler, type ServerOptions } from "../../core/server.js";
import { counter, gauge } from "../../core/stats.js";
import { everyTick, type TickTask } from "../../core/ticker.js";
import { FaultStage } from "../../faults/apply.js";
import type { FaultRegistry } from "../../faults/registry.js";

export const PROXY_DEFAULT_PORT = 7070;
/** How often a paused upstream checks whether its client caught up. */
const RESUME_CHECK_MS = 20;
/** Every plain upstream socket reads into this one buffer (see onConnect). */
const UPSTREAM_READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

export interface ProxyOptions extends Omit<ServerOptions<ProxyPeer>, "handler" | "framing" | "service"> {
  /** Its service name (metrics label, /api/proxies/NAME); default `proxy`. */
  name?: string | undefined;
  /** Where every connection is forwarded. */
  upstream: Address & { port: number };
  /** TLS to the upstream; `insecure` accepts any certificate. */
  upstreamTls?: { insecure?: boolean; servername?: string } | undefined;
}

export interface ProxyPeer {
  upstream: Socket | undefined;
  /** The `up` fault stage, once the connection is faulted. */
  up: FaultStage | undefined;
  upBytes: number;
  downBytes: number;
  /** The upstream is paused because the client does not read. */
  paused: boolean;
}

class ProxyCounters {
  upstreamOpened = 0;
  upstreamFailed = 0;
  bytesUp = 0;
  bytesDown = 0;
  readonly paused = new Set<Connection<ProxyPeer>>();
  resumeTask: TickTask | undefined;
}

export function proxyHandler(
  options: ProxyOptions,
  counters: ProxyCounters,
  highWater: () => number,
): Handler<ProxyPeer> {
  const { upstream: target, upstreamTls } = options;
  const where = formatAddress(target.host, target.port);
  const registry: FaultRegistry | undefined = options.faults;

  const resumeCheck = () => {
    for (const conn of counters.paused) {
      if (conn.status !== "open" || conn.pendingBytes <= highWater() / 2) {
        counters.paused.delete(conn);
        conn.state.paused = false;
        conn.state.upstream?.resume();
      }
    }
    if (counters.paused.size === 0) {
      counters.resumeTask?.stop();
      counters.resumeTask = undefined;
    }
  };

  const upStage = (conn: Connection<ProxyPeer>, socket: Socket): FaultStage | undefined => {
    if (registry === undefined || !conn.faulted) return undefined;
    conn.state.up ??= new FaultStage(
      socket,
      registry,
      {
        applied: (kind) => registry.count(kind),
        hold: () => conn.holdInput(),
        release: () => conn.releaseInput(),
      },
      { direction: "up", holdAboveBytes: highWater() },
    );
    return conn.state.up;
  };

  return {
    createState: () => ({ upstream: undefined, up: undefined, upBytes: 0, downBytes: 0, paused: false }),
    onConnect(conn) {
      const host = target.host ?? "127.0.0.1";
      const fromUpstream = (chunk: Buffer): void => {
        conn.state.downBytes += chunk.length;
        counters.bytesDown += chunk.length;
        conn.send(chunk);
        conn.flush();
        if (!conn.state.paused && conn.pendingBytes > highWater()) {
          conn.state.paused = true;
          socket.pause();
          counters.paused.add(conn);
          counters.resumeTask ??= everyTick(RESUME_CHECK_MS, resumeCheck);
        }
      };
      // Plain TCP reads into one shared buffer (`onread`): no 64 KiB allocation and no
      // stream bookkeeping per read. The bytes are copied out before the buffer is read
      // into again, because a write the kernel does not take at once keeps its buffer.
      const socket: Socket =
        upstreamTls === undefined
          ? netConnect({
              host,
              port: target.port,
              noDelay: true,
              onread: {
                buffer: UPSTREAM_READ_BUFFER,
                callback: (bytes: number, buffer: Uint8Array): boolean => {
                  fromUpstream(Buffer.from(buffer.subarray(0, bytes)));
                  return !conn.state.paused;
                },
              },
            })
          : tlsConnect({
              host,
              port: target.port,
              servername: upstreamTls.servername ?? host,
              rejectUnauthorized: upstreamTls.insecure !== true,
            });
      conn.state.upstream = socket;
      socket.setNoDelay(true);
      let connected = false;
      socket.once(upstreamTls === undefined ? "connect" : "secureConnect", () => {
        connected = true;
        counters.upstreamOpened++;
      });
      if (upstreamTls !== undefined) socket.on("data", fromUpstream);
      socket.on("end", () => conn.close("peer closed"));
      socket.on("error", (err: NodeJS.ErrnoException) => {
        if (!connected) counters.upstreamFailed++;
        options.logger?.warn(
          { conn: conn.id, upstream: where, err: err.message, code: err.code },
          "upstream failed",
        );
        conn.close("closed by service");
      });
      socket.on("close", () => conn.close("closed by service"));
    },
    onMessage(conn, payload) {
      const socket = conn.state.upstream;
      if (socket === undefined || socket.destroyed) return;
      conn.state.upBytes += payload.length;
      counters.bytesUp += payload.length;
      const stage = conn.state.up ?? upStage(conn, socket);
      if (stage !== undefined) {
        stage.write(payload);
        return;
      }
      if (!socket.write(payload)) {
        conn.holdInput();
        socket.once("drain", () => conn.releaseInput());
      }
    },
    onEnd(conn) {
      // The client's FIN goes upstream once its bytes have left; the upstream's answer still comes back.
      const socket = conn.state.upstream;
      const stage = conn.state.up;
      if (stage === undefined) socket?.end();
      else stage.whenIdle(() => socket?.end());
    },
    onClose(conn) {
      counters.paused.delete(conn);
      conn.state.upstream?.destroy();
    },
    describe: (conn) => ({ upstream: where, bytesUp: conn.state.upBytes, bytesDown: conn.state.downBytes }),
    metrics: [
      counter(
        "proxy_upstream_connections_total",
        "Upstream connections opened",
        () => counters.upstreamOpened,
      ),
      counter(
        "proxy_upstream_failures_total",
        "Upstream connections that failed",
        () => counters.upstreamFailed,
      ),
      counter(
        "proxy_bytes_total",
        "Bytes forwarded, by direction",
        () => [
          { labels: { direction: "up" }, value: counters.bytesUp },
          { labels: { direction: "down" }, value: counters.bytesDown },
        ],
        ["direction"],
      ),
      gauge(
        "proxy_paused_upstreams",
        "Upstreams paused for a client that does not read",
        () => counters.paused.size,
      ),
    ],
  };
}

/** Creates the proxy (call listen()). */
export function createProxyServer(options: ProxyOptions): EchoplexServer<ProxyPeer> {
  const counters = new ProxyCounters();
  const { upstream, upstreamTls, name, ...engine } = options;
  let server: EchoplexServer<ProxyPeer> | undefined;
  server = createServer<ProxyPeer>({
    ...engine,
    service: name ?? "proxy",
    summary: `to ${formatAddress(upstream.host, upstream.port)}${upstreamTls === undefined ? "" : " over TLS"}`,
    framing: raw(),
    handler: proxyHandler(options, counters, () => server?.limits.highWaterBytes ?? 256 * 1024),
  });
  return server;
}
