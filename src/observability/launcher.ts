// How the admin endpoint creates proxies at run time (POST /api/proxies): the command
// that started a proxy attaches a launcher to it, which builds more proxies with the
// same engine settings. Kept apart from the routes so the CLI need not load them.
import type { Address } from "../core/address.js";
import type { Service } from "../core/service.js";
import type { FaultSpec } from "../faults/parse.js";

/** A proxy to create, checked already (faults parsed, upstream with a port). */
export interface ProxySpec {
  name: string;
  upstream: Address & { port: number };
  upstreamTls: boolean;
  upstreamInsecure: boolean;
  faults: FaultSpec[];
}

/** Builds a proxy that does not listen yet. */
export type ProxyLauncher = (spec: ProxySpec) => Service;

const launchers = new WeakMap<Service, ProxyLauncher>();

export function attachLauncher(service: Service, launch: ProxyLauncher): void {
  launchers.set(service, launch);
}

/** The launcher of the first of `services` that has one. */
export function findLauncher(services: readonly Service[]): ProxyLauncher | undefined {
  for (const s of services) {
    const launch = launchers.get(s);
    if (launch !== undefined) return launch;
  }
  return undefined;
}
