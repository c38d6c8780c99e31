// `echoplex http`: the HTTP responder.
import { parseFault } from "../../faults/parse.js";
import { FaultRegistry } from "../../faults/registry.js";
import {
  FAULT_OPTIONS,
  LISTEN_OPTIONS,
  PROCESS_OPTIONS,
  TLS_OPTIONS,
  UNIX_MODE_OPTION,
} from "../../options/shared.js";
import { createHttpResponder, HTTP_DEFAULT_PORT } from "../../services/http/index.js";
import { HTTP_OPTIONS } from "../../services/http/options.js";
import { type ServiceDefinition, serviceCommand } from "../service-command.js";

export const httpService: ServiceDefinition = {
  name: "http",
  defaultPort: HTTP_DEFAULT_PORT,
  description: "answer every HTTP request after a delay (timeouts, retries and load balancer testing)",
  options: [
    ...HTTP_OPTIONS,
    ...LISTEN_OPTIONS,
    UNIX_MODE_OPTION,
    ...TLS_OPTIONS,
    ...PROCESS_OPTIONS,
    ...FAULT_OPTIONS,
  ],
  examples: `
Per-request overrides:
  /delay/{seconds}   answer after this delay (up to --max-delay)
  /status/{code}     answer with this status
  ?delay=2s&status=503  the same on any path
  /echo              the request (method, path, headers, body) as JSON
  /healthz           "ok" at once, never delayed
  /anything, /bytes/N, /sse, /ws, /redirect-to?url=…  httpbin-style routes: /openapi.json lists them

Examples:
  echoplex http                        listen on :${HTTP_DEFAULT_PORT}, "Hello World!" after 4s
  echoplex http 127.0.0.1:0 --delay 250ms
  echoplex http --status 503 --header 'Retry-After: 5'
  echoplex http --admin 9090          metrics, peers and a status page on 127.0.0.1:9090
  echoplex http --tls-self-signed      HTTPS with a generated certificate
  echoplex http unix:/tmp/http.sock    on a Unix socket (curl --unix-socket /tmp/http.sock http://x/)`,
  create(values, { logger, tls }) {
    return createHttpResponder({
      delayMs: values.delay as number,
      status: values.status as number,
      body: values.body as string,
      headers: values.headers as Array<[string, string]>,
      maxDelayMs: values.maxDelay as number,
      headersTimeoutMs: values.headersTimeout as number,
      requestTimeoutMs: values.requestTimeout as number,
      keepAliveTimeoutMs: values.keepAliveTimeout as number,
      maxBodyBytes: values.maxBody as number,
      maxConnections: values.maxConnections as number,
      maxPipeline: values.maxPipeline as number,
      maxBytes: values.maxBytes as number,
      allowOpenRedirect: values.allowOpenRedirect as boolean,
      ...(values.drainTimeout === undefined ? {} : { drainTimeoutMs: values.drainTimeout as number }),
      ...(values.unixMode === undefined ? {} : { unixMode: Number.parseInt(values.unixMode as string, 8) }),
      // Always a registry, empty without --fault: the admin API may add faults at run time.
      faults: new FaultRegistry(
        ((values.fault as string[] | undefined) ?? []).map((text) => parseFault(text)),
        values.faultShare as number,
      ),
      logger,
      tls,
    });
  },
};

export const httpCommand = () => serviceCommand(httpService);
