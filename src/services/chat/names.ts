// Nick and room names: what is valid, and the case-folded key that makes
// "Alice" and "alice" the same name.

const NICK_MAX = 32;
const NICK = /^[A-Za-z0-9_-]{1,32}$/;
const ROOM = /^#[A-Za-z0-9_-]{1,32}$/;

/** A nick: 1-32 letters, digits, `_` or `-`. Returns an error message, or undefined when valid. */
export function nickError(nick: string): string | undefined {
  if (NICK.test(nick)) return undefined;
  return `invalid nick "${nick}": use 1-${NICK_MAX} letters, digits, _ or -`;
}

/** Normalises `dev` or `#Dev` to `#dev`; undefined when not a valid room name. */
export function normaliseRoom(name: string): string | undefined {
  const room = (name.startsWith("#") ? name : `#${name}`).toLowerCase();
  return ROOM.test(room) ? room : undefined;
}

/** The key under which a nick is unique (case-insensitive). */
export function nickKey(nick: string): string {
  return nick.toLowerCase();
}
