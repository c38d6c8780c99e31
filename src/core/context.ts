// What every part of the engine shares: the service's handler and framing, the limits,
// the logger, the counters and the peer registry. Each part owns its own state besides.
import type { Framing } from "../codecs/types.js";
import type { EchoplexError } from "../errors.js";
import type { FaultRegistry } from "../faults/registry.js";
import type { Connection } from "./connection.js";
import type { Handler } from "./contract.js";
import type { Limits } from "./limits.js";
import type { Logger } from "./logger.js";
import type { ServerStats } from "./stats.js";

export interface EngineContext<S> {
  readonly service: string;
  readonly framing: Framing;
  readonly handler: Handler<S>;
  readonly limits: Limits;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly tls: boolean;
  readonly proxyProtocol: boolean;
  /** Every live connection by id: the peer registry. */
  readonly connections: Map<number, Connection<S>>;
  /** The service's faults (--fault, the admin API); undefined: none can ever apply. */
  readonly faults: FaultRegistry | undefined;
  /** True from the start of shutdown on. */
  draining: boolean;
}

/** The message sent before a protocol error (or a limit) closes a connection. */
export function errorNotice<S>(ctx: EngineContext<S>, err: EchoplexError): string | Buffer | undefined {
  const handler = ctx.handler;
  return handler.errorNotice !== undefined ? handler.errorNotice(err) : `ERROR: ${err.message}`;
}

export function shutdownNotice<S>(ctx: EngineContext<S>, conn: Connection<S>): string | Buffer | undefined {
  return ctx.handler.shutdownNotice?.(conn);
}

/** `2 s`, or `1500 ms` when not a whole number of seconds: for messages to peers. */
export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
