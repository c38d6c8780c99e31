// Closed loop with a connection shape (--ramp-conns, --conn-stages): how many
// connections carry load at each moment. A connection is dialed when the shape first
// needs it (not before the run), so the server sees its connections arrive on the
// ramp; those above the shape's level stop sending and stay open, ready to rejoin.

import { performance } from "node:perf_hooks";
import { levelAt, type Stage } from "./stages.js";

/** What the ramp needs of one connection of the request/response engine. */
export interface RampPipe {
  /** Its index among the run's connections: the shape switches them on in this order. */
  readonly slot: number;
  readonly alive: boolean;
  active: boolean;
}

export interface RampHooks<P extends RampPipe> {
  /** Dials connection `slot`; resolves to its pipe, or undefined when it failed (already counted). */
  dial(slot: number): Promise<P | undefined>;
  /** A connection switched on: send its requests. */
  start(pipe: P, now: number): void;
  /** Connections carrying load now (the per-second `conns`). */
  level(active: number): void;
}

/** Dials in flight at once while the shape climbs. */
const RAMP_DIAL_PARALLEL = 64;

export class ConnRamp<P extends RampPipe> {
  private nextSlot: number;
  private dialing = 0;
  private want = 0;
  private stopped = false;

  constructor(
    private readonly shape: readonly Stage[],
    private readonly slots: number,
    private readonly pipes: P[],
    private readonly hooks: RampHooks<P>,
    private readonly startedAt: number,
  ) {
    // The connections dialed before the run (the shape's level at its start, at least one).
    this.nextSlot = pipes.reduce((n, p) => Math.max(n, p.slot + 1), 0);
    for (const pipe of pipes) pipe.active = false;
  }

  /** Connections the shape wants before the run starts: its level at 0, and at least one. */
  static initial(shape: readonly Stage[], slots: number): number {
    return Math.min(slots, Math.max(1, Math.ceil(levelAt(shape, 0))));
  }

  /** Follows the shape at `now`: switches connections on and off, dials the ones it lacks. */
  apply(now: number): void {
    if (this.stopped) return;
    this.want = Math.min(this.slots, Math.round(levelAt(this.shape, now - this.startedAt)));
    let active = 0;
    for (const pipe of this.pipes) {
      const on = pipe.slot < this.want;
      if (on !== pipe.active) {
        pipe.active = on;
        if (on) this.hooks.start(pipe, now);
      }
      if (pipe.active && pipe.alive) active++;
    }
    this.hooks.level(active);
    while (this.nextSlot < this.want && this.dialing < RAMP_DIAL_PARALLEL) this.dialSlot(this.nextSlot++);
  }

  /** No more dials or switches (the run is over). */
  stop(): void {
    this.stopped = true;
  }

  private dialSlot(slot: number): void {
    this.dialing++;
    void this.hooks.dial(slot).then((pipe) => {
      this.dialing--;
      if (pipe === undefined) return;
      // Kept even after a stop: the run closes every pipe it has when it ends.
      this.pipes.push(pipe);
      pipe.active = false;
      // At once, not at the next tick: a connection is in the load as soon as it is open.
      this.apply(performance.now());
    });
  }
}
