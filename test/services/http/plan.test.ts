import { describe, expect, it } from "vitest";
import { parseDelay, planResponse } from "../../../src/services/http/plan.js";

const defaults = { delayMs: 4000, status: 200, maxDelayMs: 60_000 };

describe("planResponse", () => {
  it("answers any path with the defaults", () => {
    expect(planResponse("/", defaults)).toEqual({ kind: "reply", delayMs: 4000, status: 200 });
    expect(planResponse("/some/where?x=1", defaults)).toEqual({ kind: "reply", delayMs: 4000, status: 200 });
  });

  it("takes /delay/{seconds}, /status/{code} and query overrides", () => {
    expect(planResponse("/delay/2", defaults)).toMatchObject({ delayMs: 2000, status: 200 });
    expect(planResponse("/delay/0.5", defaults)).toMatchObject({ delayMs: 500 });
    expect(planResponse("/status/503", defaults)).toMatchObject({ delayMs: 4000, status: 503 });
    expect(planResponse("/x?delay=250ms&status=201", defaults)).toMatchObject({ delayMs: 250, status: 201 });
    expect(planResponse("/delay/3?delay=1", defaults)).toMatchObject({ delayMs: 1000 });
    expect(planResponse("/echo?delay=0", defaults)).toEqual({ kind: "echo", delayMs: 0, status: 200 });
  });

  it("answers /healthz at once", () => {
    expect(planResponse("/healthz?delay=5", defaults)).toEqual({ kind: "health" });
  });

  it("refuses delays over the cap and bad values, saying why", () => {
    expect(planResponse("/delay/61", defaults)).toEqual({
      kind: "bad",
      message: "delay 61s exceeds the maximum 60s (--max-delay)",
    });
    expect(planResponse("/delay/abc", defaults)).toMatchObject({ kind: "bad" });
    expect(planResponse("/status/99", defaults)).toMatchObject({ kind: "bad" });
    expect(planResponse("/status/600", defaults)).toMatchObject({ kind: "bad" });
    expect(planResponse("/?status=2000", defaults)).toMatchObject({ kind: "bad" });
  });

  it("parses delays", () => {
    expect(parseDelay("2")).toBe(2000);
    expect(parseDelay("250ms")).toBe(250);
    expect(parseDelay("1m")).toBe(60_000);
    expect(parseDelay("-1")).toBeUndefined();
    expect(parseDelay("1h")).toBeUndefined();
  });
});
