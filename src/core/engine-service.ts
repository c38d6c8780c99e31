// A service built around one engine server (chat around its hub, sink around its
// recorder): the contract is the engine's, member for member; a subclass adds what
// it starts before listen() and closes after shutdown().
import type { FaultRegistry } from "../faults/registry.js";
import type { Address } from "./address.js";
import type { PeerInfo } from "./connection.js";
import type { LatencyRecorder, ListenInfo } from "./contract.js";
import type { EchoplexServer } from "./server.js";
import type { Service, ServiceCounters, ServiceDescription } from "./service.js";
import type { ServiceMetric } from "./stats.js";

export abstract class EngineService<S> implements Service {
  /** The engine server underneath (its connections, its error counter). */
  abstract readonly server: EchoplexServer<S>;

  get service(): string {
    return this.server.service;
  }

  get address(): ListenInfo | undefined {
    return this.server.address;
  }

  get draining(): boolean {
    return this.server.draining;
  }

  get faults(): FaultRegistry | undefined {
    return this.server.faults;
  }

  get metrics(): readonly ServiceMetric[] {
    return this.server.metrics;
  }

  listen(...addresses: Array<string | number | Address>): Promise<ListenInfo> {
    return this.server.listen(...addresses);
  }

  shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    return this.server.shutdown(options);
  }

  stats(): ServiceCounters {
    return this.server.stats();
  }

  peers(limit?: number): PeerInfo[] {
    return this.server.peers(limit);
  }

  observeLatency(record: LatencyRecorder, every?: number): void {
    this.server.observeLatency(record, every);
  }

  describe(): ServiceDescription {
    return this.server.describe();
  }
}
