// What a benchmark run is asked to do: one plain, serialisable object per mode, so
// the same options can be handed to worker processes unchanged.

export type BenchMode = "echo" | "cmd" | "chat" | "connect" | "http";
export const BENCH_MODES: readonly BenchMode[] = ["echo", "cmd", "chat", "connect", "http"];

/** When the run stops: after a measured time (with a warm-up first) or after N requests. */
export type StopRule =
  | { kind: "duration"; durationMs: number; warmupMs: number }
  | { kind: "requests"; count: number };

/** TLS settings, as PEM text so that they reach --workers processes as they are. */
export interface BenchTls {
  /** Skip verification of the server's certificate. */
  insecure: boolean;
  /** Trusted authorities instead of the system's. */
  ca?: string;
  /** Client certificate and its key, for servers that require one (mutual TLS). */
  cert?: string;
  key?: string;
  /** SNI and the name checked in the certificate; default: the host, if it is a name. */
  servername?: string;
}

export interface TcpTarget {
  host: string;
  port: number;
  /** TLS (node:tls) on top of TCP. */
  tls?: BenchTls;
}

interface Common {
  /** Connections (chat: receivers). */
  conns: number;
  stop: StopRule;
  /** Requests per second over all connections, open loop; 0 = closed loop. */
  rate: number;
  /** Give up on outstanding replies after this long without progress. */
  timeoutMs: number;
}

export interface EchoBenchOptions extends Common {
  mode: "echo";
  target: TcpTarget;
  framing: "lines" | "length";
  pipeline: number;
  /** Payload: `size` bytes of sequence number and letters, or the sequence number then `message`. */
  payload: { size: number } | { message: string };
  /** Reply prefix; undefined = learn it from a probe line before the run. */
  prefix: string | undefined;
}

export interface CmdBenchOptions extends Common {
  mode: "cmd";
  target: TcpTarget;
  framing: "lines" | "length";
  pipeline: number;
  /** The request line (or frame) sent again and again, e.g. `PING`. */
  message: string;
  /** When set, each reply must equal this exactly (line ending excluded). */
  expect: string | undefined;
}

export interface ChatBenchOptions extends Common {
  mode: "chat";
  target: TcpTarget;
  senders: number;
  /** Messages each sender keeps undelivered (to every receiver) at once in closed loop. */
  pipeline: number;
  /** Bytes per chat line (marker and padding), at least the marker's length. */
  size: number;
  /** Line each client sends on connect; `%d` is replaced by the client's index. */
  hello: string | undefined;
}

export interface ConnectBenchOptions extends Common {
  mode: "connect";
  target: TcpTarget;
  /** Dials in flight at once (closed loop). */
  parallel: number;
}

export interface HttpBenchOptions extends Common {
  mode: "http";
  url: string;
  method: "GET" | "POST";
  /** Request body for POST. */
  body: string;
  /** When set, each response body must contain this text. */
  expect: string | undefined;
  insecure: boolean;
  /** For https: trusted CA, client certificate and key, server name. */
  tls?: Omit<BenchTls, "insecure">;
}

export type BenchOptions =
  | EchoBenchOptions
  | CmdBenchOptions
  | ChatBenchOptions
  | ConnectBenchOptions
  | HttpBenchOptions;

/** A short description of where the load goes, for reports. */
export function describeTarget(options: BenchOptions): string {
  if (options.mode === "http") return options.url;
  const { host, port, tls } = options.target;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `${tls ? "tls://" : ""}${hostPart}:${port}`;
}
