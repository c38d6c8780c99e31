// The worker's side of `--workers` (and `--workers` parsing), apart from the primary's
// supervisor so that a single-process server does not load node:cluster (about 2 MiB of RSS).
import type { Cluster } from "node:cluster";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { boundPorts } from "../core/reuse-port.js";
import type { ListenInfo } from "../core/server.js";
import { EchoplexError } from "../errors.js";
import type { ListeningRow } from "./listening.js";

/** Messages between the primary and its workers (over the cluster IPC channel). */
export type ClusterMessage =
  | {
      type: "echoplex:listening";
      rows: ListeningRow[];
      listening: ListenInfo[];
      /** The worker's TCP/UDP ports bind by bind (under reuseport, the others bind these). */
      ports: number[];
    }
  | { type: "echoplex:shutdown" };

export const WORKER_ENV = "ECHOPLEX_WORKER";

/** Parses `--workers`: a positive number or `auto` (one per core). */
export function parseWorkers(text: string): number {
  if (text === "auto") return availableParallelism();
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new EchoplexError("ERR_BAD_OPTION", `bad --workers "${text}": expected a number >= 1 or "auto"`);
  }
  return Number(text);
}

/** True in a worker forked by runPrimary (it reports to the primary instead of printing). */
export function isClusterWorker(): boolean {
  // Only a process our primary forked has the variable: any other is told so without
  // loading node:cluster (whose own marker, NODE_UNIQUE_ID, a worker deletes at start).
  if (process.env[WORKER_ENV] !== "1") return false;
  return (createRequire(import.meta.url)("node:cluster") as Cluster).isWorker;
}

/** In a worker: tells the primary what it listens on (the rows to print, and the addresses in order). */
export function reportListening(rows: ListeningRow[], listening: ListenInfo[]): void {
  const message: ClusterMessage = { type: "echoplex:listening", rows, listening, ports: boundPorts() };
  process.send?.(message);
}

/** In a worker: calls `drain` when the primary asks the group to shut down. */
export function onPrimaryShutdown(drain: () => void): void {
  process.on("message", (message: ClusterMessage) => {
    if (message?.type === "echoplex:shutdown") drain();
  });
}
