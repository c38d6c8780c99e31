// `echoplex chat`: the chat service.
import { EchoplexError } from "../../errors.js";
import { LINE_SERVICE_OPTIONS } from "../../options/shared.js";
import { durationText, sizeText, withDefault } from "../../options/spec.js";
import {
  CHAT_DEFAULT_IDLE_TIMEOUT_MS,
  CHAT_DEFAULT_MAX_PENDING_BYTES,
  CHAT_DEFAULT_PORT,
  createChatServer,
} from "../../services/chat/index.js";
import { normaliseRoom } from "../../services/chat/names.js";
import { CHAT_OPTIONS, ircAddresses } from "../../services/chat/options.js";
import type { PubSubMode } from "../../services/chat/redis-settings.js";
import { type CommonServiceFlags, engineOptionsFromFlags } from "../options.js";
import { type ServiceDefinition, serviceCommand } from "../service-command.js";

/** Chat keeps less unread output per user, and lets people sit silently for longer. */
const CHAT_DEFAULTS: Record<string, [value: number, text: string]> = {
  maxPending: [CHAT_DEFAULT_MAX_PENDING_BYTES, sizeText(CHAT_DEFAULT_MAX_PENDING_BYTES)],
  idleTimeout: [CHAT_DEFAULT_IDLE_TIMEOUT_MS, durationText(CHAT_DEFAULT_IDLE_TIMEOUT_MS)],
};

export const chatService: ServiceDefinition = {
  name: "chat",
  defaultPort: CHAT_DEFAULT_PORT,
  description: "a chat server for nc and telnet: rooms, nicks, private messages, history",
  options: [
    ...CHAT_OPTIONS,
    ...LINE_SERVICE_OPTIONS.map((spec) => {
      const override = CHAT_DEFAULTS[spec.name];
      return override === undefined ? spec : withDefault(spec, ...override);
    }),
  ],
  examples: `
Examples:
  echoplex chat                                  listen on :${CHAT_DEFAULT_PORT}; then: nc localhost ${CHAT_DEFAULT_PORT}
  echoplex chat --password s3cret --motd 'be nice'
  echoplex chat --history 50 --flood-rate 2 --flood-burst 5
  echoplex chat --redis redis://127.0.0.1:6379   share rooms with other chat servers on this Redis
  echoplex chat --irc 127.0.0.1:6667             IRC clients too: irssi -c 127.0.0.1 -p 6667
  echoplex chat --workers auto --redis redis://127.0.0.1:6379`,
  primaryOnlyForks: true,
  checkCommand(values) {
    if ((values.workers as number) > 1 && values.redis === undefined) {
      throw new EchoplexError(
        "ERR_BAD_OPTION",
        "chat with --workers > 1 needs --redis URL: each worker would otherwise have its own rooms and nicks",
      );
    }
  },
  extraAddresses: (values) =>
    values.irc === undefined ? [] : ircAddresses(values.irc as string).map((a) => `irc+${a}`),
  create(values, { logger, tls }) {
    // The declaration's check refused a room that does not normalise.
    const room = normaliseRoom(values.room as string) ?? (values.room as string);
    const redis = values.redis as string | undefined;
    const password = values.password as string | undefined;
    const framing = values.framing as "lines" | "length";
    return createChatServer({
      room,
      ...(password === undefined ? {} : { password }),
      passTries: values.passTries as number,
      passTimeoutMs: values.passTimeout as number,
      ...(values.motd === undefined ? {} : { motd: values.motd as string }),
      history: values.history as number,
      ...(redis === undefined ? {} : { redis }),
      redisTtlMs: values.redisTtl as number,
      redisOutbox: values.redisOutbox as number,
      redisPubsub: values.redisPubsub as PubSubMode,
      echoSelf: values.echoSelf === true,
      maxMessageBytes: values.maxMessage as number,
      flood: {
        rate: values.floodRate as number,
        burst: values.floodBurst as number,
        disconnectAfter: values.floodDisconnect as number,
      },
      framing,
      maxLineBytes: values.maxLine as number,
      ircPingTimeoutMs: values.ircPingTimeout as number,
      ...engineOptionsFromFlags(values as unknown as CommonServiceFlags),
      logger,
      tls,
    });
  },
};

export const chatCommand = () => serviceCommand(chatService);
