// `echoplex bench MODE TARGET`: the load generator. Flags become BenchOptions;
// the run happens in this process or in --workers child processes.
import { availableParallelism } from "node:os";
import { Argument, Command, Option } from "commander";
import {
  BENCH_MODES,
  type BenchMode,
  type BenchOptions,
  type BenchTarget,
  checkModeFits,
  parseBenchTarget,
  prepareBench,
  type StopRule,
  startBench,
} from "../../bench/index.js";
import { LiveReport } from "../../bench/live.js";
import { floodHint } from "../../bench/modes/chat-flood.js";
import { requireSeqRoom } from "../../bench/modes/udp-echo.js";
import type {
  BenchTls,
  ChatBenchOptions,
  CmdBenchOptions,
  ConnectBenchOptions,
} from "../../bench/options.js";
import { failedSummary, formatResult, ProgressLine } from "../../bench/report.js";
import { startWorkers } from "../../bench/workers.js";
import { readPemFile } from "../../client/connect.js";
import { EchoplexError } from "../../errors.js";
import { parseCount, parseDuration, parseSize } from "../units.js";
import {
  addCiOptions,
  type CiFlags,
  finishCi,
  readBaseline,
  scriptAddress,
  scriptOptions,
  withCi,
} from "./bench-ci.js";

interface BenchFlags extends CiFlags {
  conns: number;
  pipeline?: number;
  size?: number;
  message?: string;
  duration?: number;
  requests?: number;
  rate: number;
  warmup?: number;
  prefix?: string;
  expect?: string;
  framing: "lines" | "length";
  tls?: boolean;
  insecure?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  servername?: string;
  senders: number;
  hello?: string;
  method: "GET" | "POST";
  timeout: number;
  json?: boolean;
  workers: number;
  progress: boolean;
  seed?: number;
}

const DEFAULT_DURATION_MS = 5000;
const DEFAULT_WARMUP_MS = 1000;
const DEFAULT_SIZE = 64;
const DEFAULT_CONNECT_PARALLEL = 64;

const bad = (message: string) => new EchoplexError("ERR_BAD_OPTION", message);
const positive = (what: string) => (v: string) => {
  const n = parseCount(v, what);
  if (n < 1) throw bad(`${what} must be at least 1`);
  return n;
};

/** Any TLS flag means TLS; the files are read here, so that workers get their text. */
function tlsSettings(flags: BenchFlags): BenchTls | undefined {
  const { ca, cert, key, servername } = flags;
  const any = [ca, cert, key, servername].some((v) => v !== undefined);
  if (flags.tls !== true && flags.insecure !== true && !any) return undefined;
  if ((cert === undefined) !== (key === undefined))
    throw bad("a client certificate needs both --cert and --key");
  const tls: BenchTls = { insecure: flags.insecure === true };
  if (ca !== undefined) tls.ca = readPemFile("--ca", ca).toString();
  if (cert !== undefined) tls.cert = readPemFile("--cert", cert).toString();
  if (key !== undefined) tls.key = readPemFile("--key", key).toString();
  if (servername !== undefined) tls.servername = servername;
  return tls;
}

function withoutInsecure({ insecure: _insecure, ...rest }: BenchTls): Omit<BenchTls, "insecure"> {
  return rest;
}

/** A target the mode can use: every door's address form, refused with one line where the mode does not fit. */
function targetFor<M extends BenchMode>(mode: M, text: string, flags: BenchFlags): BenchTarget {
  const target = parseBenchTarget(text, tlsSettings(flags));
  checkModeFits(mode, target, text);
  const transport = target.transport ?? "tcp";
  if ((transport === "ws" || transport === "udp") && flags.framing === "length") {
    throw bad(
      `--framing does not apply to ${text}: each ${transport === "ws" ? "message" : "datagram"} is one request`,
    );
  }
  if (transport === "udp" && flags.size !== undefined) requireSeqRoom(flags.size);
  return target;
}

/** http takes a URL; the other doors' address forms are a mistake worth naming. */
function checkHttpTarget(text: string): void {
  if (/^(unix:|(tcp|tls|udp|ws|wss):\/\/)/i.test(text.trim())) {
    throw bad(`bench http takes an http:// or https:// URL, not ${text}`);
  }
}

function stopRule(mode: BenchMode, flags: BenchFlags): StopRule {
  if (flags.duration !== undefined && flags.requests !== undefined) {
    throw bad("give --duration or --requests, not both");
  }
  if (flags.requests !== undefined) {
    if (mode === "connect") throw bad("connect mode opens --conns connections; --requests does not apply");
    if (flags.warmup !== undefined) throw bad("--warmup applies to --duration runs, not to --requests");
    if (flags.requests < 1) throw bad("--requests must be at least 1");
    return { kind: "requests", count: flags.requests };
  }
  return {
    kind: "duration",
    durationMs: flags.duration ?? DEFAULT_DURATION_MS,
    warmupMs: mode === "connect" ? 0 : (flags.warmup ?? DEFAULT_WARMUP_MS),
  };
}

/** Turns flags into options, rejecting combinations that do not apply to the mode. */
function benchOptions(mode: BenchMode, target: string, flags: BenchFlags, extra?: string): BenchOptions {
  if (extra !== undefined)
    throw new EchoplexError("ERR_USAGE", `bench ${mode} takes one target, not also ${extra}`);
  const common = {
    conns: flags.conns,
    stop: stopRule(mode, flags),
    rate: flags.rate,
    timeoutMs: flags.timeout,
  };
  const pipeline = flags.pipeline ?? 1;
  if (flags.size !== undefined && flags.message !== undefined)
    throw bad("give --size or --message, not both");
  if (flags.framing === "length" && mode !== "echo" && mode !== "cmd") {
    throw bad("--framing length applies to echo and cmd modes");
  }
  switch (mode) {
    case "echo": {
      if (flags.size !== undefined && flags.size < 1) throw bad("--size must be at least 1");
      if (flags.message !== undefined && flags.framing === "lines" && /[\r\n]/.test(flags.message)) {
        throw bad("--message cannot contain a line break with line framing");
      }
      return {
        mode,
        ...common,
        target: targetFor(mode, target, flags),
        framing: flags.framing,
        pipeline,
        payload:
          flags.message !== undefined ? { message: flags.message } : { size: flags.size ?? DEFAULT_SIZE },
        prefix: flags.prefix === undefined || flags.prefix === "auto" ? undefined : flags.prefix,
      };
    }
    case "cmd": {
      const message = flags.message ?? "PING";
      if (flags.framing === "lines" && /[\r\n]/.test(message)) {
        throw bad("--message cannot contain a line break with line framing");
      }
      return {
        mode,
        ...common,
        target: targetFor(mode, target, flags) as CmdBenchOptions["target"],
        framing: flags.framing,
        pipeline,
        message,
        expect: flags.expect,
      };
    }
    case "chat":
      return {
        mode,
        ...common,
        target: targetFor(mode, target, flags) as ChatBenchOptions["target"],
        senders: flags.senders,
        pipeline,
        size: flags.size ?? DEFAULT_SIZE,
        hello: flags.hello,
      };
    case "connect":
      return {
        mode,
        ...common,
        target: targetFor(mode, target, flags) as ConnectBenchOptions["target"],
        parallel: flags.pipeline ?? DEFAULT_CONNECT_PARALLEL,
      };
    case "script":
      throw bad("bench script takes FILE.js ADDRESS");
    case "http": {
      checkHttpTarget(target);
      if (pipeline > 1) throw bad("--pipeline does not apply to http (one request at a time per connection)");
      const tls = tlsSettings(flags);
      const scheme = /^https?:\/\//i.test(target) ? "" : tls ? "https://" : "http://";
      let url: URL;
      try {
        url = new URL(`${scheme}${target}`);
      } catch {
        throw new EchoplexError("ERR_BAD_ADDRESS", `bad URL "${target}"`);
      }
      const body = flags.message ?? (flags.size !== undefined ? "x".repeat(flags.size) : "");
      return {
        mode,
        ...common,
        url: url.href,
        method: flags.method,
        body,
        expect: flags.expect,
        insecure: flags.insecure === true,
        ...(tls === undefined ? {} : { tls: withoutInsecure(tls) }),
      };
    }
  }
}

function totalMs(options: BenchOptions): number | undefined {
  return options.stop.kind === "duration" ? options.stop.durationMs + options.stop.warmupMs : undefined;
}

export function benchCommand(): Command {
  const cmd = new Command("bench")
    .description(
      "load generator for TCP, TLS, Unix, WebSocket and UDP (echo, cmd, chat, connect) and HTTP servers",
    )
    .addArgument(new Argument("<mode>", "what load to generate").choices(BENCH_MODES))
    .argument(
      "<target>",
      "HOST:PORT (or :PORT for 127.0.0.1), tcp://, tls://, unix:/path, ws://HOST:PORT/path, wss://, udp://HOST:PORT; for http a URL; for script the FILE.js",
    )
    .argument("[address]", "script: the server's address (any form above)")
    .addOption(
      new Option("-c, --conns <n>", "connections (chat: receivers)")
        .argParser(positive("--conns"))
        .default(1),
    )
    .addOption(
      new Option(
        "--pipeline <n>",
        "requests in flight per connection (chat: undelivered messages per sender; connect: dials in flight, default 64)",
      ).argParser(positive("--pipeline")),
    )
    .addOption(
      new Option(
        "--size <bytes>",
        `payload bytes (echo, chat line, http POST body; default ${DEFAULT_SIZE})`,
      ).argParser((v) => parseSize(v, "--size")),
    )
    .option("--message <text>", "request line (cmd, default PING), echo payload text, or http POST body")
    .addOption(
      new Option(
        "-d, --duration <duration>",
        "measured time, after the warm-up (default 5s; connect: hold time)",
      ).argParser((v) => parseDuration(v, "--duration")),
    )
    .addOption(
      new Option("-n, --requests <n>", "stop after exactly this many requests (chat: messages)").argParser(
        (v) => parseCount(v, "--requests"),
      ),
    )
    .addOption(
      new Option("--rate <n>", "requests per second over all connections, open loop (0: closed loop)")
        .argParser((v) => parseCount(v, "--rate"))
        .default(0),
    )
    .addOption(
      new Option("--warmup <duration>", "load before measuring, in --duration runs (default 1s)").argParser(
        (v) => parseDuration(v, "--warmup"),
      ),
    )
    .option("--prefix <text>", "echo: expected reply prefix; auto: learn it from a probe line", "auto")
    .option("--expect <text>", "cmd: each reply must equal this; http: each body must contain this")
    .addOption(
      new Option("--framing <framing>", "echo/cmd framing: lines or 4-byte length prefix")
        .choices(["lines", "length"])
        .default("lines"),
    )
    .option("--tls", "connect with TLS (http: use https)")
    .option("--insecure", "with TLS, do not verify the server's certificate")
    .option("--ca <file>", "trust the certificate authorities in this PEM file (implies --tls)")
    .option(
      "--cert <file>",
      "client certificate (PEM) for servers that require one: mutual TLS (implies --tls)",
    )
    .option("--key <file>", "the client certificate's private key (PEM; with --cert)")
    .option("--servername <name>", "TLS server name (SNI, and the name checked in the certificate)")
    .addOption(
      new Option("--senders <n>", "chat: sending clients").argParser(positive("--senders")).default(1),
    )
    .option("--hello <template>", "chat: line each client sends first, %d = client index (e.g. '/nick u%d')")
    .addOption(new Option("--method <method>", "http method").choices(["GET", "POST"]).default("GET"))
    .addOption(
      new Option(
        "--timeout <duration>",
        "give up on outstanding replies after this long without progress (also the chat barrier)",
      )
        .argParser((v) => parseDuration(v, "--timeout"))
        .default(5000, "5s"),
    )
    .option("--json", "print the result as one JSON object")
    .addOption(
      new Option("--workers <n>", "spread the load over this many processes (auto: one per core)")
        .argParser((v) => (v === "auto" ? availableParallelism() : positive("--workers")(v)))
        .default(1),
    )
    .option("--no-progress", "no live progress line (shown only when stderr is a terminal)");
  addCiOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  echoplex bench echo 127.0.0.1:8080 --conns 100 --duration 10s
  echoplex bench echo :8080 --conns 50 --pipeline 16 --size 1k --json
  echoplex bench echo :8080 --rate 20000 --conns 20 --duration 30s      open loop
  echoplex bench cmd 127.0.0.1:6379 --message PING --expect +PONG --conns 50
  echoplex bench chat :8081 --conns 100 --senders 2 --hello '/nick u%d' --rate 8 --requests 40
  echoplex bench echo localhost:8443 --ca ca.crt --cert client.crt --key client.key   mutual TLS
  echoplex bench echo unix:/run/echo.sock --conns 8 --requests 100000
  echoplex bench echo ws://127.0.0.1:8090/ --conns 10 --duration 10s   one message per request
  echoplex bench echo udp://127.0.0.1:8080 --pipeline 8 --duration 10s  counts lost, duplicated, reordered
  echoplex bench connect :8080 --conns 5000 --duration 10s
  echoplex bench http http://127.0.0.1:8000/ --conns 20 --duration 10s
  echoplex bench echo :8080 --conns 20 --stages '5s:0->5000,20s:5000' --threshold 'p99<20ms' --junit bench.xml

Exit status: 0 when every request was answered correctly, 1 when any reply was
wrong or lost or any error happened (the result is printed first) or the server
cannot be reached (ERR_CONNECT_FAILED, at once), 2 for bad usage, 7 for a TLS
failure (ERR_TLS), 8 when a --threshold did not hold (ERR_THRESHOLD_FAILED; with
thresholds they alone decide). A chat server's flood control ends the run with ERR_RATE_LIMITED.`,
  );
  return cmd.action(
    async (mode: BenchMode, target: string, address: string | undefined, flags: BenchFlags) => {
      const made =
        mode === "script"
          ? scriptOptions(
              target,
              flags,
              stopRule(mode, flags),
              targetFor(mode, scriptAddress(address), flags),
            )
          : benchOptions(mode, target, flags, address);
      const options = await prepareBench(withCi(made, flags));
      const baseline = readBaseline(flags);
      const startEpochMs = Date.now();
      const handle = flags.workers > 1 ? startWorkers(options, flags.workers) : startBench(options);
      const live = new LiveReport(
        flags.progress && process.stderr.isTTY === true
          ? new ProgressLine(process.stderr, totalMs(options))
          : undefined,
        flags.jsonStream === true ? process.stdout : undefined,
      );
      live.start(() => handle.progress());
      // First Ctrl-C: stop sending and report what was done; a second one quits.
      let interrupts = 0;
      const onSigint = () => {
        if (++interrupts > 1) process.exit(130);
        live.stop();
        process.stderr.write(
          "echoplex bench: stopping, waiting for outstanding replies (Ctrl-C again to quit)\n",
        );
        handle.halt();
      };
      process.on("SIGINT", onSigint);
      let result: Awaited<typeof handle.result>;
      try {
        result = await handle.result;
      } finally {
        process.off("SIGINT", onSigint);
        live.stop();
      }
      live.finish(result.perSecond, result.replies);
      const verdict = finishCi(
        result,
        options,
        flags,
        baseline,
        startEpochMs,
        formatResult,
        failedSummary(result),
      );
      process.stdout.write(verdict.out);
      const chat = result.chat;
      if (chat !== undefined && chat.floodNotices > 0) {
        throw new EchoplexError(
          "ERR_RATE_LIMITED",
          floodHint(chat.floodNotice ?? "", chat.senders, chat.floodDropped ?? 0),
        );
      }
      if (verdict.error !== undefined) throw verdict.error;
    },
  );
}
