// A coarse clock shared by all connections: reading `now` on the hot path costs a
// property load instead of a Date.now() call. The idle sweep ticks it.
export const coarseClock = { now: Date.now() };

export function tickClock(): number {
  coarseClock.now = Date.now();
  return coarseClock.now;
}
