// Micro-benchmarks of the codecs (tinybench): decode throughput for small and
// large lines and frames, whole and split into small chunks. `npm run bench:codecs`.
import { Bench } from "tinybench";
import { encodeFrame, lengthPrefixed } from "../src/codecs/length-prefixed.js";
import { lines } from "../src/codecs/lines.js";

function lineStream(count: number, size: number): Buffer {
  return Buffer.from(`${"a".repeat(size)}\n`.repeat(count));
}

function split(buf: Buffer, every: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += every) out.push(buf.subarray(i, i + every));
  return out;
}

const small = lineStream(1000, 64); // 65 KB of 64-byte lines, one chunk
const smallSplit = split(small, 1460); // as MSS-sized reads
const big = lineStream(16, 4096);
const frames = Buffer.concat(Array.from({ length: 1000 }, () => encodeFrame(Buffer.alloc(64, 0x62))));
const framesSplit = split(frames, 1460);

let messages = 0;
const count = () => {
  messages++;
};
const bench = new Bench({ time: 1000 });
bench
  .add("lines: 1000 x 64 B in one chunk", () => {
    const c = lines().create(count);
    c.push(small);
  })
  .add("lines: 1000 x 64 B in 1460 B chunks", () => {
    const c = lines().create(count);
    for (const chunk of smallSplit) c.push(chunk);
  })
  .add("lines: 16 x 4 KiB in one chunk", () => {
    const c = lines().create(count);
    c.push(big);
  })
  .add("length: 1000 x 64 B frames in one chunk", () => {
    const c = lengthPrefixed().create(count);
    c.push(frames);
  })
  .add("length: 1000 x 64 B frames in 1460 B chunks", () => {
    const c = lengthPrefixed().create(count);
    for (const chunk of framesSplit) c.push(chunk);
  })
  .add("lines: encode 1000 replies with prefix", () => {
    const c = lines().create(count);
    const out: Buffer[] = [];
    const prefix = Buffer.from("ECHO: ");
    const payload = small.subarray(0, 64);
    for (let i = 0; i < 1000; i++) c.encode(out, payload, prefix);
  });

await bench.run();
console.log("codec micro-benchmarks (each op = 1000 messages unless noted)");
console.table(
  bench.tasks.map((t) => {
    const r = t.result as { throughput?: { mean: number }; latency?: { mean: number } } | undefined;
    const opsPerSec = r?.throughput?.mean ?? 0;
    return {
      task: t.name,
      "ops/s": Math.round(opsPerSec),
      "messages/s (M)": t.name.includes("16 x")
        ? ((opsPerSec * 16) / 1e6).toFixed(2)
        : ((opsPerSec * 1000) / 1e6).toFixed(1),
    };
  }),
);
if (messages === 0) throw new Error("no messages decoded");
