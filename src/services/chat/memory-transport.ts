// The in-process chat transport: shared state in Maps, delivery by a direct call.
// Everything answers synchronously, so a single-process chat costs no promises.
import { type ChatEvent, type HistoryEvent, isHistoryEvent, type UserRef } from "./events.js";
import { nickKey } from "./names.js";
import type { ChatTransport, EventSink, MemberListing, RoomListing } from "./transport.js";

interface Member {
  nick: string;
  lastActive: number;
}

interface RoomState {
  readonly members: Map<string, Member>;
  /** Ring of the last `historySize` messages. */
  history: HistoryEvent[];
}

export interface MemoryTransportOptions {
  /** Messages kept per room for replay (0: none). Default 20. */
  historySize?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export class MemoryTransport implements ChatTransport {
  private sinks: EventSink[] = [];
  /** nick key → holder id and spelling. */
  private readonly nicks = new Map<string, { id: string; nick: string }>();
  /** holder id → nick key. */
  private readonly nickOf = new Map<string, string>();
  private readonly roomStates = new Map<string, RoomState>();
  private guests = 0;
  private readonly historySize: number;
  private readonly now: () => number;

  constructor(options: MemoryTransportOptions = {}) {
    this.historySize = options.historySize ?? 20;
    this.now = options.now ?? Date.now;
  }

  subscribe(sink: EventSink): void {
    this.sinks.push(sink);
  }

  claimNick(id: string, nick: string): boolean {
    const key = nickKey(nick);
    const holder = this.nicks.get(key);
    if (holder !== undefined && holder.id !== id) return false;
    const previous = this.nickOf.get(id);
    if (previous !== undefined && previous !== key) this.nicks.delete(previous);
    this.nicks.set(key, { id, nick });
    this.nickOf.set(id, key);
    return true;
  }

  releaseNick(id: string): void {
    const key = this.nickOf.get(id);
    if (key === undefined) return;
    this.nickOf.delete(id);
    if (this.nicks.get(key)?.id === id) this.nicks.delete(key);
  }

  findNick(nick: string): string | undefined {
    return this.nicks.get(nickKey(nick))?.nick;
  }

  nextGuestNumber(): number {
    return ++this.guests;
  }

  enterRoom(room: string, user: UserRef): void {
    let state = this.roomStates.get(room);
    if (state === undefined) {
      state = { members: new Map(), history: [] };
      this.roomStates.set(room, state);
    }
    state.members.set(user.id, { nick: user.nick, lastActive: this.now() });
  }

  leaveRoom(room: string, id: string): void {
    const state = this.roomStates.get(room);
    if (state === undefined) return;
    state.members.delete(id);
    // Rooms live while they have members; an empty room's history goes with it.
    if (state.members.size === 0) this.roomStates.delete(room);
  }

  rooms(): RoomListing[] {
    return [...this.roomStates]
      .map(([room, state]) => ({ room, members: state.members.size }))
      .sort((a, b) => (a.room < b.room ? -1 : 1));
  }

  who(room: string): MemberListing[] {
    const state = this.roomStates.get(room);
    if (state === undefined) return [];
    const now = this.now();
    return [...state.members.values()]
      .map((m) => ({ nick: m.nick, idleMs: Math.max(0, now - m.lastActive) }))
      .sort((a, b) => (nickKey(a.nick) < nickKey(b.nick) ? -1 : 1));
  }

  history(room: string): HistoryEvent[] {
    return this.roomStates.get(room)?.history.slice() ?? [];
  }

  publish(event: ChatEvent): void {
    if (event.kind !== "private") {
      const state = this.roomStates.get(event.room);
      if (state !== undefined) {
        if (isHistoryEvent(event)) {
          const member = state.members.get(event.from.id);
          if (member !== undefined) member.lastActive = this.now();
          if (this.historySize > 0) {
            state.history.push(event);
            if (state.history.length > this.historySize) state.history.shift();
          }
        }
        if (event.kind === "rename") {
          const member = state.members.get(event.user.id);
          if (member !== undefined) member.nick = event.user.nick;
        }
      }
    }
    for (const sink of this.sinks) sink(event);
  }

  close(): void {
    this.sinks = [];
  }
}
