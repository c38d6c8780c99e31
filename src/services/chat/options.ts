// The chat service's own options (plain declarations; the CLI makes flags and config keys of
// them). Their defaults are the hub's: written once, in DEFAULT_CHAT_SETTINGS and index.ts.
import { parseListenAddress } from "../../core/listen-address.js";
import { EchoplexError } from "../../errors.js";
import { durationText, type OptionSpec } from "../../options/spec.js";
import { CHAT_DEFAULT_HISTORY } from "./index.js";
import { IRC_DEFAULT_PING_TIMEOUT_MS } from "./irc/door.js";
import { normaliseRoom } from "./names.js";
import { checkRedisUrl, PUBSUB_MODES, REDIS_DEFAULT_OUTBOX, REDIS_DEFAULT_TTL_MS } from "./redis-settings.js";
import { DEFAULT_CHAT_SETTINGS } from "./session.js";

const d = DEFAULT_CHAT_SETTINGS;

function checkRoom(room: string): void {
  if (normaliseRoom(room) === undefined) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --room "${room}": use # and 1-32 letters, digits, _ or -`);
  }
}

/** `--irc` holds one address or several, comma-separated. */
export function ircAddresses(value: string): string[] {
  return value
    .split(",")
    .map((a) => a.trim())
    .filter((a) => a !== "");
}

function checkIrc(value: string): void {
  const addresses = ircAddresses(value);
  if (addresses.length === 0) throw new EchoplexError("ERR_BAD_OPTION", "--irc needs an address");
  for (const address of addresses) {
    let transport: string;
    try {
      transport = parseListenAddress(address).transport;
    } catch (err) {
      throw new EchoplexError("ERR_BAD_OPTION", `bad --irc "${address}": ${(err as Error).message}`);
    }
    if (transport === "udp")
      throw new EchoplexError("ERR_BAD_OPTION", `bad --irc "${address}": IRC needs a stream`);
  }
}

export const CHAT_OPTIONS: readonly OptionSpec[] = [
  {
    name: "room",
    flag: "--room",
    kind: "string",
    placeholder: "#room",
    default: d.room,
    check: checkRoom,
    help: "the room users start in",
  },
  {
    name: "password",
    flag: "--password",
    kind: "string",
    placeholder: "secret",
    help: "users must send /pass SECRET before anything else",
  },
  {
    name: "passTries",
    flag: "--pass-tries",
    kind: "count",
    placeholder: "n",
    default: d.passTries,
    min: 1,
    help: "wrong passwords before a user is disconnected",
  },
  {
    name: "passTimeout",
    flag: "--pass-timeout",
    kind: "duration",
    placeholder: "duration",
    default: d.passTimeoutMs,
    defaultText: durationText(d.passTimeoutMs),
    help: "time a user has to send the password",
  },
  {
    name: "motd",
    flag: "--motd",
    kind: "string",
    placeholder: "text",
    help: "message of the day, shown after the welcome",
  },
  {
    name: "history",
    flag: "--history",
    kind: "count",
    placeholder: "n",
    default: CHAT_DEFAULT_HISTORY,
    help: "messages replayed to someone who joins a room (0: none)",
  },
  {
    name: "redis",
    flag: "--redis",
    kind: "string",
    placeholder: "url",
    check: (url) => void checkRedisUrl(url),
    help: "share rooms, nicks, history and messages with every chat on this Redis (redis://HOST:PORT)",
  },
  {
    name: "redisTtl",
    flag: "--redis-ttl",
    kind: "duration",
    placeholder: "duration",
    default: REDIS_DEFAULT_TTL_MS,
    defaultText: durationText(REDIS_DEFAULT_TTL_MS),
    min: 300,
    minText: "300ms",
    help: "with --redis: how long a crashed server's nicks and room members outlive it",
  },
  {
    name: "redisOutbox",
    flag: "--redis-outbox",
    kind: "count",
    placeholder: "n",
    default: REDIS_DEFAULT_OUTBOX,
    help: "with --redis: events kept while Redis is unreachable, sent marked late after recovery (0: none)",
  },
  {
    name: "redisPubsub",
    flag: "--redis-pubsub",
    kind: "choice",
    placeholder: "mode",
    choices: PUBSUB_MODES,
    default: "auto",
    help: "with --redis: room channels with sharded pub/sub when Redis has it (auto), or classic pub/sub",
  },
  {
    name: "echoSelf",
    flag: "--echo-self",
    kind: "boolean",
    default: false,
    help: "send users their own messages too",
  },
  {
    name: "maxMessage",
    flag: "--max-message",
    kind: "size",
    placeholder: "size",
    default: d.maxMessageBytes,
    defaultText: `${d.maxMessageBytes}`,
    min: 1,
    minText: "1 byte",
    help: "longest message (bytes); longer ones are refused, not sent",
  },
  {
    name: "irc",
    flag: "--irc",
    kind: "string",
    placeholder: "addr",
    check: checkIrc,
    help: "also serve IRC clients here (HOST:PORT, tcp://, tls://, unix:; several comma-separated)",
  },
  {
    name: "ircPingTimeout",
    flag: "--irc-ping-timeout",
    kind: "duration",
    placeholder: "duration",
    default: IRC_DEFAULT_PING_TIMEOUT_MS,
    defaultText: durationText(IRC_DEFAULT_PING_TIMEOUT_MS),
    min: 100,
    minText: "100ms",
    help: "an IRC client silent this long is sent PING, and disconnected after as long again without PONG",
  },
  {
    name: "floodRate",
    flag: "--flood-rate",
    kind: "number",
    placeholder: "n",
    default: d.flood.rate,
    help: "messages per second a user may send on average (0: no flood control)",
  },
  {
    name: "floodBurst",
    flag: "--flood-burst",
    kind: "count",
    placeholder: "n",
    default: d.flood.burst,
    min: 1,
    help: "messages a user may send at once above the rate",
  },
  {
    name: "floodDisconnect",
    flag: "--flood-disconnect",
    kind: "count",
    placeholder: "n",
    default: d.flood.disconnectAfter,
    help: "disconnect a user with more than this many dropped messages (decaying 1/s; 0: never)",
  },
];
