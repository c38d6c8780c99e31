// What a benchmark run is asked to do: one plain, serialisable object per mode, so
// the same options can be handed to worker processes unchanged.

import { formatAddress } from "../core/address.js";
import { formatUnixPath } from "../core/listen-address.js";
import type { Stage } from "./stages.js";

export type BenchMode = "echo" | "cmd" | "chat" | "connect" | "http" | "script";
export const BENCH_MODES: readonly BenchMode[] = ["echo", "cmd", "chat", "connect", "http", "script"];

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
  /** Absent in options written before the other doors: TCP. */
  transport?: "tcp";
  host: string;
  port: number;
  /** TLS (node:tls) on top of TCP. */
  tls?: BenchTls;
}

/** A Unix stream socket: the same bytes as TCP, through a path (`\0name`: abstract). */
export interface UnixTarget {
  transport: "unix";
  path: string;
}

/** A WebSocket server: one request per message, one reply per message, no line framing. */
export interface WsTarget {
  transport: "ws";
  host: string;
  port: number;
  /** Starts with a slash. */
  path: string;
  /** wss://. */
  tls?: BenchTls;
}

/** A UDP server: one request per datagram (echo only). */
export interface UdpTarget {
  transport: "udp";
  host: string;
  port: number;
}

/** Byte streams: every stream mode (echo, cmd, chat, connect) runs over them. */
export type StreamTarget = TcpTarget | UnixTarget;
/** What a connection is opened to: a byte stream or a WebSocket. */
export type ConnTarget = StreamTarget | WsTarget;
export type BenchTarget = ConnTarget | UdpTarget;

interface Common {
  /** Connections (chat: receivers). */
  conns: number;
  stop: StopRule;
  /** Requests per second over all connections, open loop; 0 = closed loop. */
  rate: number;
  /** Give up on outstanding replies after this long without progress. */
  timeoutMs: number;
  /** Open loop with a shape: `rate` is then the stages' mean rate (the target). */
  stages?: Stage[];
  /** Closed loop with a shape: how many of the connections carry load, over time (echo, cmd). */
  connStages?: Stage[];
  /** Keep each second's latency histogram in the result (for --hdr-log). */
  intervals?: boolean;
}

export interface EchoBenchOptions extends Common {
  mode: "echo";
  target: BenchTarget;
  /** Ignored over ws:// and udp://, where a message is a request. */
  framing: "lines" | "length";
  pipeline: number;
  /** Payload: `size` bytes of sequence number and letters, or the sequence number then `message`. */
  payload: { size: number } | { message: string };
  /** Reply prefix; undefined = learn it from a probe line before the run. */
  prefix: string | undefined;
}

export interface CmdBenchOptions extends Common {
  mode: "cmd";
  target: ConnTarget;
  /** Ignored over ws://, where a message is a request. */
  framing: "lines" | "length";
  pipeline: number;
  /** The request line (or frame) sent again and again, e.g. `PING`. */
  message: string;
  /** When set, each reply must equal this exactly (line ending excluded). */
  expect: string | undefined;
}

export interface ChatBenchOptions extends Common {
  mode: "chat";
  target: StreamTarget;
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
  target: ConnTarget;
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

/** A scenario script (FILE.js) run in a loop by each of `conns` virtual users. */
export interface ScriptBenchOptions extends Common {
  mode: "script";
  target: BenchTarget;
  /** The module's path; its default export is `async (conn, ctx) => …`. */
  file: string;
  /** Seed of every user's ctx.random(). */
  seed: number;
  /** --workers: the id (ctx.vu) of this process's first user, so that ids stay distinct across workers. */
  firstVu?: number;
}

export type BenchOptions =
  | EchoBenchOptions
  | CmdBenchOptions
  | ChatBenchOptions
  | ConnectBenchOptions
  | HttpBenchOptions
  | ScriptBenchOptions;

/** A short description of where the load goes, for reports. */
export function describeTarget(options: BenchOptions): string {
  return options.mode === "http" ? options.url : formatTarget(options.target);
}

/** How the load travels: the door's kind (`tls`, `wss`: with TLS). */
export function transportOf(options: BenchOptions): string {
  if (options.mode === "http") return new URL(options.url).protocol.replace(":", "");
  const target = options.target;
  switch (target.transport) {
    case undefined:
    case "tcp":
      return target.tls ? "tls" : "tcp";
    case "ws":
      return target.tls ? "wss" : "ws";
    default:
      return target.transport;
  }
}

/** A target as people write it: `tls://host:port`, `unix:/path`, `ws://host:port/path`, `udp://…`. */
export function formatTarget(target: BenchTarget): string {
  if (target.transport === "unix") return formatUnixPath(target.path);
  const where = formatAddress(target.host, target.port);
  switch (target.transport) {
    case "ws":
      return `${target.tls ? "wss" : "ws"}://${where}${target.path}`;
    case "udp":
      return `udp://${where}`;
    default:
      return `${target.tls ? "tls://" : ""}${where}`;
  }
}
