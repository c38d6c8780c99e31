// The seam between the chat model and where its shared state lives. Everything
// that must be the same for every connected user — nick claims, room membership,
// listings, history, and the delivery of events — goes through this interface, so
// an in-process implementation (memory-transport.ts) can later be replaced by one
// backed by Redis (SET NX for nick claims, hashes for rooms, lists for history,
// pub/sub for delivery) without touching the chat logic. Methods may answer
// synchronously or with a promise; the chat processes each user's lines in order either way.
import type { ChatEvent, HistoryEvent, UserRef } from "./events.js";

export type MaybePromise<T> = T | Promise<T>;

export interface RoomListing {
  readonly room: string;
  readonly members: number;
}

export interface MemberListing {
  readonly nick: string;
  /** Milliseconds since the member last said something in the room (or joined it). */
  readonly idleMs: number;
}

/** Receives every event published by any user, on every process. */
export type EventSink = (event: ChatEvent) => void;

export interface ChatTransport {
  /** Registers the receiver of all events for this process. Called once by the chat hub. */
  subscribe(sink: EventSink): MaybePromise<void>;
  /**
   * Atomically claims `nick` (case-insensitively unique) for user `id`, releasing the
   * nick the user held before. Returns false if someone else holds it.
   */
  claimNick(id: string, nick: string): MaybePromise<boolean>;
  /** Releases whatever nick user `id` holds (on disconnect). */
  releaseNick(id: string): MaybePromise<void>;
  /** The nick as its holder spelled it, or undefined when nobody holds it. */
  findNick(nick: string): MaybePromise<string | undefined>;
  /** A number for the next guest nick (`guest-N`), unique across processes. */
  nextGuestNumber(): MaybePromise<number>;
  /** Records `user` as a member of `room` (rooms exist while they have members). */
  enterRoom(room: string, user: UserRef): MaybePromise<void>;
  /** Removes user `id` from `room`. */
  leaveRoom(room: string, id: string): MaybePromise<void>;
  /** Rooms with their member counts, by name. */
  rooms(): MaybePromise<RoomListing[]>;
  /** Members of `room` with idle times, by nick. */
  who(room: string): MaybePromise<MemberListing[]>;
  /** The last messages of `room`, oldest first. */
  history(room: string): MaybePromise<HistoryEvent[]>;
  /**
   * Delivers an event to every subscriber (including this process). Room messages
   * are also appended to the room's history and mark their sender active (idle
   * times in /who); member records follow renames.
   */
  publish(event: ChatEvent): MaybePromise<void>;
  /**
   * Registers who renames a user whose nick the transport gave to someone else (two
   * servers gave it to two users while a shared store was unreachable). Optional: a
   * transport that checks every claim at once has no such conflicts.
   */
  onNickLost?(handler: (id: string, nick: string) => void): void;
  /** Releases resources (connections to a broker). */
  close(): MaybePromise<void>;
}

/** Whether a transport's answer is a promise (the in-process transport answers synchronously). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === "function";
}
