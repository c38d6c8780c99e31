// `--hdr-log FILE`: the run's latency as an HdrHistogram interval log (one compressed
// histogram per second, microseconds), the format HistogramLogReader, HdrHistogram's
// HistogramLogProcessor and HdrHistogramVisualizer read. The intervals add up to the
// histogram the summary's percentiles come from.
import { writeFileSync } from "node:fs";
import * as hdr from "hdr-histogram-js";
import { EchoplexError } from "../errors.js";
import type { BenchResult } from "./result.js";

/** The log's text; `startEpochMs` is when the run started (the log's StartTime). */
export function hdrLogText(r: BenchResult, startEpochMs: number): string {
  let text = "";
  const writer = new hdr.HistogramLogWriter((line) => {
    text += line;
  });
  writer.outputComment(`echoplex bench ${r.mode} ${r.target}, latency in microseconds`);
  writer.outputLogFormatVersion();
  writer.outputStartTime(startEpochMs);
  writer.outputLegend();
  for (const interval of r.intervals ?? []) {
    const histogram = hdr.decodeFromCompressedBase64(interval.histogram);
    // Interval_Max in milliseconds, as HdrHistogram's own tools print it for microsecond values.
    writer.outputIntervalHistogram(histogram, interval.start, interval.start + interval.len, 1000);
  }
  return text;
}

export function writeHdrLog(file: string, r: BenchResult, startEpochMs: number): void {
  try {
    writeFileSync(file, hdrLogText(r, startEpochMs));
  } catch (err) {
    throw new EchoplexError("ERR_OUTPUT_FILE", `cannot write --hdr-log ${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
