// What a person reads: the live progress line on a terminal and the final table.
import type { LatencySummary } from "./histogram.js";
import type { ProgressSnapshot } from "./recorder.js";
import { type BenchResult, errorTotal } from "./result.js";
import { formatOutcomes } from "./thresholds.js";

const ms = (us: number) => (us >= 100_000 ? `${(us / 1000).toFixed(0)}ms` : `${(us / 1000).toFixed(2)}ms`);
const int = (n: number) => n.toLocaleString("en-US");

function formatLatency(l: LatencySummary): string {
  if (l.count === 0) return "no samples";
  return `p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}  (${int(l.count)} samples)`;
}

function formatErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors).filter(([, n]) => n > 0);
  if (entries.length === 0) return "none";
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${int(n)}`)
    .join(", ");
}

/** The final table, one row per aspect. */
export function formatResult(r: BenchResult): string {
  const loop = r.rate > 0 ? `open loop at ${int(r.rate)}/s` : "closed loop";
  const unit =
    r.mode === "connect"
      ? "connects"
      : r.mode === "chat"
        ? "deliveries"
        : r.mode === "script"
          ? "iterations"
          : "msgs";
  const rows: Array<[string, string]> = [
    [
      "run",
      `${r.mode} ${r.target} over ${r.transport}, ${int(r.conns)} ${r.transport === "udp" ? "sockets" : "conns"}, pipeline ${r.pipeline}, ${loop}, ${r.workers} worker${r.workers > 1 ? "s" : ""}`,
    ],
  ];
  if (r.prefix !== undefined) rows.push(["prefix", JSON.stringify(r.prefix)]);
  rows.push([
    r.mode === "connect" ? "connections" : "requests",
    `sent ${int(r.sent)}, replies ${int(r.replies)}, ok ${int(r.ok)}, mismatches ${int(r.mismatches)}, lost ${int(r.lost)}`,
  ]);
  if (r.chat) {
    const c = r.chat;
    rows.push([
      "fan-out",
      `${int(c.receivers)} receivers (${int(c.receiversSynced)} synced) x ${int(c.senders)} senders: ${int(c.delivered)}/${int(c.expectedDeliveries)} delivered, missing ${int(c.missing)}, duplicate/reordered ${int(c.duplicateOrReordered)}${c.floodNotices > 0 ? `, flood-control notices ${int(c.floodNotices)}` : ""}`,
    ]);
  }
  if (r.udp) {
    const u = r.udp;
    rows.push([
      "datagrams",
      `sent ${int(u.sent)}, received ${int(u.received)}, lost ${int(u.lost)}, duplicated ${int(u.duplicated)}, reordered ${int(u.reordered)}`,
    ]);
  }
  if (r.connect) {
    const c = r.connect;
    rows.push([
      "hold",
      `${int(c.opened)} opened in ${c.rampSeconds}s, ${int(c.failed)} failed, ${int(c.heldAtEnd)} still open after ${c.holdSeconds}s`,
    ]);
  }
  rows.push([
    "throughput",
    `${int(r.msgsPerSec)} ${unit}/s${r.mode === "connect" ? "" : `, ${formatMb(r.mbPerSec)} MB/s`} over ${r.seconds}s (${int(r.measured)} measured)${r.rate > 0 ? `, sent ${int(r.sentPerSec)}/s` : ""}`,
  ]);
  rows.push([r.mode === "connect" ? "connect time" : "latency", formatLatency(r.latencyUs)]);
  // Open loop: from the intended send (above) and from the actual one, which hides queueing.
  if (r.uncorrectedUs !== undefined) rows.push(["uncorrected", formatLatency(r.uncorrectedUs)]);
  rows.push(["errors", formatErrors(r.errors)]);
  rows.push([
    "bench cpu",
    `${r.cpuPercent}% of one core${r.workers > 1 ? ` (over ${r.workers} workers)` : ""}${r.cpuUsPerReply > 0 ? `, ${r.cpuUsPerReply} us per reply` : ""}`,
  ]);
  if (r.firstMismatch !== undefined) rows.push(["first mismatch", r.firstMismatch]);
  if (r.script !== undefined) {
    const s = r.script;
    rows.push([
      "script",
      `${s.file}, seed ${s.seed}: ${int(s.iterations)} iterations, ${int(s.failed)} failed`,
    ]);
    for (const [name, l] of Object.entries(s.steps)) rows.push([`  ${name}`, formatLatency(l)]);
    if (s.firstError !== undefined) rows.push(["first error", s.firstError]);
  }
  if (r.thresholds !== undefined) rows.push(["thresholds", formatOutcomes(r.thresholds)]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n")}\n`;
}

/** A one-line status for a terminal, rewritten in place: the last second's figures. */
export class ProgressLine {
  private readonly startedAt = Date.now();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly totalMs: number | undefined,
  ) {}

  update(now: ProgressSnapshot): void {
    const s = now.second;
    if (s === undefined) return;
    const elapsed = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    const total = this.totalMs === undefined ? "" : `/${(this.totalMs / 1000).toFixed(1)}`;
    const rate = s.len > 0 ? Math.round(s.replies / s.len) : 0;
    this.out.write(
      `\r\x1b[K[${elapsed}${total}s] ${int(rate)}/s  replies ${int(now.replies)}  errors ${int(now.errors)}  mismatches ${int(now.mismatches)}  p50 ${ms(s.p50)}  p99 ${ms(s.p99)}`,
    );
  }

  clear(): void {
    this.out.write("\r\x1b[K");
  }
}

export function failedSummary(r: BenchResult): string | undefined {
  const errors = errorTotal(r.errors);
  if (r.mismatches === 0 && r.lost === 0 && errors === 0 && r.ok > 0) return undefined;
  return `${int(r.mismatches)} mismatches, ${int(r.lost)} lost, ${int(errors)} errors, ${int(r.ok)} ok`;
}

/** Two decimals, as before; more for trickles that two decimals would show as 0. */
function formatMb(mb: number): string {
  return mb >= 0.01 || mb === 0 ? mb.toFixed(2) : String(mb);
}
