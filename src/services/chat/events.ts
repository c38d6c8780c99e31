// What travels between connections (and, with a shared transport, between
// processes): plain serialisable events, and how each becomes the one line that
// every recipient receives.

/** A user as other users see them: a server-unique id and the current nick. */
export interface UserRef {
  /** Unique across every process sharing a transport (e.g. `<process>:<conn id>`). */
  readonly id: string;
  readonly nick: string;
}

/**
 * Set on an event that another server accepted while Redis was unreachable and
 * published after recovery: how late it is (ms between its acceptance and its publication).
 */
interface LateMark {
  readonly late?: number;
}

export type ChatEvent = ChatEventKinds & LateMark;

type ChatEventKinds =
  | {
      readonly kind: "say";
      readonly room: string;
      readonly from: UserRef;
      readonly text: string;
      readonly ts: number;
    }
  | {
      readonly kind: "action";
      readonly room: string;
      readonly from: UserRef;
      readonly text: string;
      readonly ts: number;
    }
  | { readonly kind: "join"; readonly room: string; readonly user: UserRef }
  | { readonly kind: "leave"; readonly room: string; readonly user: UserRef; readonly reason: string }
  | { readonly kind: "rename"; readonly room: string; readonly user: UserRef; readonly from: string }
  | { readonly kind: "private"; readonly to: string; readonly from: UserRef; readonly text: string }
  /** A line from the server itself to the local members of a room (a transport's degraded/recovered notice). */
  | { readonly kind: "notice"; readonly room: string; readonly text: string };

/** Events kept in a room's history and replayed to people who join. */
export type HistoryEvent = Extract<ChatEvent, { kind: "say" | "action" }>;

export function isHistoryEvent(event: ChatEvent): event is HistoryEvent {
  return event.kind === "say" || event.kind === "action";
}

/** The line recipients see (without line ending). Built once per event, shared by every recipient. */
export function renderEvent(event: ChatEvent): string {
  const line = renderLine(event);
  return event.late === undefined ? line : `[late ${Math.max(1, Math.round(event.late / 1000))}s] ${line}`;
}

function renderLine(event: ChatEvent): string {
  switch (event.kind) {
    case "say":
      return `<${event.from.nick}> ${event.text}`;
    case "action":
      return `* ${event.from.nick} ${event.text}`;
    case "join":
      return `* ${event.user.nick} joined ${event.room}`;
    case "leave":
      return `* ${event.user.nick} left ${event.room} (${event.reason})`;
    case "rename":
      return `* ${event.from} is now known as ${event.user.nick}`;
    case "private":
      return `*${event.from.nick}* ${event.text}`;
    case "notice":
      return `* ${event.text}`;
  }
}
