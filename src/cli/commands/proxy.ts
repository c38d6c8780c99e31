// `echoplex proxy`: a TCP proxy with fault injection (docs/proxy.md).
import { parseAddress } from "../../core/address.js";
import { EchoplexError } from "../../errors.js";
import { parseFault } from "../../faults/parse.js";
import { FaultRegistry } from "../../faults/registry.js";
import { attachLauncher, type ProxyLauncher } from "../../observability/launcher.js";
import { LINE_SERVICE_OPTIONS } from "../../options/shared.js";
import { type OptionValues, withDefault } from "../../options/spec.js";
import { createProxyServer, PROXY_DEFAULT_PORT } from "../../services/proxy/index.js";
import { PROXY_FAULT_OPTION, PROXY_OPTIONS } from "../../services/proxy/options.js";
import { type CommonServiceFlags, engineOptionsFromFlags } from "../options.js";
import { type ServiceContext, type ServiceDefinition, serviceCommand } from "../service-command.js";

/** Bytes pass through as they are: no framing, no line limits; an idle database connection stays. */
const NOT_FOR_A_PROXY = new Set(["framing", "maxLine", "fault"]);

export const proxyService: ServiceDefinition = {
  name: "proxy",
  defaultPort: PROXY_DEFAULT_PORT,
  description: "TCP proxy to one upstream, with injected faults per direction (like toxiproxy)",
  options: [
    ...PROXY_OPTIONS,
    PROXY_FAULT_OPTION,
    ...LINE_SERVICE_OPTIONS.filter((s) => !NOT_FOR_A_PROXY.has(s.name)).map((s) =>
      s.name === "idleTimeout" || s.name === "lineTimeout" ? withDefault(s, 0, "0s") : s,
    ),
  ],
  examples: `
Examples:
  echoplex proxy 127.0.0.1:6380 --to 127.0.0.1:6379                      Redis through the proxy
  echoplex proxy 127.0.0.1:6380 --to 127.0.0.1:6379 --fault latency=50ms 50 ms more each way's write
  echoplex proxy :5433 --to db:5432 --fault down:bandwidth=64k --fault up:reset=0.01
  echoplex proxy --admin 127.0.0.1:8474 --admin-token T                  no proxy yet: POST /api/proxies creates them`,
  checkCommand(values, positional) {
    if (values.to !== undefined) return;
    // LISTEN (or --port) names a proxy, which needs its upstream.
    if (positional.length > 0 || values.port !== undefined) {
      throw new EchoplexError("ERR_USAGE", "proxy LISTEN needs --to HOST:PORT (the upstream)");
    }
    if (values.admin === undefined) {
      throw new EchoplexError(
        "ERR_USAGE",
        "proxy needs LISTEN --to HOST:PORT, or --admin ADDR alone to start empty and create proxies with POST /api/proxies",
      );
    }
    if (((values.fault as string[] | undefined) ?? []).length > 0) {
      throw new EchoplexError(
        "ERR_USAGE",
        'proxy --fault needs LISTEN --to HOST:PORT; a proxy created with POST /api/proxies takes "faults" in its body',
      );
    }
    if ((values.workers as number) > 1) {
      throw new EchoplexError(
        "ERR_USAGE",
        "proxy with --workers needs LISTEN --to HOST:PORT: POST /api/proxies does not create proxies under --workers",
      );
    }
  },
  // toxiproxy-server's start: only the admin endpoint, proxies created at run time.
  emptyStart: (values, positional, ctx) =>
    values.to === undefined && positional.length === 0 && values.port === undefined
      ? proxyLauncher(values, ctx)
      : undefined,
  create(values, ctx) {
    const to = values.to as string | undefined;
    if (to === undefined) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        "proxy needs its upstream: --to HOST:PORT (to: in a serve config)",
      );
    }
    const upstream = parseAddress(to);
    if (upstream.port === undefined) throw new EchoplexError("ERR_BAD_ADDRESS", `--to "${to}" needs a port`);
    const launch = proxyLauncher(values, ctx);
    const first = launch({
      name: "proxy",
      upstream: { host: upstream.host, port: upstream.port },
      upstreamTls: values.toTls === true,
      upstreamInsecure: values.toInsecure === true,
      faults: ((values.fault as string[] | undefined) ?? []).map((text) =>
        parseFault(text, { directions: true }),
      ),
    });
    // POST /api/proxies builds more with the same engine settings (limits, TLS, --fault-share).
    attachLauncher(first, launch);
    return first;
  },
};

/** Builds proxies with the command's engine settings (limits, TLS, --fault-share). */
function proxyLauncher(values: OptionValues, { logger, tls }: ServiceContext): ProxyLauncher {
  const flags = values as unknown as CommonServiceFlags;
  const engine = { ...engineOptionsFromFlags({ ...flags, fault: [] }), logger, tls };
  return (spec) =>
    createProxyServer({
      ...engine,
      name: spec.name,
      faults: new FaultRegistry(spec.faults, flags.faultShare, "down"),
      upstream: spec.upstream,
      upstreamTls: spec.upstreamTls ? { insecure: spec.upstreamInsecure } : undefined,
    });
}

export const proxyCommand = () => serviceCommand(proxyService);
