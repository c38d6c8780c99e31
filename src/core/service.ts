// The one contract every service fulfils (echo, cmd, chat, sink, http, and any a user
// writes): how it starts and stops, and what the admin endpoint, `serve` and the
// start-up lines read of it. Nothing reads a service through anything else.
import type { FaultRegistry } from "../faults/registry.js";
import type { Address } from "./address.js";
import type { PeerInfo } from "./connection.js";
import type { LatencyRecorder, ListenInfo } from "./contract.js";
import type { ServiceMetric, TrafficTotals } from "./stats.js";

/** A service's counters since start, read when scraped. */
export interface ServiceCounters extends TrafficTotals {
  connectionsActive: number;
  connectionsOpened: number;
  /** Refused connections by reason (max_connections, max_connections_per_ip). */
  rejected: ReadonlyMap<string, number>;
  /** Errors by code (ERR_LINE_TOO_LONG, ERR_IDLE_TIMEOUT, …). */
  errors: ReadonlyMap<string, number>;
  /** Times reading from a peer stopped because it did not read its replies (HTTP: at --max-pipeline). */
  backpressurePauses: number;
  tlsHandshakeFailures: number;
  /** Connections open now, by transport (tcp, tls, unix, ws, udp): one service may have several doors. */
  activeByTransport: ReadonlyMap<string, number>;
  /** Connections accepted since start, by transport. */
  openedByTransport: ReadonlyMap<string, number>;
}

/** What a service is, in words: the start-up line and the status page show it. */
export interface ServiceDescription {
  /** The service's name (`echo`, `chat`…), as `Service.service`. */
  name: string;
  /** How its peers' bytes become messages: `lines`, `length`, `raw`, `http`. */
  framing: string;
  /** True when peers must speak TLS. */
  tls: boolean;
  /** One line on this instance's settings, shown after its address at start-up: `lines, prefix "ECHO: "`. */
  summary: string;
}

export interface Service {
  /** Its name: the `service` label of its metrics and log lines. */
  readonly service: string;
  /** Where it listens, once listen() resolved. */
  readonly address: ListenInfo | undefined;
  /** True from the start of shutdown on (`/readyz` answers 503). */
  readonly draining: boolean;
  /** Its own metrics (chat rooms, records written), read when scraped. */
  readonly metrics: readonly ServiceMetric[];
  /** Its injected faults (--fault), listed and changed by /api/faults; undefined: it takes none. */
  readonly faults?: FaultRegistry | undefined;
  /**
   * Starts listening. `address` takes the forms `8080`, `:8080`, `127.0.0.1:8080`,
   * `[::1]:8080`, `localhost:8080`; port 0 picks a free port (see the result).
   */
  listen(...addresses: Array<string | number | Address>): Promise<ListenInfo>;
  /**
   * Graceful shutdown: stop accepting, answer what was received, tell the peers, wait for
   * the replies to leave; force-close what is left after `drainTimeoutMs`. Safe to call twice.
   */
  shutdown(options?: { drainTimeoutMs?: number }): Promise<void>;
  /** Its counters since start (connections, traffic, refusals and errors by code). */
  stats(): ServiceCounters;
  /** The live connections (the oldest `limit`), with the service's details for each. */
  peers(limit?: number): PeerInfo[];
  /** Calls `record(ms)` for the time from a request's arrival to the write of its reply (1 in `every`, or all). */
  observeLatency(record: LatencyRecorder, every?: number): void;
  /** What it is: name, framing, TLS, and the one-line summary of its settings. */
  describe(): ServiceDescription;
}
