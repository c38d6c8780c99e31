// The services `echoplex serve` can start. Adding one is one entry: its name, default
// port, the schema of its config options, and a factory that builds its server.
import type { TlsOptions } from "node:tls";
import { z } from "zod";
import type { Logger } from "../core/logger.js";
import {
  CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  CHAT_DEFAULT_MAX_PENDING_BYTES,
  CHAT_DEFAULT_PORT,
  createChatServer,
} from "../services/chat/index.js";
import { CMD_DEFAULT_PORT, createCmdServer } from "../services/cmd/index.js";
import {
  createEchoServer,
  ECHO_DEFAULT_PORT,
  ECHO_DEFAULT_PREFIX,
  type EchoMode,
} from "../services/echo/index.js";
import { createHttpResponder, HTTP_DEFAULT_PORT } from "../services/http/index.js";
import { createSinkServer, SINK_DEFAULT_PORT } from "../services/sink/index.js";
import { httpSummary } from "./commands/http.js";
import {
  commonEntryShape,
  count,
  duration,
  engineLimitsShape,
  limitsFromEntry,
  size,
} from "./config-schema.js";
import type { Runnable } from "./run.js";

/** What a factory gets besides its options: the shared logger, and TLS when configured. */
interface ServiceContext {
  logger: Logger;
  tls: TlsOptions | undefined;
}

interface ServiceInstance {
  server: Runnable["server"];
  /** What the admin endpoint reads when `server` is a wrapper around an engine server. */
  observe?: Runnable["observe"];
  /** Shown after the address at start-up, as the single-service command shows it. */
  summary: string;
}

/** A service as the registry holds it: its config schema and a factory over validated entries. */
export interface RegisteredService {
  name: string;
  defaultPort: number;
  /** The whole config entry (common fields and the service's own), strict: unknown fields are errors. */
  schema: z.ZodType;
  /** Builds the server from an entry that `schema` produced. */
  create(entry: unknown, ctx: ServiceContext): ServiceInstance;
}

/** Declares a service for the registry; the factory's options are typed from the schema. */
function defineService<Shape extends z.ZodRawShape>(definition: {
  name: string;
  defaultPort: number;
  options: Shape;
  create(options: z.output<z.ZodObject<Shape>>, ctx: ServiceContext): ServiceInstance;
}): RegisteredService {
  const schema = z.strictObject({ ...commonEntryShape, ...definition.options });
  return {
    name: definition.name,
    defaultPort: definition.defaultPort,
    schema,
    // The entry is schema's own output (validated by serve before this is called).
    create: (entry, ctx) => definition.create(entry as z.output<z.ZodObject<Shape>>, ctx),
  };
}

/** Options of a line service: framing and the engine limits, named as the CLI flags. */
const lineServiceShape = {
  maxLine: size.optional(),
  ...engineLimitsShape,
};

const echoService = defineService({
  name: "echo",
  defaultPort: ECHO_DEFAULT_PORT,
  options: {
    ...lineServiceShape,
    prefix: z.string().optional(),
    mode: z.enum(["lines", "length", "raw"]).optional(),
  },
  create(o, ctx) {
    const mode: EchoMode = o.mode ?? "lines";
    const prefix = o.prefix ?? ECHO_DEFAULT_PREFIX;
    return {
      server: createEchoServer({
        mode,
        prefix,
        ...(o.maxLine === undefined ? {} : { maxMessageBytes: o.maxLine }),
        limits: limitsFromEntry(o),
        logger: ctx.logger,
        tls: ctx.tls,
      }),
      summary: mode === "raw" ? "raw" : `${mode}, prefix ${JSON.stringify(prefix)}`,
    };
  },
});

const httpService = defineService({
  name: "http",
  defaultPort: HTTP_DEFAULT_PORT,
  options: {
    delay: duration.optional(),
    status: z.number().int().min(200).max(599).optional(),
    body: z.string().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    maxDelay: duration.optional(),
    headersTimeout: duration.optional(),
    requestTimeout: duration.optional(),
    keepAliveTimeout: duration.optional(),
    maxBody: size.optional(),
    maxConnections: count.min(1).optional(),
    maxPipeline: count.min(1).optional(),
    drainTimeout: duration.optional(),
  },
  create(o, ctx) {
    const server = createHttpResponder({
      delayMs: o.delay,
      status: o.status,
      body: o.body,
      headers: o.headers === undefined ? undefined : Object.entries(o.headers),
      maxDelayMs: o.maxDelay,
      headersTimeoutMs: o.headersTimeout,
      requestTimeoutMs: o.requestTimeout,
      keepAliveTimeoutMs: o.keepAliveTimeout,
      maxBodyBytes: o.maxBody,
      maxConnections: o.maxConnections,
      maxPipeline: o.maxPipeline,
      drainTimeoutMs: o.drainTimeout,
      logger: ctx.logger,
      tls: ctx.tls,
    });
    return { server, summary: httpSummary(server.settings.delayMs, server.settings.status) };
  },
});

const cmdService = defineService({
  name: "cmd",
  defaultPort: CMD_DEFAULT_PORT,
  options: {
    ...lineServiceShape,
    framing: z.enum(["lines", "length"]).optional(),
  },
  create(o, ctx) {
    return {
      server: createCmdServer({
        framing: o.framing ?? "lines",
        ...(o.maxLine === undefined ? {} : { maxMessageBytes: o.maxLine }),
        limits: limitsFromEntry(o),
        logger: ctx.logger,
        tls: ctx.tls,
      }),
      summary: o.framing ?? "lines",
    };
  },
});

const chatService = defineService({
  name: "chat",
  defaultPort: CHAT_DEFAULT_PORT,
  options: {
    ...lineServiceShape,
    framing: z.enum(["lines", "length"]).optional(),
    room: z.string().optional(),
    password: z.string().optional(),
    motd: z.string().optional(),
    history: count.optional(),
    echoSelf: z.boolean().optional(),
    maxMessage: size.optional(),
    floodRate: z.number().min(0).optional(),
    floodBurst: z.number().min(1).optional(),
  },
  create(o, ctx) {
    const limits = limitsFromEntry(o);
    const chat = createChatServer({
      ...(o.room === undefined ? {} : { room: o.room }),
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.motd === undefined ? {} : { motd: o.motd }),
      ...(o.history === undefined ? {} : { history: o.history }),
      ...(o.echoSelf === undefined ? {} : { echoSelf: o.echoSelf }),
      ...(o.maxMessage === undefined ? {} : { maxMessageBytes: o.maxMessage }),
      ...(o.maxLine === undefined ? {} : { maxLineBytes: o.maxLine }),
      flood: {
        ...(o.floodRate === undefined ? {} : { rate: o.floodRate }),
        ...(o.floodBurst === undefined ? {} : { burst: o.floodBurst }),
      },
      framing: o.framing ?? "lines",
      limits: {
        idleTimeoutMs: CHAT_DEFAULT_IDLE_TIMEOUT_MS,
        maxPendingBytes: CHAT_DEFAULT_MAX_PENDING_BYTES,
        ...limits,
      },
      logger: ctx.logger,
      tls: ctx.tls,
    });
    return {
      server: chat,
      observe: chat.server,
      summary: `${o.framing ?? "lines"}, room ${o.room ?? "#lobby"}`,
    };
  },
});

const sinkService = defineService({
  name: "sink",
  defaultPort: SINK_DEFAULT_PORT,
  options: {
    ...lineServiceShape,
    framing: z.enum(["lines", "length"]).optional(),
    out: z.string().optional(),
    fsync: z.boolean().optional(),
    ack: z.boolean().optional(),
    statusInterval: duration.optional(),
    outBuffer: size.optional(),
  },
  create(o, ctx) {
    const sink = createSinkServer({
      ...(o.out === undefined ? {} : { out: o.out }),
      fsync: o.fsync === true,
      ack: o.ack === true,
      statusIntervalMs: o.statusInterval ?? 60_000,
      ...(o.outBuffer === undefined ? {} : { maxBufferedBytes: o.outBuffer }),
      ...(o.maxLine === undefined ? {} : { maxLineBytes: o.maxLine }),
      framing: o.framing ?? "lines",
      limits: limitsFromEntry(o),
      logger: ctx.logger,
      tls: ctx.tls,
    });
    const parts = [o.framing ?? "lines", o.out === undefined ? "log only" : `out ${o.out}`];
    if (o.fsync) parts.push("fsync");
    if (o.ack) parts.push("ack");
    return { server: sink, observe: sink.server, summary: parts.join(", ") };
  },
});

/** Every service `serve` knows, in start-up order. */
export const SERVICES: readonly RegisteredService[] = [
  echoService,
  chatService,
  cmdService,
  sinkService,
  httpService,
];
