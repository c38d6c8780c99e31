// The floor of a Node echo client: ping-pong over CONNS connections, one reused 64-byte
// request, replies only counted by their newlines (no verification, no histogram, no
// timestamps). What it spends per reply is what Node's own socket path costs; the rest of
// what `echoplex bench` spends is its own work.
// Usage: node benchmarks/node-floor-client.mjs PORT [CONNS=100] [SECONDS=5] [WARMUP=1] [SIZE=64]
import { connect } from "node:net";

const [port, conns = 100, seconds = 5, warmup = 1, size = 64] = process.argv.slice(2).map(Number);
const request = Buffer.alloc(size + 1, 0x61);
request[size] = 0x0a;
let windowReplies = 0;
let measuring = false;
const sockets = [];
for (let i = 0; i < conns; i++) {
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  socket.on("connect", () => socket.write(request));
  socket.on("data", (chunk) => {
    let n = 0;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) n++;
    if (measuring) windowReplies += n;
    for (let k = 0; k < n; k++) socket.write(request);
  });
  socket.on("error", () => {});
  sockets.push(socket);
}
setTimeout(() => {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  setTimeout(() => {
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    const cpuUs = cpu.user + cpu.system;
    console.log(
      JSON.stringify({
        replies: windowReplies,
        msgsPerSec: Math.round(windowReplies / wall),
        cpuUsPerReply: windowReplies > 0 ? Math.round((cpuUs / windowReplies) * 100) / 100 : 0,
        cpuPercent: Math.round(cpuUs / 10_000 / wall),
      }),
    );
    for (const s of sockets) s.resetAndDestroy?.() ?? s.destroy();
    process.exit(0);
  }, seconds * 1000);
}, warmup * 1000);
