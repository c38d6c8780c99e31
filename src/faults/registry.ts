// The live set of faults of one service (or proxy): what --fault started with, changed
// at run time by the admin API; every connection's fault stage reads the current set,
// so a change reaches live connections. Also the share of connections faulted and the
// count of each fault applied.
import type { FaultDirection, FaultKind, FaultSpec } from "./parse.js";

export interface ActiveFault extends FaultSpec {
  /** Unique in the process: DELETE /api/faults/ID. */
  id: number;
}

/** The faults in force, folded into one record a write reads (the last of a kind wins). */
export interface FaultSettings {
  /** True when no fault is in force: writes pass straight through. */
  none: boolean;
  latencyMs: number;
  jitterMs: number;
  /** Bytes per second; 0: unlimited. */
  bandwidth: number;
  sliceMin: number;
  /** 0: no slicing. */
  sliceMax: number;
  stallMs: number;
  /** The stall fault's id: a connection stalls once per stall fault. */
  stallId: number;
  reset: number;
  close: number;
  truncate: number;
  drop: number;
  corrupt: number;
}

const NONE: FaultSettings = {
  none: true,
  latencyMs: 0,
  jitterMs: 0,
  bandwidth: 0,
  sliceMin: 0,
  sliceMax: 0,
  stallMs: 0,
  stallId: 0,
  reset: 0,
  close: 0,
  truncate: 0,
  drop: 0,
  corrupt: 0,
};

let nextId = 1;

/** The id the next fault of this process gets (exported with the faults under --workers). */
export function nextFaultId(): number {
  return nextId;
}

/** Ids continue from `next` (a worker taking over its peers' faults keeps their ids in step). */
export function continueFaultIds(next: number): void {
  nextId = Math.max(nextId, next);
}

export class FaultRegistry {
  private list: ActiveFault[] = [];
  private folded = new Map<FaultDirection | "any", FaultSettings>();
  private readonly activated: Array<() => void> = [];
  private everActive = false;
  /** Faults applied since start, by kind (echoplex_faults_applied_total). */
  readonly applied = new Map<FaultKind, number>();

  /** `share`: the part of connections (0–1) drawn at connect to get the faults. */
  constructor(
    initial: readonly FaultSpec[] = [],
    readonly share = 1,
    /** The direction of what a service writes to its peers: `down` for a proxy. */
    readonly replyDirection: FaultDirection | "any" = "any",
  ) {
    for (const spec of initial) this.add(spec);
  }

  get faults(): readonly ActiveFault[] {
    return this.list;
  }

  /** True once any fault was in force: connections get a fault stage from then on. */
  get active(): boolean {
    return this.everActive;
  }

  /** Runs `then` when the first fault arrives (live connections then get their stage). */
  onActivate(then: () => void): void {
    this.activated.push(then);
  }

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = { ...spec, id: nextId++ };
    this.list = [...this.list, fault];
    this.changed();
    return fault;
  }

  /** Removes one fault by id; false if it is not here. */
  remove(id: number): boolean {
    const before = this.list.length;
    this.list = this.list.filter((f) => f.id !== id);
    if (this.list.length === before) return false;
    this.changed();
    return true;
  }

  /** Replaces every fault with `faults`, ids kept (under --workers: the group's faults). */
  restore(faults: readonly ActiveFault[]): void {
    this.list = [...faults];
    this.changed();
  }

  /** Removes every fault; returns how many there were. */
  clear(): number {
    const count = this.list.length;
    this.list = [];
    this.changed();
    return count;
  }

  /** Whether a connection opening now gets the faults (chosen once, at connect). */
  draw(): boolean {
    return this.share >= 1 || Math.random() < this.share;
  }

  count(kind: FaultKind): void {
    this.applied.set(kind, (this.applied.get(kind) ?? 0) + 1);
  }

  /** The faults in force for one direction (a proxy's `up`/`down`), or for a service's replies. */
  settings(direction: FaultDirection | "any" = this.replyDirection): FaultSettings {
    const cached = this.folded.get(direction);
    if (cached !== undefined) return cached;
    const folded = fold(this.list.filter((f) => f.direction === undefined || f.direction === direction));
    this.folded.set(direction, folded);
    return folded;
  }

  private changed(): void {
    this.folded = new Map();
    if (this.list.length > 0 && !this.everActive) {
      this.everActive = true;
      for (const then of this.activated) then();
    }
  }
}

function fold(faults: readonly ActiveFault[]): FaultSettings {
  if (faults.length === 0) return NONE;
  const s: FaultSettings = { ...NONE, none: false };
  for (const f of faults) {
    switch (f.kind) {
      case "latency":
        s.latencyMs = f.value;
        break;
      case "jitter":
        s.jitterMs = f.value;
        break;
      case "bandwidth":
        s.bandwidth = f.value;
        break;
      case "slice":
        s.sliceMin = f.value;
        s.sliceMax = f.max ?? f.value;
        break;
      case "stall":
        s.stallMs = f.value;
        s.stallId = f.id;
        break;
      default:
        s[f.kind] = f.value;
    }
  }
  return s;
}
