// A small HTTP(S) client over node:http for tests: one request, the whole answer, and how long it took.
import { type Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
  /** The client port used, to tell whether a keep-alive connection was reused. */
  localPort: number;
}

export function httpGet(
  url: string,
  options: {
    method?: string;
    body?: string;
    agent?: Agent | false;
    headers?: Record<string, string>;
    ca?: string;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  const started = Date.now();
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (options.body === undefined ? "GET" : "POST"),
        agent: options.agent ?? false,
        headers: options.headers,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const localPort = res.socket.localPort ?? 0;
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            ms: Date.now() - started,
            localPort,
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 20_000, () => req.destroy(new Error(`timed out: ${url}`)));
    req.on("error", reject);
    req.end(options.body);
  });
}
