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
import type { Gate, Listener } from "./transport.js";
import { StreamListener } from "./transports/stream.js";
import { UdpListener } from "./transports/udp.js";
import type { WsListener, WsListenerOptions } from "./transports/ws.js";

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
      return new UdpListener({
        address: target.address,
        ...(settings.udpIdleMs === undefined ? {} : { idleMs: settings.udpIdleMs }),
        maxDatagramBytes: Math.min(framingMax, MAX_UDP_PAYLOAD),
        stats,
        logger,
      });
    case "ws":
      return new LazyWsListener({
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

/**
 * The WebSocket door, loaded on first use: a server without a ws:// address does not
 * load the `ws` package (nor pay its memory).
 */
class LazyWsListener implements Listener {
  readonly transport = "ws" as const;
  private inner: WsListener | undefined;

  constructor(private readonly options: WsListenerOptions) {}

  get acceptCount(): number {
    return this.inner?.acceptCount ?? 0;
  }

  async open(gate: Gate) {
    const { WsListener } = await import("./transports/ws.js");
    this.inner = new WsListener(this.options);
    return this.inner.open(gate);
  }

  close(): Promise<void> {
    return this.inner?.close() ?? Promise.resolve();
  }
}
