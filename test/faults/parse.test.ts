// The --fault grammar: every kind parses to its value, mistakes are ERR_FAULT_SYNTAX.
import { describe, expect, it } from "vitest";
import { EchoplexError } from "../../src/errors.js";
import { parseFault } from "../../src/faults/parse.js";
import { FaultRegistry } from "../../src/faults/registry.js";

describe("parseFault", () => {
  it("parses each kind into its unit", () => {
    expect(parseFault("latency=200ms")).toMatchObject({ kind: "latency", value: 200 });
    expect(parseFault("jitter=1s")).toMatchObject({ kind: "jitter", value: 1000 });
    expect(parseFault("stall=5s")).toMatchObject({ kind: "stall", value: 5000 });
    expect(parseFault("bandwidth=64k")).toMatchObject({ kind: "bandwidth", value: 65536 });
    expect(parseFault("slice=1-64")).toMatchObject({ kind: "slice", value: 1, max: 64 });
    expect(parseFault("slice=8")).toMatchObject({ kind: "slice", value: 8, max: 8 });
    for (const kind of ["reset", "close", "truncate", "drop", "corrupt"]) {
      expect(parseFault(`${kind}=0.25`)).toMatchObject({ kind, value: 0.25 });
    }
  });

  it("takes up:/down: only where directions exist (the proxy)", () => {
    expect(parseFault("down:latency=50ms", { directions: true })).toMatchObject({
      kind: "latency",
      direction: "down",
      text: "down:latency=50ms",
    });
    expect(() => parseFault("down:latency=50ms")).toThrow(/proxy only/);
  });

  it.each([
    ["latency", /kind=value/],
    ["speed=1", /unknown kind "speed"/],
    ["reset=2", /probability from 0 to 1/],
    ["drop=", /probability/],
    ["latency=fast", /bad fault "latency=fast"/],
    ["slice=64-1", /MIN <= MAX/],
    ["slice=0-4", /MIN <= MAX/],
    ["bandwidth=0", /at least 1 byte/],
  ])("refuses %s with ERR_FAULT_SYNTAX", (text, message) => {
    let caught: unknown;
    try {
      parseFault(text);
    } catch (err) {
      caught = err;
    }
    expect(EchoplexError.is(caught) && caught.code).toBe("ERR_FAULT_SYNTAX");
    expect((caught as Error).message).toMatch(message);
  });
});

describe("FaultRegistry", () => {
  it("folds the faults in force and sees removals", () => {
    const registry = new FaultRegistry([parseFault("latency=100ms")]);
    expect(registry.settings()).toMatchObject({ none: false, latencyMs: 100 });
    const drop = registry.add(parseFault("drop=0.5"));
    expect(registry.settings()).toMatchObject({ latencyMs: 100, drop: 0.5 });
    expect(registry.remove(drop.id)).toBe(true);
    expect(registry.remove(drop.id)).toBe(false);
    expect(registry.settings().drop).toBe(0);
    expect(registry.clear()).toBe(1);
    expect(registry.settings().none).toBe(true);
  });

  it("keeps directional faults to their direction", () => {
    const registry = new FaultRegistry([parseFault("up:latency=10ms", { directions: true })]);
    expect(registry.settings("up").latencyMs).toBe(10);
    expect(registry.settings("down").none).toBe(true);
  });

  it("tells its owner once when the first fault arrives", () => {
    const registry = new FaultRegistry();
    let calls = 0;
    registry.onActivate(() => calls++);
    expect(registry.active).toBe(false);
    registry.add(parseFault("latency=1ms"));
    registry.add(parseFault("latency=2ms"));
    expect([registry.active, calls]).toEqual([true, 1]);
  });
});
