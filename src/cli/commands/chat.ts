// `echoplex chat`: the chat service.
import { Command, Option } from "commander";
import { EchoplexError } from "../../errors.js";
import { DEFAULT_CHAT_SETTINGS } from "../../services/chat/hub.js";
import {
  CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  CHAT_DEFAULT_MAX_PENDING_BYTES,
  CHAT_DEFAULT_PORT,
  createChatServer,
} from "../../services/chat/index.js";
import { normaliseRoom } from "../../services/chat/names.js";
import { checkRedisUrl, REDIS_DEFAULT_TTL_MS } from "../../services/chat/redis-transport.js";
import {
  addServiceOptions,
  type CommonServiceFlags,
  cliLogger,
  engineOptionsFromFlags,
  resolveListenAddress,
  tlsFromFlags,
} from "../options.js";
import { runServers } from "../run.js";
import { isClusterWorker } from "../supervisor.js";
import { parseCount, parseDuration, parseSize } from "../units.js";

interface ChatFlags extends CommonServiceFlags {
  room: string;
  password?: string;
  passTries: number;
  passTimeout: number;
  motd?: string;
  history: number;
  redis?: string;
  redisTtl: number;
  echoSelf?: boolean;
  maxMessage: number;
  floodRate: number;
  floodBurst: number;
  floodDisconnect: number;
}

function parseRate(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new EchoplexError(
      "ERR_BAD_OPTION",
      `bad --flood-rate "${text}": expected a number of messages per second`,
    );
  }
  return value;
}

export function chatCommand(): Command {
  const d = DEFAULT_CHAT_SETTINGS;
  const cmd = new Command("chat")
    .description("a chat server for nc and telnet: rooms, nicks, private messages, history")
    .addOption(new Option("--room <#room>", "the room users start in").default(d.room))
    .option("--password <secret>", "users must send /pass SECRET before anything else")
    .addOption(
      new Option("--pass-tries <n>", "wrong passwords before a user is disconnected")
        .argParser((v) => parseCount(v, "--pass-tries"))
        .default(d.passTries),
    )
    .addOption(
      new Option("--pass-timeout <duration>", "time a user has to send the password")
        .argParser((v) => parseDuration(v, "--pass-timeout"))
        .default(d.passTimeoutMs, `${d.passTimeoutMs / 1000}s`),
    )
    .option("--motd <text>", "message of the day, shown after the welcome")
    .addOption(
      new Option("--history <n>", "messages replayed to someone who joins a room (0: none)")
        .argParser((v) => parseCount(v, "--history"))
        .default(20),
    )
    .option(
      "--redis <url>",
      "share rooms, nicks, history and messages with every chat on this Redis (redis://HOST:PORT)",
    )
    .addOption(
      new Option(
        "--redis-ttl <duration>",
        "with --redis: how long a crashed server's nicks and room members outlive it",
      )
        .argParser((v) => parseDuration(v, "--redis-ttl"))
        .default(REDIS_DEFAULT_TTL_MS, `${REDIS_DEFAULT_TTL_MS / 1000}s`),
    )
    .option("--echo-self", "send users their own messages too")
    .addOption(
      new Option("--max-message <size>", "longest message (bytes); longer ones are refused, not sent")
        .argParser((v) => parseSize(v, "--max-message"))
        .default(d.maxMessageBytes, `${d.maxMessageBytes}`),
    )
    .addOption(
      new Option("--flood-rate <n>", "messages per second a user may send on average (0: no flood control)")
        .argParser(parseRate)
        .default(d.flood.rate),
    )
    .addOption(
      new Option("--flood-burst <n>", "messages a user may send at once above the rate")
        .argParser((v) => parseCount(v, "--flood-burst"))
        .default(d.flood.burst),
    )
    .addOption(
      new Option(
        "--flood-disconnect <n>",
        "disconnect a user with more than this many dropped messages (decaying 1/s; 0: never)",
      )
        .argParser((v) => parseCount(v, "--flood-disconnect"))
        .default(d.flood.disconnectAfter),
    );
  addServiceOptions(cmd, CHAT_DEFAULT_PORT, {
    maxPendingBytes: CHAT_DEFAULT_MAX_PENDING_BYTES,
    idleTimeoutMs: CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  });
  cmd.addHelpText(
    "after",
    `
Examples:
  echoplex chat                                  listen on :${CHAT_DEFAULT_PORT}; then: nc localhost ${CHAT_DEFAULT_PORT}
  echoplex chat --password s3cret --motd 'be nice'
  echoplex chat --history 50 --flood-rate 2 --flood-burst 5
  echoplex chat --redis redis://127.0.0.1:6379   share rooms with other chat servers on this Redis
  echoplex chat --workers auto --redis redis://127.0.0.1:6379`,
  );
  return cmd.action(async (positional: string | undefined, flags: ChatFlags) => {
    const logger = cliLogger(flags.logLevel, flags.logFormat);
    const room = normaliseRoom(flags.room);
    if (room === undefined) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        `bad --room "${flags.room}": use # and 1-32 letters, digits, _ or -`,
      );
    }
    if (flags.passTries < 1) throw new EchoplexError("ERR_BAD_OPTION", "--pass-tries must be at least 1");
    if (flags.maxMessage < 1)
      throw new EchoplexError("ERR_BAD_OPTION", "--max-message must be at least 1 byte");
    if (flags.redis !== undefined) checkRedisUrl(flags.redis);
    if (flags.redisTtl < 300) throw new EchoplexError("ERR_BAD_OPTION", "--redis-ttl must be at least 300ms");
    if (flags.workers > 1 && flags.redis === undefined) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        "chat with --workers > 1 needs --redis URL: each worker would otherwise have its own rooms and nicks",
      );
    }
    const parts = [flags.framing, `room ${room}`];
    if (flags.password !== undefined) parts.push("password required");
    if (flags.redis !== undefined) parts.push(`shared through ${checkRedisUrl(flags.redis)}`);
    const address = resolveListenAddress(positional, flags, CHAT_DEFAULT_PORT);
    // The supervisor of --workers only forks: it must not join the chat (connect to Redis) itself.
    if (flags.workers > 1 && !isClusterWorker()) {
      await runServers([], logger, { workers: flags.workers });
      return;
    }
    const server = createChatServer({
      room,
      password: flags.password,
      passTries: flags.passTries,
      passTimeoutMs: flags.passTimeout,
      motd: flags.motd,
      history: flags.history,
      redis: flags.redis,
      redisTtlMs: flags.redisTtl,
      echoSelf: flags.echoSelf === true,
      maxMessageBytes: flags.maxMessage,
      flood: { rate: flags.floodRate, burst: flags.floodBurst, disconnectAfter: flags.floodDisconnect },
      framing: flags.framing,
      maxLineBytes: flags.maxLine,
      ...engineOptionsFromFlags(flags),
      logger,
      tls: await tlsFromFlags(flags, "chat"),
    });
    await runServers(
      [
        {
          name: "chat",
          summary: parts.join(", "),
          server,
          observe: server.server,
          address,
        },
      ],
      logger,
      flags,
    );
  });
}
