// Which listener serves an address form: the engine's own doors (TCP, TLS, Unix, UDP,
// WebSocket) built from the server's settings. A new transport is a new case here and
// a Listener in src/core/transports/.
import type { TlsOptions } from "node:tls";
import type { Framing } from "../codecs/types.js";
import { EchoplexError } from "../errors.js";
import type { Address } from "./address.js";
import type { TransportOptions } from "./contract.js";
import type { Limits } from "./limits.js";
import { parseListenAddress } from "./listen-address.js";
import type { Logger } from "./logger.js";
import type { ServerStats } from "./stats.js";
import type { Gate, Listener, TransportKind } from "./transport.js";
import { StreamListener } from "./transports/stream.js";
import type { UdpListenerOptions } from "./transports/udp.js";
import type { WsListenerOptions } from "./transports/ws.js";

/** The most an IPv4 UDP datagram carries. */
const MAX_UDP_PAYLOAD = 65_507;
/** A WebSocket message limit for framings without one (raw). */
const DEFAULT_WS_MAX_MESSAGE = 1024 * 1024;

export interface DoorSettings extends TransportOptions {
  service: string;
  tls: TlsOptions | undefined;
  proxyProtocol: boolean;
  framing: Framing;
  limits: Limits;
  stats: ServerStats;
  logger: Logger;
}

export function listenerFor(input: string | number | Address, settings: DoorSettings): Listener {
  const target = parseListenAddress(input);
  const { stats, logger } = settings;
  const tlsFor = (wanted: boolean | undefined): TlsOptions | undefined => {
    const tls = wanted ?? settings.tls !== undefined;
    if (tls && settings.tls === undefined) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        `${String(input)}: this address needs TLS options (--tls-cert and --tls-key)`,
      );
    }
    return tls ? settings.tls : undefined;
  };
  const stream = (address: Address | { path: string }, tls: TlsOptions | undefined) =>
    new StreamListener({
      address,
      tls,
      unixMode: settings.unixMode,
      proxyProtocol: settings.proxyProtocol,
      proxyHeaderTimeoutMs: settings.limits.proxyHeaderTimeoutMs,
      stats,
      logger,
    });
  const framingMax = settings.framing.maxMessageBytes;
  switch (target.transport) {
    case "tcp":
      return stream(target.address, tlsFor(target.tls));
    case "unix":
      return stream({ path: target.path }, undefined);
    case "udp":
      return lazyUdp({
        address: target.address,
        ...(settings.udpIdleMs === undefined ? {} : { idleMs: settings.udpIdleMs }),
        maxDatagramBytes: Math.min(framingMax, MAX_UDP_PAYLOAD),
        stats,
        logger,
      });
    case "ws":
      return lazyWs({
        address: target.address,
        path: target.path,
        tls: tlsFor(target.tls),
        maxMessageBytes:
          settings.wsMaxMessageBytes ?? (Number.isFinite(framingMax) ? framingMax : DEFAULT_WS_MAX_MESSAGE),
        ...(settings.wsPingMs === undefined ? {} : { pingMs: settings.wsPingMs }),
        origins: settings.wsOrigins,
        page: settings.wsPage,
        service: settings.service,
        stats,
        logger,
      });
  }
}

// The UDP and WebSocket doors are loaded on first use: a server without such an address
// loads neither node:dgram nor the `ws` package (nor pays their memory).
const lazyUdp = (options: UdpListenerOptions): Listener =>
  new LazyListener("udp", async () => new (await import("./transports/udp.js")).UdpListener(options));
const lazyWs = (options: WsListenerOptions): Listener =>
  new LazyListener("ws", async () => new (await import("./transports/ws.js")).WsListener(options));

/** A door whose module is imported when it opens. */
class LazyListener implements Listener {
  private inner: Listener | undefined;

  constructor(
    readonly transport: TransportKind,
    private readonly load: () => Promise<Listener>,
  ) {}

  get acceptCount(): number {
    return this.inner?.acceptCount ?? 0;
  }

  async open(gate: Gate) {
    this.inner = await this.load();
    return this.inner.open(gate);
  }

  close(): Promise<void> {
    return this.inner?.close() ?? Promise.resolve();
  }
}
