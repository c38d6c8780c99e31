// What the chat knows about one user (the session on their connection) and the
// settings every session is run with; kept apart from the hub so the parts that
// act on a session (password gate, commands, rooms) need not import the coordinator.
import type { Connection } from "../../core/connection.js";
import type { UserRef } from "./events.js";
import { DEFAULT_FLOOD_LIMITS, FloodControl, type FloodLimits } from "./flood.js";

export interface ChatSettings {
  /** The room users start in. Default `#lobby`. */
  room: string;
  /** When set, users must send `/pass SECRET` before anything else. */
  password: string | undefined;
  /** Wrong passwords (or other lines) before an unauthenticated user is disconnected. Default 3. */
  passTries: number;
  /** How long a user has to send the password. Default 30 s. */
  passTimeoutMs: number;
  /** A message of the day shown after the welcome. */
  motd: string | undefined;
  /** Whether a user's own messages are sent back to them. */
  echoSelf: boolean;
  /** Longest message, in bytes after sanitising. Longer ones are refused (not sent). */
  maxMessageBytes: number;
  flood: FloodLimits;
  /** Prefix of user ids, unique per process when several share a transport. */
  instance: string;
}

export const DEFAULT_CHAT_SETTINGS: Readonly<Omit<ChatSettings, "instance">> = Object.freeze({
  room: "#lobby",
  password: undefined,
  passTries: 3,
  passTimeoutMs: 30_000,
  motd: undefined,
  echoSelf: false,
  maxMessageBytes: 1024,
  flood: DEFAULT_FLOOD_LIMITS,
});

/** Where a user is in their life: waiting to authenticate (nc) or to register (IRC), admitted, or gone. */
export type SessionPhase = "password" | "registering" | "admitting" | "chatting" | "gone";

/** How events reach the user: the nc text lines (nc, telnet, the web page) or IRC lines (irc/). */
export type Dialect = "text" | "irc";

/** What an IRC user negotiated and sent while registering (irc/registration.ts). */
export interface IrcState {
  /** Capabilities the client enabled (`server-time`, `echo-message`, `echoplex/no-history`). */
  caps: Set<string>;
  /** True between CAP LS/REQ and CAP END: registration waits for the end. */
  capNegotiating: boolean;
  user: string;
  pass: string | undefined;
  /** Coarse-clock time of the last line from the client; a PING after silence, a close after no PONG. */
  lastSeen: number;
  /** When the PING without answer was sent (0: none outstanding). */
  pingSent: number;
  /** User modes (`B`: bot, no history on join). */
  modes: Set<string>;
}

/** Per-connection chat state (`conn.state`). */
export interface ChatSession {
  id: string;
  phase: SessionPhase;
  nick: string;
  /** The room the user is in while chatting (nc: the one room; IRC: the last joined, for listings). */
  room: string;
  /** Every room the user is in (nc and web users: the one room; IRC users: any number of channels). */
  rooms: Set<string>;
  dialect: Dialect;
  /** IRC users only. */
  irc: IrcState | undefined;
  /**
   * The last nick change or quit shown to this user: a user in several rooms shared with
   * them announces it once per room, and an IRC client must see it once.
   */
  lastShared: string;
  passTries: number;
  /** When an unauthenticated user is disconnected (ms since epoch). */
  passDeadline: number;
  bucket: FloodControl;
  /** Lines received while an asynchronous command was running; processed in order after it. */
  backlog: Buffer[];
  busy: boolean;
  /** Why the user left, when it is not the connection's close reason (a /quit message). */
  leaveReason: string | undefined;
  /** A nick the transport gave to another server's user: renamed away from before the next line. */
  lostNick: string | undefined;
  /** Whether entering a room replays its history (`/history off` turns it off, e.g. for bots). */
  replayOnJoin: boolean;
}

export type ChatConn = Connection<ChatSession>;

export function newSession(settings: ChatSettings, dialect: Dialect = "text"): ChatSession {
  return {
    id: "",
    phase: dialect === "irc" ? "registering" : "password",
    nick: "",
    room: "",
    rooms: new Set(),
    dialect,
    irc: dialect === "irc" ? newIrcState() : undefined,
    lastShared: "",
    passTries: 0,
    passDeadline: 0,
    bucket: new FloodControl(settings.flood, Date.now()),
    backlog: [],
    busy: false,
    leaveReason: undefined,
    lostNick: undefined,
    replayOnJoin: true,
  };
}

/** The user as events name them. */
export function userOf(conn: ChatConn): UserRef {
  return { id: conn.state.id, nick: conn.state.nick };
}

function newIrcState(): IrcState {
  return {
    caps: new Set(),
    capNegotiating: false,
    user: "",
    pass: undefined,
    lastSeen: Date.now(),
    pingSent: 0,
    modes: new Set(),
  };
}
